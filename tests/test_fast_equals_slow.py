"""Issue 15: steps rewritten to run in about linear time give the same tables as the plain
row-by-row way they replaced, kept here as the reference ("the slow way")."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from schoolplan import catchments as ca
from schoolplan import diagnosis
from schoolplan.diagnosis import open_costs

ROOT = Path(__file__).resolve().parents[1]


def _slow_apply_merges(nearest, base, all_costs, schools, merge_into):
    """The row-by-row version of diagnosis._apply_merges (before issue 15)."""
    before = schools.assign(status="open", level=schools["level_before"].fillna(schools["level"]))
    full = ca.assign_nearest(open_costs(all_costs, before), base.groups)
    served = full.set_index(["demand_id", "group"])["school_id"]
    level = schools.set_index("school_id")["level"]
    still_open = schools[schools["status"] != "closed"].set_index("school_id")["level"]
    by_pair = all_costs.set_index(["from_id", "group", "to_id"])
    out = nearest.copy()
    for i, r in out.iterrows():
        was = served.get((r["demand_id"], r["group"]))
        target = merge_into.get(was) if was is not None else None
        if isinstance(target, tuple):
            target, only = target
            if r["group"] not in only:
                continue
        if target is None or not ca.serves(level.get(target, ""), r["group"]):
            continue
        if was in still_open.index and ca.serves(still_open[was], r["group"]):
            continue
        key = (r["demand_id"], r["group"], target)
        if key not in by_pair.index:
            continue
        c = by_pair.loc[key]
        c = c.iloc[0] if isinstance(c, pd.DataFrame) else c
        out.loc[i, ["school_id", "distance_m", "time_s", "status"]] = [target, c["distance_m"],
                                                                        c["time_s"], "merged"]
    return out


def test_merges_equal_the_row_by_row_way(monkeypatch):
    """Planet-satellite merges of the demo (satellites keep grades 1-3, grades 4-6 go to the
    planet) and a plain merge of a village school into its town's largest school."""
    import dataclasses

    from schoolplan.scenario import evaluate, load_scenario

    seen = []
    real = diagnosis._apply_merges

    def spy(*args):
        seen.append(args)
        return real(*args)

    monkeypatch.setattr(diagnosis, "_apply_merges", spy)
    evaluate(load_scenario(ROOT / "scenarios" / "demo-planet-satellite.yaml"))
    plain = load_scenario(ROOT / "scenarios" / "demo-county.yaml")
    schools = evaluate(plain).schools
    primary = schools[schools["level"] == "primary"].sort_values("enrollment", kind="mergesort")
    small = primary.iloc[0]
    into = primary[primary["town_code"] == small["town_code"]].iloc[-1]
    assert small["school_id"] != into["school_id"]
    evaluate(dataclasses.replace(plain, actions=[
        {"merge": {"school": str(small["school_id"]), "into": str(into["school_id"])}}]))
    assert len(seen) >= 2
    for args in seen:
        fast, slow = real(*args), _slow_apply_merges(*args)
        pd.testing.assert_frame_equal(fast, slow)
        assert (fast["status"] == "merged").any()
