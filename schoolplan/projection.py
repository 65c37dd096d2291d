"""School-age population projections: enrolment by school, year and grade for a horizon.

Births in China roughly halved from 2016 to 2023, so today's enrolment says little about 2030.
This module reads multi-year ledgers and births, projects enrolment per school and grade, checks
the projection against held-out years, and scales village demand to a target year::

    history = read_enrolment_history("分年级在校生.xlsx")      # 学年, 学校代码, 一年级…九年级
    births = read_births("出生人口.csv")                       # 乡镇代码, 年份, 出生人口
    proj = cohort_projection(history, births=births, horizon=10)
    backtest(history, births=births, holdout_years=2).summary
    demand_2030 = project_demand(demand, proj, year=2030, births=births)

Years are school years named by the calendar year they start in: ``2025`` is 2025/26 (the
autumn term of 2025; "2025-2026学年" is read as 2025). Counts are pupils (在校生).

The methods in plain words
--------------------------
**Cohort progression (the default, :func:`cohort_projection`).** The pupils of a grade move up
one grade a year. How many arrive in the next grade is measured in the history as a
*grade-progression ratio* (e.g. 97 third-graders per 100 second-graders the year before, when
families move away or to the county seat). Each school gets its own ratio per grade, computed as
total pupils arriving over total pupils leaving across all the years it has; a school with few
years or few pupils is pulled toward the county's ratio as if the county had added
``projection_shrinkage_pupils`` (20) pupils at the county ratio to its history (credibility
weighting): ratio = (pupils arriving + 20 x county ratio) / (pupils leaving + 20). New pupils
enter at grade 1 (and grade 7, when pupils change school after primary):

* grade 1 with births: a school takes a share of its town's births six years before
  (``projection_school_start_age``); the share (the birth-to-grade-1 ratio) is the school's grade-1
  pupils over those births in the last ``projection_entry_years`` (3) years. Schools whose town
  has no births use the county's births. Births after the last year given are carried forward
  by ``projection_hold_method``;
* grade 1 without births: held at the mean of the last ``projection_hold_years`` (3) years
  (``projection_hold_method: mean``, the default: it does not run a falling series down to zero)
  or their straight-line trend (``trend``);
* grade 7 (and the lowest grade of a school that starts above grade 1): a share of the county's
  pupils one grade lower the year before, from the same recent years.

The low/high band covers ``projection_band_level`` (80 %) of outcomes if next years vary as much
as past years did: each step adds variance in proportion to the pupils moved (over-dispersed
Poisson; the dispersion is measured in the history), and carried-forward births or grade-1 counts
add the year-to-year variation of the series for every year carried.

**Regression (:func:`regression_projection`, for places without births).** scikit-learn fits,
per school and grade, a straight line through the pupils over the years (``school_trend``), or
one Poisson model for the county with a level per school and grade and a trend per grade
(``pooled``). Bands come from the spread of the history around the fit. A trend carries the
decline of recent years forward; it knows nothing of the births already known.

**Back-test (:func:`backtest`).** The last years of the history are held out, the method is run
on the years before, and the projection is compared with what happened: mean absolute error in
pupils and in percent, per school-year and for the county total.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from schoolplan.errors import MissingColumnError
from schoolplan.io.history import tidy_history
from schoolplan.settings import Settings

__all__ = [
    "check_history",
    "cohort_projection",
    "progression_ratios",
    "project_demand",
    "regression_projection",
]

logger = logging.getLogger(__name__)

Method = Literal["cohort", "regression"]


def check_history(history: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("school_id", "year", "grade", "pupils") if c not in history]
    if missing:
        raise MissingColumnError(f"history has no column(s) {missing}; read it with "
                                 "read_enrolment_history (columns school_id, year, grade, pupils)")
    h = tidy_history(history)
    if h.empty:
        raise ValueError("history is empty: no school, year and grade with pupils")
    bad = ~h["grade"].between(1, 9) | (h["pupils"] < 0)
    if bad.any():
        raise ValueError(f"history has {int(bad.sum())} rows with grades outside 1-9 or negative "
                         "pupils; read it with read_enrolment_history to see them with their rows")
    return h


@dataclass
class _Cube:
    """Pupils as an array [school, year, grade-1] (NaN: not taught or not reported)."""

    schools: np.ndarray
    years: np.ndarray
    p: np.ndarray
    town: dict[str, str | None]

    @classmethod
    def of(cls, h: pd.DataFrame, schools: pd.DataFrame | None) -> _Cube:
        ids = np.array(sorted(h["school_id"].unique()))
        years = np.arange(h["year"].min(), h["year"].max() + 1)
        p = np.full((len(ids), len(years), 9), np.nan)
        si = pd.Index(ids).get_indexer(h["school_id"])
        p[si, h["year"].to_numpy() - years[0], h["grade"].to_numpy() - 1] = h["pupils"].to_numpy()
        town: dict[str, str | None] = {i: None for i in ids}
        for col in ("town_code", "town"):
            if col in h:
                for sid, t in h.dropna(subset=[col]).groupby("school_id")[col].last().items():
                    town[sid] = town[sid] or str(t)
            if schools is not None and col in schools and "school_id" in schools:
                for sid, t in zip(schools["school_id"].astype(str), schools[col], strict=True):
                    if sid in town and town[sid] is None and t is not None and not pd.isna(t):
                        town[sid] = str(t)
        return cls(ids, years, p, town)

    def taught(self) -> np.ndarray:
        """[school, grade] taught in the last year (reported, with pupils in some year)."""
        return np.isfinite(self.p[:, -1, :]) & (np.nan_to_num(self.p).max(axis=1) > 0)

    def entries(self) -> np.ndarray:
        """[school, grade]: grades where pupils enter (1, 7, or the first taught grade)."""
        t = self.taught()
        below = np.zeros_like(t)
        below[:, 1:] = t[:, :-1]
        e = t & ~below
        e[:, [0, 6]] |= t[:, [0, 6]]
        return e


def _ratios(cube: _Cube, m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Progression ratios [school, grade-from] shrunk to the county's, with their ingredients."""
    t = cube.taught()
    entries = cube.entries()
    lower, upper = cube.p[:, :-1, :-1], cube.p[:, 1:, 1:]
    ok = np.isfinite(lower) & np.isfinite(upper) & (t[:, :-1] & t[:, 1:] & ~entries[:, 1:])[:, None, :]
    num = np.where(ok, upper, 0.0).sum(axis=1)
    den = np.where(ok, lower, 0.0).sum(axis=1)
    county = np.divide(num.sum(0), den.sum(0), out=np.ones(8), where=den.sum(0) > 0)
    ratio = (num + m * county) / np.maximum(den + m, 1e-12)
    ratio = np.where(den + m > 0, ratio, county)
    # dispersion (pupils^-1): Pearson residuals of the observed arrivals
    exp = ratio[:, None, :] * lower
    use = ok & (exp > 0)
    resid = np.where(use, (upper - exp) ** 2 / np.where(use, exp, 1), 0.0)
    n = use.sum(axis=(0, 1))
    k = (use.any(axis=1)).sum(axis=0)
    pooled = resid.sum() / max(1, n.sum() - k.sum())
    phi = np.where(n - k >= 5, resid.sum(axis=(0, 1)) / np.maximum(n - k, 1), pooled)
    return ratio, num, den, county, phi


def progression_ratios(history: pd.DataFrame, *, settings: Settings | None = None) -> pd.DataFrame:
    """Grade-progression ratios per school as :func:`cohort_projection` uses them.

    Returns
    -------
    pandas.DataFrame
        One row per school and transition it teaches (grade 1→2 … 5→6, 7→8, 8→9):
        ``school_id``, ``grade_from``, ``grade_to``, ``pupils_leaving`` and ``pupils_arriving``
        (summed over the history's years), ``ratio_school`` (their ratio), ``ratio_county``,
        ``weight_school`` (leaving / (leaving + projection_shrinkage_pupils)) and ``ratio`` (the
        shrunk ratio used: weight x school + (1 - weight) x county).
    """
    s = settings or Settings()
    cube = _Cube.of(check_history(history), None)
    m = s["projection_shrinkage_pupils"]
    ratio, num, den, county, _ = _ratios(cube, m)
    t = cube.taught()
    rows = []
    for i, sid in enumerate(cube.schools):
        for g in range(8):
            if t[i, g] and t[i, g + 1] and not cube.entries()[i, g + 1]:
                rows.append((sid, g + 1, g + 2, den[i, g], num[i, g],
                             num[i, g] / den[i, g] if den[i, g] > 0 else np.nan, county[g],
                             den[i, g] / (den[i, g] + m) if den[i, g] + m > 0 else 0.0, ratio[i, g]))
    return pd.DataFrame(rows, columns=["school_id", "grade_from", "grade_to", "pupils_leaving",
                                       "pupils_arriving", "ratio_school", "ratio_county",
                                       "weight_school", "ratio"])


def _hold(values: np.ndarray, years: np.ndarray, targets: np.ndarray, method: str, k: int
          ) -> tuple[np.ndarray, float]:
    """Carry a series forward by the mean or trend of its last ``k`` values; also its log-step variance."""
    ok = np.isfinite(values)
    v, y = values[ok][-k:], years[ok][-k:]
    if len(v) == 0:
        return np.zeros(len(targets)), 0.0
    if method == "trend" and len(v) >= 2:
        slope, icpt = np.polyfit(y, v, 1)
        out = np.maximum(icpt + slope * targets, 0.0)
    else:
        out = np.full(len(targets), v.mean())
    full = values[ok]
    steps = np.diff(np.log(full[full > 0])) if (full > 0).sum() >= 3 else np.array([])
    return out, float(steps.var(ddof=1)) if len(steps) >= 2 else 0.0


class _Births:
    """Births per area as series, carried forward beyond the last year given."""

    def __init__(self, births: pd.DataFrame, settings: Settings):
        self.s = settings
        kind = births.attrs.get("area") or (str(births["area"].iloc[0]) if "area" in births
                                            and len(births) else "town")
        b = births
        if kind == "village":  # villages count toward their town when the table names it
            b = b.dropna(subset=["town_code"]).groupby(["town_code", "birth_year"], as_index=False)[
                "births"].sum().rename(columns={"town_code": "area_id"}) if "town_code" in b \
                else b.iloc[0:0]
        self.series = {str(a): g.set_index("birth_year")["births"].sort_index()
                       for a, g in b.groupby("area_id")}
        county = births.groupby("birth_year")["births"].sum().sort_index()
        counts = births.groupby("birth_year")["area_id"].nunique()
        self.county = county[counts == counts.max()]  # only years every area reports

    def of(self, area: str | None) -> pd.Series:
        return self.series.get(str(area), self.county) if area is not None else self.county

    def at(self, series: pd.Series, years: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """Births in ``years`` with the years carried beyond the data and the log-step variance."""
        last = int(series.index.max())
        known = series.reindex(years).to_numpy(dtype=float)
        held, var = _hold(series.to_numpy(float), series.index.to_numpy(), years,
                          self.s["projection_hold_method"], self.s["projection_hold_years"])
        beyond = np.maximum(years - last, 0)
        return np.where(beyond > 0, held, known), beyond, var


def cohort_projection(
    history: pd.DataFrame,
    *,
    births: pd.DataFrame | None = None,
    schools: pd.DataFrame | None = None,
    horizon: int | None = None,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """Project pupils per school, year and grade by cohort progression (the default method).

    Parameters
    ----------
    history
        Long table from :func:`read_enrolment_history` (``school_id``, ``year``, ``grade``,
        ``pupils``; ``town_code`` links schools to town births). Schools reported in its last
        year are projected, for the grades they teach that year.
    births
        From :func:`read_births`. When given, grade 1 of year *y* is a share of the births of
        *y* - ``projection_school_start_age`` in the school's town (or the county's); else grade 1
        is carried forward by ``projection_hold_method``.
    schools
        A school table (:func:`schoolplan.io.read_schools`) giving ``town_code`` for schools the
        history does not place.
    horizon
        Years after the last year of the history (default ``projection_horizon_years``).
    settings
        The ``projection_*`` settings.

    Returns
    -------
    pandas.DataFrame
        ``school_id``, ``town_code``, ``year``, ``grade``, ``pupils`` (expected pupils), ``low`` and
        ``high`` (the ``projection_band_level`` band, pupils), ``observed`` (True for the last
        year of the history, included as the base). ``attrs``: ``method``, ``base_year``,
        ``intake`` (school -> how its entry grades were projected, in words) and
        ``dispersion`` (the over-dispersion of each step, pupils).
    """
    s = settings or Settings()
    h = check_history(history)
    horizon = s["projection_horizon_years"] if horizon is None else int(horizon)
    cube = _Cube.of(h, schools)
    base = int(cube.years[-1])
    alive = np.isfinite(cube.p[:, -1, :]).any(axis=1)
    taught, entries = cube.taught(), cube.entries()
    ratio, *_, phi = _ratios(cube, s["projection_shrinkage_pupils"])
    k, age = s["projection_entry_years"], s["projection_school_start_age"]
    hold_m, hold_k = s["projection_hold_method"], s["projection_hold_years"]
    from scipy.stats import norm  # here, not at the top: scipy.stats costs ~1 s to import

    z = float(norm.ppf(0.5 + s["projection_band_level"] / 2))
    future = np.arange(base + 1, base + horizon + 1)
    n_s = len(cube.schools)

    # intake plans: per school and entry grade, expected pupils and variance per future year
    bir = _Births(births, s) if births is not None and len(births) else None
    county_tot = np.nansum(cube.p, axis=0)  # [year, grade]
    county_tot[~np.isfinite(cube.p).any(axis=0)] = np.nan
    intake_mean = np.zeros((n_s, len(future), 9))
    intake_var = np.zeros((n_s, len(future), 9))
    share = np.full((n_s, 9), np.nan)  # for grades fed by the county's grade below
    how: dict[str, str] = {}
    phis: dict[str, list[tuple[float, float, float]]] = {"births": [], "feeder": [], "hold": []}
    g1_tot = county_tot[:, 0][np.isfinite(county_tot[:, 0]) & (county_tot[:, 0] > 0)]
    g1_steps = np.diff(np.log(g1_tot))
    g1_step_var = float(g1_steps.var(ddof=1)) if len(g1_steps) >= 2 else 0.0
    for i, sid in enumerate(cube.schools):
        for g in np.flatnonzero(entries[i] & alive[i]).tolist():
            obs = cube.p[i, :, g]
            if g == 0 and bir is not None:
                area = cube.town[sid] if cube.town[sid] in bir.series else None
                series = bir.of(area)
                b_hist, _, _ = bir.at(series, cube.years - age)
                b_hist = np.where(cube.years - age <= series.index.max(), b_hist, np.nan)
                ok = np.flatnonzero(np.isfinite(obs) & np.isfinite(b_hist) & (b_hist > 0))[-k:]
                if len(ok) and b_hist[ok].sum() > 0:
                    sh = obs[ok].sum() / b_hist[ok].sum()
                    b_f, beyond, var_b = bir.at(series, future - age)
                    intake_mean[i, :, g] = sh * b_f
                    intake_var[i, :, g] = (sh * b_f) ** 2 * var_b * beyond
                    phis["births"] += [(o, sh * b, 1.0) for o, b in zip(obs[ok], b_hist[ok], strict=True)]
                    how[sid] = (f"grade 1 = {sh:.4f} x births {'of town ' + str(area) if area else 'of the county'}"
                                f" {age} years before (from {len(ok)} years)")
                    continue
                logger.info("school %s: no overlap of grade 1 and births; grade 1 held (%s)", sid, hold_m)
            if g > 0:
                feed = county_tot[:-1, g - 1]
                ok = np.flatnonzero(np.isfinite(obs[1:]) & np.isfinite(feed) & (feed > 0))[-k:]
                if len(ok):
                    share[i, g] = obs[1:][ok].sum() / feed[ok].sum()
                    note = f"grade {g + 1} = {share[i, g]:.4f} x county grade {g} a year before"
                    how[sid] = f"{how[sid]}; {note}" if sid in how else note
                    phis["feeder"] += [(o, share[i, g] * f, 1.0) for o, f in zip(obs[1:][ok], feed[ok], strict=True)]
                    continue
            mean, _ = _hold(obs, cube.years, future, hold_m, hold_k)
            fit, _ = _hold(obs, cube.years, cube.years, hold_m, hold_k)
            okh = np.flatnonzero(np.isfinite(obs))[-hold_k:]
            phis["hold"] += [(obs[j], fit[j], 1.0) for j in okh]
            intake_mean[i, :, g] = mean
            intake_var[i, :, g] = mean ** 2 * g1_step_var * (future - base)
            note = f"grade {g + 1} held at the {hold_m} of the last {hold_k} years"
            how[sid] = f"{how[sid]}; {note}" if sid in how else note
    disp = {key: _dispersion(v) for key, v in phis.items()}
    disp.update({f"grade {g + 1}->{g + 2}": float(phi[g]) for g in range(8)})
    for i in range(n_s):
        for g in np.flatnonzero(entries[i]).tolist():
            src = "births" if g == 0 and "grade 1 = " in how.get(cube.schools[i], "") \
                else "feeder" if np.isfinite(share[i, g]) else "hold"
            intake_var[i, :, g] += disp[src] * intake_mean[i, :, g]

    # step the cohorts forward
    mean_now = np.where(taught & alive[:, None], np.nan_to_num(cube.p[:, -1, :]), 0.0)
    var_now = np.zeros_like(mean_now)
    out_mean = [mean_now]
    out_var = [var_now]
    for t in range(len(future)):
        m_next = np.zeros_like(mean_now)
        v_next = np.zeros_like(mean_now)
        m_next[:, 1:] = ratio * mean_now[:, :-1]
        v_next[:, 1:] = ratio ** 2 * var_now[:, :-1] + phi * ratio * mean_now[:, :-1]
        for g in range(1, 9):
            fed = np.isfinite(share[:, g]) & entries[:, g]
            tot_m, tot_v = mean_now[:, g - 1].sum(), var_now[:, g - 1].sum()
            intake_mean[fed, t, g] = share[fed, g] * tot_m
            intake_var[fed, t, g] = share[fed, g] ** 2 * tot_v + disp["feeder"] * share[fed, g] * tot_m
        m_next = np.where(entries, intake_mean[:, t, :], m_next)
        v_next = np.where(entries, intake_var[:, t, :], v_next)
        keep = taught & alive[:, None]
        mean_now, var_now = np.where(keep, m_next, 0.0), np.where(keep, v_next, 0.0)
        out_mean.append(mean_now)
        out_var.append(var_now)
    out = _frame(cube, np.concatenate([[base], future]), np.stack(out_mean, 1), np.stack(out_var, 1),
                 taught & alive[:, None], z)
    out.attrs.update(method="cohort", base_year=base, intake=how, dispersion=disp,
                     births=births is not None)
    logger.info("cohort projection %d-%d for %d schools; grade 1 from %s", base + 1, base + horizon,
                int(alive.sum()), "births" if births is not None else f"the held {hold_m}")
    return out


def _dispersion(triples: list[tuple[float, float, float]]) -> float:
    """Pearson dispersion (pupils) of observed against expected counts."""
    arr = np.array([(o, e) for o, e, _ in triples if e > 0], dtype=float)
    if len(arr) < 3:
        return 1.0
    return float(((arr[:, 0] - arr[:, 1]) ** 2 / arr[:, 1]).sum() / (len(arr) - 1))


def _frame(cube: _Cube, years: np.ndarray, mean: np.ndarray, var: np.ndarray, keep: np.ndarray,
           z: float) -> pd.DataFrame:
    si, yi, gi = np.nonzero(np.broadcast_to(keep[:, None, :], mean.shape))
    m = mean[si, yi, gi]
    sd = np.sqrt(np.maximum(var[si, yi, gi], 0.0))
    out = pd.DataFrame({
        "school_id": cube.schools[si], "town_code": [cube.town[x] for x in cube.schools[si]],
        "year": years[yi].astype(int), "grade": gi + 1, "pupils": m,
        "low": np.maximum(m - z * sd, 0.0), "high": m + z * sd, "observed": yi == 0,
    })
    return out.sort_values(["school_id", "year", "grade"]).reset_index(drop=True)


# ------------------------------------------------------------------------------------------------
# regression


def regression_projection(
    history: pd.DataFrame,
    *,
    model: Literal["school_trend", "pooled"] = "school_trend",
    horizon: int | None = None,
    years: int | None = None,
    schools: pd.DataFrame | None = None,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """Project pupils per school, year and grade by regression on the years (no births needed).

    Parameters
    ----------
    history
        As for :func:`cohort_projection`.
    model
        ``school_trend``: a straight line (scikit-learn ``LinearRegression``) through each school
        and grade's pupils over the years, never below zero; bands from the residual spread of
        that line (a prediction interval that widens away from the years fitted).
        ``pooled``: one scikit-learn ``PoissonRegressor`` for the county, log pupils = a level
        per school and grade + a trend per grade; bands from the over-dispersion of the history
        around the fit (variance = dispersion x pupils).
    horizon
        Years after the last year of the history.
    years
        Fit on the last ``years`` years only (default: all).
    schools, settings
        As for :func:`cohort_projection`.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`cohort_projection`.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LinearRegression, PoissonRegressor

    if model not in ("school_trend", "pooled"):
        raise ValueError(f"model was {model!r} but is expected to be in ['school_trend', 'pooled']")
    s = settings or Settings()
    h = check_history(history)
    horizon = s["projection_horizon_years"] if horizon is None else int(horizon)
    cube = _Cube.of(h, schools)
    base = int(cube.years[-1])
    first = cube.years[0] if years is None else max(cube.years[0], base - int(years) + 1)
    use = cube.years >= first
    yrs = cube.years[use].astype(float)
    alive = np.isfinite(cube.p[:, -1, :]).any(axis=1)
    keep = cube.taught() & alive[:, None]
    all_years = np.arange(base, base + horizon + 1)
    mean = np.zeros((len(cube.schools), len(all_years), 9))
    var = np.zeros_like(mean)
    from scipy.stats import norm  # here, not at the top: scipy.stats costs ~1 s to import

    z = float(norm.ppf(0.5 + s["projection_band_level"] / 2))
    pairs = list(zip(*np.nonzero(keep), strict=True))
    if model == "school_trend":
        resid_rel = []
        for i, g in pairs:
            v = cube.p[i, use, g]
            ok = np.isfinite(v)
            x, y = yrs[ok], v[ok]
            if len(x) >= 2:
                lr = LinearRegression().fit(x[:, None] - base, y)
                pred = lr.predict(all_years[:, None].astype(float) - base)
                dof = len(x) - 2
                rss = float(((y - lr.predict(x[:, None] - base)) ** 2).sum())
                s2 = rss / dof if dof > 0 else np.nan
                sxx = float(((x - x.mean()) ** 2).sum())
                lev = 1 + 1 / len(x) + (all_years - x.mean()) ** 2 / sxx
                if dof > 0 and y.mean() > 0:
                    resid_rel.append(s2 / max(y.mean(), 1.0))
                mean[i, :, g] = np.maximum(pred, 0.0)
                var[i, :, g] = np.where(np.isfinite(s2), s2 * lev, np.nan)
            else:
                mean[i, :, g] = y[-1] if len(y) else 0.0
                var[i, :, g] = np.nan
        disp = float(np.median(resid_rel)) if resid_rel else 1.0
        var = np.where(np.isfinite(var), var, disp * mean * (1 + all_years - base)[None, :, None])
    else:
        si, yi, gi = np.nonzero(np.isfinite(cube.p[:, use, :]) & keep[:, None, :])
        y = cube.p[:, use, :][si, yi, gi]
        cell = si * 9 + gi
        cells = np.unique(cell)
        col = np.searchsorted(cells, cell)
        n_s = len(cube.schools)
        X = _pooled_design(col, len(cells), si, n_s, gi, yrs[yi] - base)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            glm = PoissonRegressor(alpha=1e-4, solver="newton-cholesky",
                                   max_iter=200).fit(X.toarray(), y)
        fit = glm.predict(X)
        disp = float(((y - fit) ** 2 / np.maximum(fit, 1e-9)).sum() / max(1, len(y) - X.shape[1]))
        for i, g in pairs:
            c = np.searchsorted(cells, i * 9 + g)
            if c >= len(cells) or cells[c] != i * 9 + g:
                continue
            Xf = _pooled_design(np.full(len(all_years), c), len(cells), np.full(len(all_years), i),
                                n_s, np.full(len(all_years), g), (all_years - base).astype(float))
            mean[i, :, g] = glm.predict(Xf.toarray())
            var[i, :, g] = disp * mean[i, :, g]
    mean[:, 0, :] = np.where(keep, np.nan_to_num(cube.p[:, -1, :]), 0.0)
    var[:, 0, :] = 0.0
    out = _frame(cube, all_years, mean, var, keep, z)
    out.attrs.update(method=f"regression ({model})", base_year=base, dispersion={"all": disp},
                     fitted_years=[int(first), base])
    logger.info("regression projection (%s) %d-%d for %d schools", model, base + 1, base + horizon,
                int(alive.sum()))
    return out


def _pooled_design(cell: np.ndarray, n_cells: int, school: np.ndarray, n_schools: int,
                   grade: np.ndarray, t: np.ndarray):
    """Sparse design: a level per school and grade, a trend per school and one per grade."""
    from scipy import sparse

    n = len(cell)
    rows = np.arange(n)
    level = sparse.csr_matrix((np.ones(n), (rows, cell)), shape=(n, n_cells))
    by_school = sparse.csr_matrix((t, (rows, school)), shape=(n, n_schools))
    by_grade = sparse.csr_matrix((t, (rows, grade)), shape=(n, 9))
    return sparse.hstack([level, by_school, by_grade]).tocsr()


# ------------------------------------------------------------------------------------------------
# demand for a target year


def project_demand(
    demand: pd.DataFrame,
    projection: pd.DataFrame,
    *,
    year: int,
    births: pd.DataFrame | None = None,
    by: Literal["schools", "births"] | None = None,
    base_year: int | None = None,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """Scale per-village demand (``pupils_primary``, ``pupils_junior``) to a target year.

    Parameters
    ----------
    demand
        Demand points (:func:`schoolplan.io.read_demand`), counted in ``base_year``.
    projection
        From :func:`cohort_projection` or :func:`regression_projection` (with ``town_code``).
    year
        The target school year.
    births
        Births (:func:`read_births`), needed for ``by="births"``.
    by
        ``schools``: a village's children change as the pupils of the schools of its town
        (grades 1-6 for ``pupils_primary``, 7-9 for ``pupils_junior``) change from ``base_year``
        to ``year`` in the projection; a town without such schools takes the county's change.
        ``births``: as the birth cohorts of those ages (primary in year *y*: born
        *y* - 11 … *y* - 6; junior: *y* - 14 … *y* - 12, for school start age 6) in the
        village's own births (village births), else its town's, else the county's; births
        beyond the data are carried forward as in :func:`cohort_projection`.
        Default: ``births`` when births are given, else ``schools``.
    base_year
        The year the demand was counted; default the projection's base year.
    settings
        ``projection_school_start_age``, ``projection_hold_method``, ``projection_hold_years``.

    Returns
    -------
    geopandas.GeoDataFrame or pandas.DataFrame
        A copy of ``demand`` with the same columns, the two pupil columns scaled (pupils, not
        rounded). ``attrs``: ``year``, ``base_year``, ``projection_basis`` and ``factors``
        (area -> factor for primary and junior).
    """
    s = settings or Settings()
    by = by or ("births" if births is not None else "schools")
    if by not in ("schools", "births"):
        raise ValueError(f"by was {by!r} but is expected to be in ['schools', 'births']")
    base_year = int(projection.attrs.get("base_year", projection["year"].min())) \
        if base_year is None else int(base_year)
    out = demand.copy()
    levels = {"pupils_primary": range(1, 7), "pupils_junior": range(7, 10)}
    factors: dict[str, dict[str, float]] = {}
    town = out["town_code"].astype(object).where(out["town_code"].notna(), None) \
        if "town_code" in out else pd.Series(None, index=out.index, dtype=object)
    if by == "births":
        if births is None:
            raise ValueError("by='births' needs births=")
        bir = _Births(births, s)
        age = s["projection_school_start_age"]
        vill = {str(a): g.set_index("birth_year")["births"].sort_index()
                for a, g in births.groupby("area_id")} if births.attrs.get("area") == "village" else {}
        for col, grades in levels.items():
            if col not in out:
                continue
            def cohort(y: int, grades: range = grades) -> np.ndarray:
                return np.array([y - age + 1 - g for g in grades])

            keys = (out["demand_id"].astype(str) if "demand_id" in out and vill else town.astype(str))
            f = {}
            for key in keys.unique():
                series = vill.get(key) if vill else bir.series.get(key)
                series = series if series is not None else bir.county
                now, _, _ = bir.at(series, cohort(base_year))
                then, _, _ = bir.at(series, cohort(year))
                f[key] = float(np.nansum(then) / np.nansum(now)) if np.nansum(now) > 0 else 1.0
            factors[col] = f
            out[col] = out[col].astype(float) * keys.map(f).fillna(1.0).to_numpy()
    else:
        if "town_code" not in projection or projection["town_code"].isna().all():
            raise MissingColumnError("projection has no town_code: give history a 乡镇代码 column or "
                                     "pass schools= to the projection")
        for col, grades in levels.items():
            if col not in out:
                continue
            p = projection[projection["grade"].isin(list(grades))]
            per = p.groupby(["town_code", "year"])["pupils"].sum().unstack("year")
            if year not in per or base_year not in per:
                raise ValueError(f"the projection covers {sorted(projection['year'].unique())}; "
                                 f"year {year} and base year {base_year} must both be in it")
            tot = per.sum()
            county = float(tot[year] / tot[base_year]) if tot[base_year] > 0 else 1.0
            f = (per[year] / per[base_year]).where(per[base_year] > 0).dropna().to_dict()
            f = {str(k): float(v) for k, v in f.items()}
            f["(county)"] = county
            factors[col] = f
            scale = [f.get(str(t), county) for t in town]
            out[col] = out[col].astype(float) * np.array(scale)
    out.attrs.update(demand.attrs)
    out.attrs.update(year=int(year), base_year=base_year, projection_basis=by, factors=factors)
    logger.info("demand scaled from %d to %d by %s: primary %.0f -> %.0f pupils", base_year, year, by,
                float(demand["pupils_primary"].sum()) if "pupils_primary" in demand else 0.0,
                float(out["pupils_primary"].sum()) if "pupils_primary" in out else 0.0)
    return out
