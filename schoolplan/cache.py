"""The on-disk cache of built networks and travel costs, keyed by content.

Networks are keyed by the sha256 of the input bytes + options; travel costs
(:func:`cached_arrays`) by a digest of everything they depend on (the network's arrays, the
points' coordinates, the settings that change them). Never keyed by path (r5py #476/#548 were
stale-cache bugs): a file edited in place gets a new key, a copy of a file under another name
hits the same entry. Every file in the folder is rebuilt from the inputs when missing, so the
folder is safe to delete.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from platformdirs import user_cache_dir

__all__ = ["cached", "cached_arrays", "content_digest", "default_cache_dir", "sha256_files"]

logger = logging.getLogger(__name__)

_CACHE_VERSION = "schoolplan-network-2"
T = TypeVar("T")


def default_cache_dir() -> Path:
    """``$SCHOOLPLAN_CACHE_DIR`` if set, else the platform's user cache folder (platformdirs:
    ``$XDG_CACHE_HOME/schoolplan`` or ``~/.cache/schoolplan`` on Linux,
    ``%LOCALAPPDATA%\\schoolplan\\Cache`` on Windows, ``~/Library/Caches/schoolplan`` on macOS).
    Safe to delete at any time: everything in it is rebuilt from the inputs."""
    env = os.environ.get("SCHOOLPLAN_CACHE_DIR")
    return Path(env) if env else Path(user_cache_dir("schoolplan", appauthor=False))


def sha256_files(paths: Sequence[Path]) -> str:
    """sha256 of the bytes of ``paths`` (and their suffixes), in order."""
    h = hashlib.sha256()
    for p in paths:
        h.update(p.suffix.lower().encode())
        with open(p, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def cached(
    kind: str,
    files: Sequence[Path],
    options: dict[str, Any],
    build: Callable[[str], T],
    *,
    load: Callable[[Path], T],
    save: Callable[[T, str], None],
    cache_dir: str | Path | None,
    use_cache: bool,
) -> T:
    """Return ``build(source)`` through the cache (``use_cache=False`` bypasses it entirely)."""
    digest = sha256_files(files)
    key = hashlib.sha256(
        json.dumps([_CACHE_VERSION, kind, digest, options], sort_keys=True, default=str).encode()
    ).hexdigest()
    source = f"{kind}:{files[0].name} sha256={digest[:16]} {json.dumps(options, default=str)}"
    if not use_cache:
        return build(source)
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = folder / f"network-{key[:40]}.npz"
    if target.exists():
        try:
            out = load(target)
            logger.info("network read from cache %s", target)
            return out
        except Exception as exc:
            logger.warning("ignoring unreadable cache file %s (%s)", target, exc)
    out = build(source)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".npz")
        os.close(fd)
        save(out, tmp)
        os.replace(tmp, target)
    except OSError as exc:
        logger.warning("could not write network cache %s (%s)", target, exc)
    return out


def content_digest(*parts: Any) -> str:
    """sha256 of ``parts``: numpy arrays by dtype, shape and bytes, anything else by its JSON.

    Cost: linear in the bytes hashed (about 10 ms for a 300,000-node network's arrays).
    """
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            a = np.ascontiguousarray(part)
            if a.dtype == object:
                h.update(json.dumps([str(v) for v in a.tolist()]).encode())
            else:
                h.update(f"{a.dtype.str}{a.shape}".encode())
                h.update(a.view(np.uint8).reshape(-1).tobytes() if a.size else b"")
        else:
            h.update(json.dumps(part, sort_keys=True, default=str).encode())
        h.update(b"|")
    return h.hexdigest()


def cached_arrays(
    kind: str,
    key: str,
    build: Callable[[], dict[str, np.ndarray]],
    *,
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
) -> dict[str, np.ndarray]:
    """Return ``build()`` (a dict of numeric arrays) through the cache folder.

    ``key`` must be a digest of everything the arrays depend on (:func:`content_digest`); a
    missing, partial or unreadable file is rebuilt. ``use_cache=False`` bypasses the cache.
    """
    if not use_cache:
        return build()
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = folder / f"{kind}-{hashlib.sha256((_CACHE_VERSION + key).encode()).hexdigest()[:40]}.npz"
    if target.exists():
        try:
            with np.load(target, allow_pickle=False) as z:
                out = {name: z[name] for name in z.files}
            logger.info("%s read from cache %s", kind, target)
            return out
        except Exception as exc:
            logger.warning("ignoring unreadable cache file %s (%s)", target, exc)
    out = build()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".npz")
        os.close(fd)
        with open(tmp, "wb") as f:
            np.savez(f, allow_pickle=False, **out)
        os.replace(tmp, target)
    except OSError as exc:
        logger.warning("could not write cache %s (%s)", target, exc)
    return out
