"""How well would a projection method have done? Back-tests on held-out years of the history,
and a cross-sectional progression check of one year's ledger (:mod:`schoolplan.projection`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from schoolplan.projection import Method, check_history, cohort_projection, regression_projection
from schoolplan.settings import Settings

__all__ = ["BacktestResult", "ProgressionCheck", "backtest", "progression_check"]

logger = logging.getLogger(__name__)


# ------------------------------------------------------------------------------------------------
# back-test


@dataclass(frozen=True)
class BacktestResult:
    """A back-test: the errors (``summary``) and every school-year compared (``detail``).

    ``summary`` has one row per scope (``school-year``, ``county``) and held-out year (and
    ``all``): ``n`` compared, ``actual`` and ``projected`` pupils, ``mae_pupils`` (mean absolute
    error), ``mape_pct`` (mean absolute percentage error over rows with pupils), ``wape_pct``
    (absolute errors over actual pupils, %), ``bias_pupils`` (mean projected - actual) and
    ``in_band_pct`` (share of actual values inside the low/high band).
    """

    method: str
    train_years: tuple[int, int]
    holdout_years: tuple[int, ...]
    summary: pd.DataFrame
    detail: pd.DataFrame

    def text(self) -> str:
        """One paragraph for a report note."""
        s = self.summary.set_index(["scope", "year"])
        a, c = s.loc[("school-year", "all")], s.loc[("county", "all")]
        yrs = f"{self.holdout_years[0]}-{self.holdout_years[-1]}" if len(self.holdout_years) > 1 \
            else str(self.holdout_years[0])
        return (f"Back-test ({self.method}): fitted on {self.train_years[0]}-{self.train_years[1]}, "
                f"projected {yrs} and compared with the ledger: per school and year the mean "
                f"absolute error is {a['mae_pupils']:.1f} pupils (MAPE {a['mape_pct']:.1f} %, "
                f"{a['wape_pct']:.1f} % of pupils; {a['in_band_pct']:.0f} % inside the band) over "
                f"{int(a['n'])} school-years; the county total is off by {c['mape_pct']:.1f} % on "
                f"average.")


def backtest(
    history: pd.DataFrame,
    *,
    holdout_years: int = 2,
    method: Method = "cohort",
    births: pd.DataFrame | None = None,
    schools: pd.DataFrame | None = None,
    settings: Settings | None = None,
    **options: Any,
) -> BacktestResult:
    """Hold out the last years of a history, project them from the years before, report the error.

    Parameters
    ----------
    history
        As for :func:`cohort_projection`.
    holdout_years
        How many of the last years are held out (at least 1; at least 3 years must remain).
    method
        ``cohort`` (:func:`cohort_projection`) or ``regression`` (:func:`regression_projection`;
        ``options`` such as ``model="pooled"`` are passed on).
    births
        Births; only birth years before the last fitted year are used, as a planner would have had
        them then.
    schools, settings
        As for :func:`cohort_projection`.

    Returns
    -------
    BacktestResult
        Errors per school-year (pupils summed over the grades a school teaches) and of the county
        total, per held-out year and over all.
    """
    if method not in ("cohort", "regression"):
        raise ValueError(f"method was {method!r} but is expected to be in ['cohort', 'regression']")
    h = check_history(history)
    years = sorted(h["year"].unique())
    if holdout_years < 1 or len(years) - holdout_years < 3:
        raise ValueError(f"holdout_years was {holdout_years}, but the history has {len(years)} years "
                         "and at least 3 must remain to fit on")
    cut = years[-holdout_years - 1]
    train, test = h[h["year"] <= cut], h[h["year"] > cut]
    if method == "cohort":
        b = births[births["birth_year"] < cut] if births is not None else None
        if b is not None and births is not None:
            b.attrs.update(births.attrs)
        proj = cohort_projection(train, births=b, schools=schools, horizon=holdout_years,
                                 settings=settings, **options)
    else:
        proj = regression_projection(train, schools=schools, horizon=holdout_years, settings=settings,
                                     **options)
    proj = proj[~proj["observed"]]
    p = proj.groupby(["school_id", "year"])[["pupils", "low", "high"]].sum()
    grades = proj[["school_id", "grade"]].drop_duplicates()
    a = test.merge(grades, on=["school_id", "grade"]).groupby(["school_id", "year"])["pupils"].sum()
    d = p.join(a.rename("actual"), how="inner").reset_index().rename(columns={"pupils": "projected"})
    d = d[["school_id", "year", "actual", "projected", "low", "high"]]
    d["error"] = d["projected"] - d["actual"]
    rows = []
    for scope, frame in (("school-year", d), ("county", d.groupby("year", as_index=False)[
            ["actual", "projected"]].sum().assign(error=lambda x: x["projected"] - x["actual"]))):
        for yr in [*sorted(frame["year"].unique()), "all"]:
            f = frame if yr == "all" else frame[frame["year"] == yr]
            pos = f["actual"] > 0
            rows.append({
                "scope": scope, "year": str(yr), "n": len(f), "actual": f["actual"].sum(),
                "projected": f["projected"].sum(), "mae_pupils": f["error"].abs().mean(),
                "mape_pct": 100 * (f["error"].abs()[pos] / f["actual"][pos]).mean(),
                "wape_pct": 100 * f["error"].abs().sum() / max(f["actual"].sum(), 1e-9),
                "bias_pupils": f["error"].mean(),
                "in_band_pct": 100 * ((f["actual"] >= f["low"]) & (f["actual"] <= f["high"])).mean()
                if "low" in f else np.nan,
            })
    summary = pd.DataFrame(rows)
    res = BacktestResult(proj.attrs.get("method", method), (int(years[0]), int(cut)),
                         tuple(int(y) for y in years[-holdout_years:]), summary, d)
    logger.info("%s", res.text())
    return res


# ------------------------------------------------------------------------------------------------
# cross-sectional check


@dataclass(frozen=True)
class ProgressionCheck:
    """A cross-sectional progression check of one year's ledger.

    ``schools``: per school ``pupils_lower`` (pupils in grades with a next grade taught),
    ``pupils_upper`` (pupils in those next grades), ``ratio``, ``z`` (robust z of the log ratio)
    and ``outlier``. ``groups``: per group (and ``all``) the schools, pupils, the pooled
    ``ratio`` and the ``median_school_ratio``, ``outliers``. ``transitions``: per group and grade
    pair the pooled ratio.
    """

    year: int
    schools: pd.DataFrame
    groups: pd.DataFrame
    transitions: pd.DataFrame


def progression_check(
    history: pd.DataFrame,
    *,
    year: int | None = None,
    groups: pd.Series | dict | None = None,
    settings: Settings | None = None,
) -> ProgressionCheck:
    """Compare each grade with the grade above in one year's ledger, per school and per group.

    In one year, grade *g* + 1 holds the cohort born a year before grade *g*'s. Their ratio is a
    grade-progression ratio when cohorts entered equally large: near 1 where births change slowly,
    above 1 where births fall (the older cohort is larger) or pupils arrive, below 1 where they
    leave. Only pairs of grades that both have pupils count (a school not teaching a grade reports
    0). A school whose log ratio lies more than ``projection_outlier_z`` robust z-scores (median
    and MAD over the schools with at least ``projection_outlier_min_pupils`` pupils in the lower
    grades) from the others is an outlier.

    Parameters
    ----------
    history
        Long table (:func:`read_enrolment_history`, e.g. a one-year ledger read with ``year=``).
    year
        The year checked (default: the last).
    groups
        school_id -> group label (region, district, urban/rural).
    settings
        ``projection_outlier_z`` and ``projection_outlier_min_pupils``.
    """
    s = settings or Settings()
    h = check_history(history)
    year = int(h["year"].max()) if year is None else int(year)
    w = h[h["year"] == year].pivot_table(index="school_id", columns="grade", values="pupils",
                                         aggfunc="sum")
    w = w.reindex(columns=range(1, 10))
    lo, up = w.iloc[:, :-1].to_numpy(), w.iloc[:, 1:].to_numpy()
    ok = (lo > 0) & (up > 0)
    sl, su = np.where(ok, lo, 0).sum(1), np.where(ok, up, 0).sum(1)
    grp = pd.Series(groups) if groups is not None else pd.Series(dtype=object)
    grp.index = grp.index.astype(str)
    sch = pd.DataFrame({"school_id": w.index, "group": grp.reindex(w.index).fillna("(none)").to_numpy(),
                        "pupils_lower": sl, "pupils_upper": su})
    sch["ratio"] = np.where(sl > 0, su / np.where(sl > 0, sl, 1), np.nan)
    judged = (sch["pupils_lower"] >= s["projection_outlier_min_pupils"]) & sch["ratio"].gt(0)
    logr = np.log(sch["ratio"].where(judged))
    med = logr.median()
    mad = (logr - med).abs().median()
    sch["z"] = 0.6745 * (logr - med) / mad if mad and mad > 0 else 0.0
    sch["outlier"] = judged & (sch["z"].abs() > s["projection_outlier_z"])
    sch = sch.sort_values("school_id").reset_index(drop=True)
    grows, trows = [], []
    labels = sorted(sch["group"].unique()) if groups is not None else []
    for label in [*labels, "all"]:
        m = (sch["group"] == label).to_numpy() if label != "all" else np.ones(len(sch), bool)
        f = sch[m & (sch["pupils_lower"] > 0).to_numpy()]
        grows.append({"group": label, "schools": len(f), "pupils_lower": f["pupils_lower"].sum(),
                      "pupils_upper": f["pupils_upper"].sum(),
                      "ratio": f["pupils_upper"].sum() / max(f["pupils_lower"].sum(), 1e-9),
                      "median_school_ratio": f["ratio"].median(), "outliers": int(f["outlier"].sum())})
        for g in range(8):
            d = np.where(ok[m, g], lo[m, g], 0).sum()
            if d > 0:
                trows.append({"group": label, "grade_from": g + 1, "grade_to": g + 2,
                              "schools": int(ok[m, g].sum()), "ratio": np.where(ok[m, g], up[m, g], 0).sum() / d})
    res = ProgressionCheck(year, sch, pd.DataFrame(grows), pd.DataFrame(trows))
    logger.info("progression check %d: %d schools, ratio %.3f, %d outliers", year, len(sch),
                res.groups.iloc[-1]["ratio"], int(sch["outlier"].sum()))
    return res


