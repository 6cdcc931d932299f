"""Did joining raise the family's income? A difference-in-differences of
members against matched never-members, with its uncertainty.

The design (sources in docs/monitoring.md):

1. Members are families with a member who joined between the baseline and
   the follow-up round; the comparison pool are families never in the
   groups (or the program) at all. Both need an income record in both rounds.
2. A propensity score (logit: baseline income, desil, family size, the
   head's sex) and nearest-neighbour matching with replacement, inside the
   same kecamatan, within a caliper of 0.2 standard deviations of the logit
   score (Austin 2011). Members without a match leave the analysis (common
   support); the balance table shows the standardised mean differences
   before and after.
3. The change in income regressed on membership and the same covariates,
   weighted by how often each comparison family was matched (statsmodels
   WLS), standard errors clustered by village with t(G-1) intervals; with
   fewer villages than ``bootstrap_below`` a wild cluster bootstrap-t
   (Webb's six-point weights) gives the interval instead (Cameron, Gelbach
   & Miller 2008).
4. A placebo: the same regression on the same matched families, with the
   change from a round before the baseline to the baseline as outcome,
   should find nothing (Ravallion's check). Estimates by join cohort when
   members joined in different intervals. The naive before/after beside it.
5. A verdict in plain words, with the thresholds of ``Thresholds``.

This module reads numbers only (numpy arrays in a ``Panel``); selectors.py
loads them from the database. numpy and statsmodels are imported when an
analysis runs, not when the app starts.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

from django.conf import settings

ENOUGH, LIKELY, NO_DIFFERENCE, NOT_ENOUGH, DOWN = (
    "up", "likely_up", "no_difference", "not_enough", "down")
COVARIATES = ("baseline_income", "desil", "desil_missing", "family_size", "female_head")


@dataclass(frozen=True)
class Thresholds:
    """When the data can carry a conclusion, and how sure "likely" is."""

    min_members: int = 20  # matched member families
    min_controls: int = 20  # distinct matched comparison families
    min_villages: int = 6  # villages in the matched sample
    max_smd: float = 0.25  # |SMD| after matching above this: poor balance, no conclusion
    target_smd: float = 0.1  # |SMD| after matching above this: a caveat (Austin 2011)
    likely_level: float = 0.90  # "Kemungkinan naik": this two-sided interval above zero
    bootstrap_below: int = 40  # fewer villages than this: wild cluster bootstrap
    bootstrap_draws: int = 999
    caliper_sd: float = 0.2  # caliper in SDs of the logit score

    @classmethod
    def from_settings(cls) -> Thresholds:
        given = dict(getattr(settings, "IMPACT_THRESHOLDS", {}))
        unknown = sorted(set(given) - set(cls.__dataclass_fields__))
        if unknown:
            from django.core.exceptions import ImproperlyConfigured

            raise ImproperlyConfigured(
                f"SINERGI_IMPACT_THRESHOLDS: unknown names {unknown}; known: "
                f"{sorted(cls.__dataclass_fields__)}")
        return cls(**given)


@dataclass
class Panel:
    """One row per family with incomes in both rounds (numpy arrays)."""

    family: object  # int ids
    village: object  # village codes (str)
    kecamatan: object  # kecamatan codes (str)
    treated: object  # bool: joined between the rounds
    cohort: object  # int: index of the interval the family joined in (0 for never)
    y0: object  # baseline monthly income
    y1: object  # follow-up monthly income
    ypre: object | None  # a round before the baseline (NaN when missing), or None
    desil: object  # float, NaN when unknown
    family_size: object
    female_head: object  # 0/1


@dataclass
class Estimate:
    effect: float
    se: float
    lower: float
    upper: float
    p_value: float
    likely_lower: float  # lower bound of the ``likely_level`` interval
    method: str  # "cluster" or "wild bootstrap"
    members: int
    controls: int  # distinct comparison families
    villages: int
    dropped: int  # members without a match inside the caliper
    balance: list[dict] = field(default_factory=list)  # covariate, before, after
    max_smd: float = 0.0
    sample: dict = field(default_factory=dict)  # the regression's data (tests, export)


@dataclass
class Result:
    verdict: str
    reasons: list[str]
    main: Estimate | None
    placebo: Estimate | None
    cohorts: list[tuple[int, Estimate]]
    naive_before_after: float | None
    naive_member_gap: float | None  # members minus non-members at follow-up
    members_total: int
    pool_total: int
    matched_members: object = None  # family ids (numpy)
    matched_controls: object = None  # family ids
    control_weights: object = None


def _np():
    import numpy as np

    return np


def _covariates(p: Panel, baseline, mask):
    """The matching and regression covariates of the rows in ``mask``."""
    np = _np()
    desil = p.desil[mask].astype(float)
    missing = np.isnan(desil)
    filled = np.where(missing, np.nanmedian(p.desil) if np.isfinite(p.desil).any() else 0.0,
                      desil)
    return np.column_stack([np.log1p(np.maximum(baseline[mask], 0.0)), filled,
                            missing.astype(float), p.family_size[mask].astype(float),
                            p.female_head[mask].astype(float)])


def _smd(a, b, wb, pooled_sd):
    np = _np()
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    mean_b = np.average(b, weights=wb)
    return float((a.mean() - mean_b) / pooled_sd) if pooled_sd > 0 else 0.0


def _seed(*arrays) -> int:
    """A seed from the data, so the same data gives the same interval."""
    digest = hashlib.sha256()
    for a in arrays:
        digest.update(_np().ascontiguousarray(a).tobytes())
    return int.from_bytes(digest.digest()[:8], "little")


def propensity(z, treated):
    """Logit linear predictor of membership; None when the logit cannot be
    fitted (perfect separation, a constant covariate everywhere)."""
    np = _np()
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    keep = [j for j in range(z.shape[1]) if np.ptp(z[:, j]) > 0]
    x = sm.add_constant(z[:, keep], has_constant="add")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", PerfectSeparationWarning)
        try:
            fit = sm.Logit(treated.astype(float), x).fit(disp=0, maxiter=100)
        except Exception:  # noqa: BLE001 - separation, singular matrix: no score
            return None
    score = x @ fit.params
    return score if np.isfinite(score).all() else None


def match(score, treated, strata, caliper_sd: float):
    """Nearest comparison family (with replacement) for each member, in the
    same stratum (kecamatan), within ``caliper_sd`` SDs of the score.
    Returns (member row indices, matched comparison row indices)."""
    np = _np()
    caliper = caliper_sd * float(np.std(score))
    members, partners = [], []
    for stratum in np.unique(strata[treated]):
        in_stratum = strata == stratum
        t_idx = np.flatnonzero(in_stratum & treated)
        c_idx = np.flatnonzero(in_stratum & ~treated)
        if not len(c_idx):
            continue
        order = np.argsort(score[c_idx], kind="stable")
        c_sorted, s_sorted = c_idx[order], score[c_idx][order]
        pos = np.searchsorted(s_sorted, score[t_idx])
        left = np.clip(pos - 1, 0, len(s_sorted) - 1)
        right = np.clip(pos, 0, len(s_sorted) - 1)
        d_left = np.abs(score[t_idx] - s_sorted[left])
        d_right = np.abs(s_sorted[right] - score[t_idx])
        best = np.where(d_right < d_left, right, left)
        dist = np.minimum(d_left, d_right)
        ok = dist <= caliper
        members.append(t_idx[ok])
        partners.append(c_sorted[best[ok]])
    if not members:
        return np.array([], dtype=int), np.array([], dtype=int)
    return np.concatenate(members), np.concatenate(partners)


def cluster_fit(y, x, w, clusters):
    """WLS with standard errors clustered by village (statsmodels); the
    membership coefficient is column 1. Returns (effect, se, fit)."""
    import statsmodels.api as sm

    fit = sm.WLS(y, x, weights=w).fit(cov_type="cluster", cov_kwds={"groups": clusters},
                                      use_t=True)
    return float(fit.params[1]), float(fit.bse[1]), fit


def wild_bootstrap_t(y, x, w, clusters, *, draws: int, seed: int):
    """Wild cluster bootstrap-t of coefficient 1 (unrestricted residuals,
    Webb weights): the quantiles of (b* - b) / se* for the interval. The
    coefficient is a fixed linear map of y, so each draw is one product."""
    np = _np()
    # Rows sorted by village once: a village's scores are then one reduceat.
    order = np.argsort(np.asarray(clusters).astype(str), kind="stable")
    y, x, w = y[order], x[order], w[order]
    _, groups = np.unique(np.asarray(clusters)[order].astype(str), return_inverse=True)
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    n_groups = len(starts)
    xw = x * w[:, None]
    bread = np.linalg.pinv(x.T @ xw)
    solve = np.ascontiguousarray(bread @ xw.T)  # k x n: beta = solve @ y
    a = solve[1]  # b1 = a @ y
    fitted = x @ (solve @ y)
    resid = y - fitted
    n, k = x.shape
    scale = n_groups / (n_groups - 1) * (n - 1) / (n - k)

    def se_of(u):  # u: n x B residuals -> B standard errors (CR1)
        scores = np.add.reduceat(a[:, None] * u, starts, axis=0)
        return np.sqrt(scale * (scores ** 2).sum(axis=0))

    b1 = float(a @ y)
    se1 = float(se_of(resid[:, None])[0])
    rng = np.random.default_rng(seed)
    webb = np.array([-math.sqrt(1.5), -1.0, -math.sqrt(0.5), math.sqrt(0.5), 1.0,
                     math.sqrt(1.5)])
    t_star = np.empty(draws)
    chunk = 200
    for start in range(0, draws, chunk):
        size = min(chunk, draws - start)
        v = webb[rng.integers(0, 6, size=(n_groups, size))][groups]  # n x size
        y_star = fitted[:, None] + resid[:, None] * v
        b_star = solve @ y_star
        u_star = y_star - x @ b_star
        t_star[start:start + size] = (b_star[1] - b1) / np.maximum(se_of(u_star), 1e-12)
    return b1, se1, t_star


def independent_columns(x):
    """The columns of ``x`` that add rank, in order (the constant and the
    membership first): a covariate that repeats another (family size always
    two more than a female head) would make the fit singular."""
    np = _np()
    keep: list[int] = []
    for j in range(x.shape[1]):
        trial = keep + [j]
        if np.linalg.matrix_rank(x[:, trial]) == len(trial):
            keep = trial
    return keep


def _fit(change, x, weights, clusters, n_villages: int, th: Thresholds, seed_parts) -> tuple:
    """(effect, se, lower, upper, p value, likely lower, method) of column 1."""
    np = _np()
    from scipy import stats

    effect, se, fit = cluster_fit(change, x, weights, clusters)
    if n_villages < th.bootstrap_below:
        _, _, t_star = wild_bootstrap_t(change, x, weights, clusters, draws=th.bootstrap_draws,
                                        seed=_seed(*seed_parts))
        lo_q, hi_q = np.quantile(t_star, [0.025, 0.975])
        likely_q = np.quantile(t_star, 1 - (1 - th.likely_level) / 2)
        p_value = float(np.mean(np.abs(t_star) >= abs(effect / se))) if se > 0 else 1.0
        return (effect, se, float(effect - hi_q * se), float(effect - lo_q * se), p_value,
                float(effect - likely_q * se), "wild bootstrap")
    df = n_villages - 1
    q = stats.t.ppf(0.975, df)
    likely = stats.t.ppf(1 - (1 - th.likely_level) / 2, df)
    return (effect, se, effect - q * se, effect + q * se, float(fit.pvalues[1]),
            effect - likely * se, "cluster")


def _empty(members=0, controls=0, villages=0, dropped=0, balance=None, worst=0.0,
           sample=None) -> Estimate:
    nan = math.nan
    return Estimate(nan, nan, nan, nan, nan, nan, "", members, controls, villages, dropped,
                    balance or [], worst, sample or {})


def estimate(p: Panel, treated, *, baseline, followup, th: Thresholds,
             pre=None) -> tuple[Estimate | None, Estimate | None]:
    """Match and estimate the effect of ``treated`` on followup - baseline;
    None when there is nobody to compare. With ``pre`` (income of a round
    before the baseline), also the placebo: the same regression on the same
    matched families with baseline - pre as the outcome, which should find
    nothing (a difference means members' incomes already moved apart
    before they joined)."""
    np = _np()
    valid = np.isfinite(baseline) & np.isfinite(followup)
    pool = valid & (treated | (p.cohort == 0))
    t = treated[pool]
    if t.sum() == 0 or (~t).sum() == 0:
        return None, None
    z = _covariates(p, baseline, pool)
    score = propensity(z, t)
    if score is None:
        return None, None
    rows_t, rows_c = match(score, t, p.kecamatan[pool], th.caliper_sd)
    dropped = int(t.sum()) - len(rows_t)
    if len(rows_t) == 0:
        return _empty(dropped=dropped), None
    uniq_c, counts = np.unique(rows_c, return_counts=True)
    rows = np.concatenate([rows_t, uniq_c])
    weights = np.concatenate([np.ones(len(rows_t)), counts.astype(float)])
    d = np.concatenate([np.ones(len(rows_t)), np.zeros(len(uniq_c))])
    change = (followup[pool] - baseline[pool])[rows]
    x = np.column_stack([np.ones(len(rows)), d, z[rows]])
    x = x[:, independent_columns(x)]
    clusters = p.village[pool][rows]
    n_villages = len(np.unique(clusters))
    # Balance: SMD before (all members vs the whole pool) and after matching.
    balance, worst = [], 0.0
    for j, name in enumerate(COVARIATES):
        col = z[:, j] if name != "baseline_income" else baseline[pool]
        pooled = math.sqrt((np.var(col[t]) + np.var(col[~t])) / 2)
        before = _smd(col[t], col[~t], np.ones(int((~t).sum())), pooled)
        after = _smd(col[rows_t], col[uniq_c], counts.astype(float), pooled)
        balance.append({"covariate": name, "before": before, "after": after,
                        "members": float(col[rows_t].mean()),
                        "comparison": float(np.average(col[uniq_c], weights=counts))})
        if math.isfinite(after):
            worst = max(worst, abs(after))
    sample = {"family": p.family[pool][rows], "village": clusters, "member": d,
              "weight": weights, "change": change, "x": x}
    if (n_villages < 2 or len(uniq_c) < 2 or x.shape[1] < 2 or not np.array_equal(x[:, 1], d)
            or len(rows) <= x.shape[1] + 1):
        # No comparison to speak of, membership a function of the covariates, or
        # no more families than coefficients: nothing to estimate.
        return _empty(len(rows_t), len(uniq_c), n_villages, dropped, balance, worst,
                      sample), None
    main = Estimate(*_fit(change, x, weights, clusters, n_villages, th, (change, weights)),
                    len(rows_t), len(uniq_c), n_villages, dropped, balance, worst, sample)
    placebo = None
    if pre is not None:
        before = pre[pool][rows]
        has = np.isfinite(before)
        members_with = int((has & (d == 1)).sum())
        if members_with >= th.min_members and int((has & (d == 0)).sum()) >= th.min_controls:
            pc = (baseline[pool][rows] - before)[has]
            px = x[has][:, independent_columns(x[has])]
            pv = len(np.unique(clusters[has]))
            if (pv >= 2 and px.shape[1] >= 2 and np.array_equal(px[:, 1], d[has])
                    and int(has.sum()) > px.shape[1] + 1):
                placebo = Estimate(*_fit(pc, px, weights[has], clusters[has], pv, th,
                                         (pc, weights[has])),
                                   members_with, int((has & (d == 0)).sum()), pv, 0)
    return main, placebo


def analyse(p: Panel, th: Thresholds | None = None) -> Result:
    """The whole analysis of one panel, with its verdict."""
    np = _np()
    th = th or Thresholds.from_settings()
    treated = np.asarray(p.treated, dtype=bool)
    members_total = int(treated.sum())
    pool_total = int((p.cohort == 0).sum())
    main, placebo = estimate(p, treated, baseline=p.y0, followup=p.y1, th=th, pre=p.ypre)
    if main is None and members_total == 0:
        main = _empty()  # nobody joined between the rounds
    cohorts = []
    found = sorted(set(int(c) for c in np.unique(p.cohort[treated])))
    if len(found) > 1:
        for c in found:
            one, _ = estimate(p, treated & (p.cohort == c), baseline=p.y0, followup=p.y1,
                              th=th)
            if one is not None:
                cohorts.append((c, one))
    naive = float(np.mean(p.y1[treated] - p.y0[treated])) if members_total else None
    never = p.cohort == 0
    gap = (float(np.mean(p.y1[treated]) - np.mean(p.y1[never]))
           if members_total and never.any() else None)
    verdict, reasons = judge(main, placebo, th)
    result = Result(verdict, reasons, main, placebo, cohorts, naive, gap, members_total,
                    pool_total)
    if main is not None and main.sample:
        s = main.sample
        result.matched_members = s["family"][s["member"] == 1]
        result.matched_controls = s["family"][s["member"] == 0]
        result.control_weights = s["weight"][s["member"] == 0]
    return result


def judge(main: Estimate | None, placebo: Estimate | None, th: Thresholds) -> tuple[str, list]:
    """The verdict and, for "not enough data", every reason (codes; the
    pages say them in words)."""
    reasons = []
    if main is None:
        return NOT_ENOUGH, ["no_comparison"]
    if main.members == 0 and not main.dropped:
        return NOT_ENOUGH, ["no_members"]
    if main.members < th.min_members:
        reasons.append("few_members")
    if main.controls < th.min_controls:
        reasons.append("few_controls")
    if main.villages < th.min_villages:
        reasons.append("few_villages")
    if main.max_smd > th.max_smd:
        reasons.append("poor_balance")
    if not math.isfinite(main.se) or main.se <= 0:
        reasons.append("no_variation")
    if placebo is not None and math.isfinite(placebo.lower) and (
            placebo.lower > 0 or placebo.upper < 0):
        reasons.append("placebo_failed")
    if reasons:
        return NOT_ENOUGH, reasons
    if main.lower > 0:
        return ENOUGH, []
    if main.upper < 0:
        return DOWN, []
    if main.likely_lower > 0:
        return LIKELY, []
    return NO_DIFFERENCE, []
