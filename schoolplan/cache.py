"""The on-disk cache of built networks, keyed by the sha256 of input bytes + options.

Never keyed by path (r5py #476/#548 were stale-cache bugs): a file edited in place gets a new key,
a copy of a file under another name hits the same entry.
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

from platformdirs import user_cache_dir

__all__ = ["cached", "default_cache_dir", "sha256_files"]

logger = logging.getLogger(__name__)

_CACHE_VERSION = "schoolplan-network-1"
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
