"""Do corrected slips recur less often? Estimators that survive regression to the mean.

Corrections are triggered by bursts of slips, so the slip rate falls after a correction
even when the correction does nothing (regression to the mean). The primary estimator,
``matched``, therefore compares each corrected burst with *uncorrected* bursts of the
same category that looked the same at that moment (a sequential target-trial emulation,
``recurrence-statistics.md`` E4). ``naive_pre_post`` is there only to show how wrong the
obvious before/after comparison is; ``placebo`` runs the matched pipeline on fake
corrections and must come out at about 1.

Definitions used throughout (all counted in assistant turns, within one *segment* = a
session cut at model changes):

* trigger ``S_w``: tagged slips of the category in the last ``trigger_window`` turns,
  including the index turn; ``S_W``: the same over the last ``window`` turns;
* an *eligible* index turn has ``S_w >= min_trigger``, no correction of the category in
  the previous ``refractory`` turns and a non-empty outcome window;
* it is *treated* when the user's next turn corrects the category;
* outcome: tagged slips in the ``window`` turns after the index turn, exposure the words
  (tokens) of those turns; intention-to-treat: later corrections are not censored.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import polars as pl
from scipy import stats

from toolkit.schema import RESULT
from toolkit.stats_models import (
    cond_poisson_fallback,
    score_residuals,
    stratified_permutation_p,
)
from toolkit.stats_panel import (
    Cluster,
    Panel,
    Transcript,
    Trials,
    build_panel,
    subsample_controls,
    trial_covariates,
    trials,
)

__all__ = ["ESTIMATORS", "RESULT_EXTRA", "holm", "recurrence"]

ESTIMATORS: tuple[str, ...] = ("naive_pre_post", "matched", "survival", "placebo")

RESULT_EXTRA = pl.Schema(
    {
        "n_clusters": pl.Int64(),
        "log_rate_ratio": pl.Float64(),
        "se_log": pl.Float64(),
        "p_model": pl.Float64(),
        "estimate_kind": pl.String(),
        "median_gap_corrected": pl.Float64(),
        "median_gap_control": pl.Float64(),
        "note": pl.String(),
    }
)
"""Columns :func:`recurrence` adds after the RESULT columns (see its Returns)."""

_KIND = {
    "naive_pre_post": "rate_ratio",
    "matched": "rate_ratio",
    "placebo": "rate_ratio",
    "survival": "hazard_ratio",
}


def _empty_row(category: str, estimator: str, note: str, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "category": category,
        "estimator": estimator,
        "n_corrections": 0,
        "n_controls": 0,
        "rate_ratio": math.nan,
        "ci_low": math.nan,
        "ci_high": math.nan,
        "p_value": math.nan,
        "p_holm": math.nan,
        "n_clusters": 0,
        "log_rate_ratio": math.nan,
        "se_log": math.nan,
        "p_model": math.nan,
        "estimate_kind": _KIND.get(estimator, "rate_ratio"),
        "median_gap_corrected": math.nan,
        "median_gap_control": math.nan,
        "note": note,
    }
    row.update(kw)
    return row


def _matched_row(
    category: str,
    estimator: str,
    tr: Trials,
    treated: np.ndarray,
    base: np.ndarray,
    *,
    max_controls: int | None,
    n_permutations: int,
    seed: int,
    rng: np.random.Generator,
    min_corrections: int,
    min_clusters: int,
    cov_type: Literal["CR1", "CR3"],
) -> dict[str, Any]:
    """Stratified Poisson + permutation on the trials selected by ``base``."""
    sel_local = subsample_controls(treated[base], tr.stratum[base], max_controls, rng)
    keep = np.flatnonzero(base)[sel_local]
    a = treated[keep]
    n_t, n_c = int(a.sum()), int((~a).sum())
    G = int(np.unique(tr.cluster[keep]).size)
    counts = {"n_corrections": n_t, "n_controls": n_c, "n_clusters": G}
    if n_t < min_corrections:
        return _empty_row(
            category, estimator,
            f"too few matched corrections ({n_t} < min_corrections={min_corrections})", **counts,
        )
    if min_clusters > G:
        return _empty_row(
            category, estimator, f"too few clusters ({G} < min_clusters={min_clusters})", **counts
        )
    y, e, st, cl = tr.y[keep], tr.e[keep], tr.stratum[keep], tr.cluster[keep]
    if y[a].sum() == 0 or y[~a].sum() == 0:
        return _empty_row(
            category, estimator, "no slips at all in one arm's outcome windows", **counts
        )
    fit, fit_note = cond_poisson_fallback(
        y, np.log(e), trial_covariates(tr, keep, a), st, cl, cov_type=cov_type
    )
    if fit.note:
        return _empty_row(category, estimator, fit.note, **counts)
    se, lo, hi = fit.ci(0)
    p_perm = stratified_permutation_p(
        score_residuals(y, e, st), a, st, n_permutations=n_permutations, seed=seed
    )
    b = float(fit.beta[0])
    note = "" if n_permutations > 0 else "no permutations: p_value is the model's t-test"
    note = "; ".join(x for x in (fit_note, note) if x)
    return _empty_row(
        category,
        estimator,
        note,
        **counts,
        rate_ratio=math.exp(b),
        ci_low=math.exp(lo),
        ci_high=math.exp(hi),
        p_value=p_perm if n_permutations > 0 else fit.p(0),
        log_rate_ratio=b,
        se_log=se,
        p_model=fit.p(0),
    )


def _naive_row(category: str, panel: Panel, j: int, window: int, min_corrections: int) -> dict[str, Any]:
    from statsmodels.stats.rates import confint_poisson_2indep, test_poisson_2indep

    from toolkit.stats_panel import window_sums

    yk = panel.y[:, j]
    pre_y, post_y = window_sums(yk, panel.seg_start, panel.seg_end, back=window, ahead=window)
    pre_e, post_e = window_sums(panel.exposure, panel.seg_start, panel.seg_end, back=window, ahead=window)
    rows = np.flatnonzero(panel.corr[:, j] & (post_e > 0))
    G = int(np.unique(panel.cluster[rows]).size)
    n = int(rows.size)
    desc = "descriptive only: biased towards benefit by regression to the mean"
    counts = {"n_corrections": n, "n_controls": 0, "n_clusters": G}
    if n < min_corrections:
        return _empty_row(category, "naive_pre_post", f"too few corrections ({n} < {min_corrections}); {desc}", **counts)
    c1, e1, c0, e0 = (float(v[rows].sum()) for v in (post_y, post_e, pre_y, pre_e))
    if c0 == 0 or c1 == 0:
        return _empty_row(category, "naive_pre_post", f"no slips before or after; {desc}", **counts)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        test = test_poisson_2indep(c1, e1, c0, e0, method="score", compare="ratio")
        lo, hi = confint_poisson_2indep(c1, e1, c0, e0, method="wald-log", compare="ratio")
    note = desc + "".join(f"; statsmodels: {w.message}" for w in caught)
    rr = (c1 / e1) / (c0 / e0)
    return _empty_row(
        category, "naive_pre_post", note, **counts,
        rate_ratio=rr, ci_low=float(lo), ci_high=float(hi), p_value=float(test.pvalue),
        log_rate_ratio=math.log(rr), p_model=float(test.pvalue),
    )


def _survival_row(
    category: str,
    panel: Panel,
    j: int,
    tr: Trials,
    keep: np.ndarray,
    *,
    min_corrections: int,
    min_clusters: int,
) -> dict[str, Any]:
    from statsmodels.duration.hazard_regression import PHReg
    from statsmodels.duration.survfunc import SurvfuncRight

    rows = tr.row[keep]
    a = tr.treated[keep]
    n_t, n_c = int(a.sum()), int((~a).sum())
    G = int(np.unique(tr.cluster[keep]).size)
    counts = {"n_corrections": n_t, "n_controls": n_c, "n_clusters": G}
    if n_t < min_corrections:
        return _empty_row(category, "survival", f"too few matched corrections ({n_t} < min_corrections={min_corrections})", **counts)
    if min_clusters > G:
        return _empty_row(category, "survival", f"too few clusters ({G} < min_clusters={min_clusters})", **counts)
    slip_rows = np.flatnonzero(panel.y[:, j] > 0)
    nxt_i = np.searchsorted(slip_rows, rows, side="right")
    nxt = np.where(nxt_i < slip_rows.size, slip_rows[np.minimum(nxt_i, slip_rows.size - 1)], panel.y.shape[0])
    end = panel.seg_end[rows]
    event = nxt < end
    time = np.where(event, nxt - rows, end - 1 - rows).astype(float)
    if event[a].sum() == 0 or event[~a].sum() == 0:
        return _empty_row(category, "survival", "no later slip in one arm", **counts)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = PHReg(
                time, a.astype(float)[:, None], status=event.astype(float),
                strata=tr.stratum[keep], ties="breslow",
            ).fit(groups=tr.cluster[keep])
            b, se = float(res.params[0]), float(res.bse[0])
            med1 = float(SurvfuncRight(time[a], event[a].astype(float)).quantile(0.5))
            med0 = float(SurvfuncRight(time[~a], event[~a].astype(float)).quantile(0.5))
        except (ValueError, np.linalg.LinAlgError, IndexError) as exc:
            return _empty_row(category, "survival", f"Cox fit failed: {exc}", **counts)
    note = "".join(f"statsmodels: {w.message}; " for w in caught).rstrip("; ")
    if not (math.isfinite(b) and math.isfinite(se) and se > 0):
        return _empty_row(category, "survival", note or "Cox fit gave no usable estimate", **counts)
    q = float(stats.t.ppf(0.975, G - 1))
    return _empty_row(
        category, "survival", note, **counts,
        rate_ratio=math.exp(b), ci_low=math.exp(b - q * se), ci_high=math.exp(b + q * se),
        p_value=float(2 * stats.t.sf(abs(b) / se, G - 1)), log_rate_ratio=b, se_log=se,
        p_model=float(2 * stats.t.sf(abs(b) / se, G - 1)),
        median_gap_corrected=med1, median_gap_control=med0,
    )


def holm(p: np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values (NaNs stay NaN).

    Same numbers as ``statsmodels.stats.multitest.multipletests(p, method="holm")``
    without its ``gc.collect()`` call, which costs 0.1 s per call.

    Examples
    --------
    >>> holm(np.array([0.01, 0.04, 0.03, np.nan]))
    array([0.03, 0.06, 0.06,  nan])
    """
    p = np.asarray(p, dtype=float)
    out = np.full(p.size, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    if ok.size:
        order = ok[np.argsort(p[ok], kind="stable")]
        adj = np.maximum.accumulate(p[order] * np.arange(ok.size, 0, -1))
        out[order] = np.minimum(adj, 1.0)
    return out


def _holm(df: pl.DataFrame) -> pl.DataFrame:
    pv = df["p_value"].to_numpy()
    out = np.full(pv.size, np.nan)
    est = df["estimator"].to_numpy()
    for name in np.unique(est):
        ix = np.flatnonzero(est == name)
        out[ix] = holm(pv[ix])
    return df.with_columns(pl.Series("p_holm", out))


def recurrence(
    turns: pl.DataFrame,
    tags: pl.DataFrame,
    *,
    window: int = 20,
    categories: Sequence[str] | None = None,
    n_permutations: int = 2000,
    seed: int = 0,
    estimators: Sequence[str] = ESTIMATORS,
    cluster: Cluster = "auto",
    transcript: Transcript = None,
    trigger_window: int = 5,
    min_trigger: int = 1,
    refractory: int = 20,
    exposure: Literal["tokens", "turns"] = "tokens",
    max_controls: int | None = 10,
    by_model: bool = True,
    min_corrections: int = 5,
    min_clusters: int = 5,
    cov_type: Literal["CR1", "CR3"] = "CR3",
) -> pl.DataFrame:
    """Estimate whether corrected slips recur less often, per slip category.

    Parameters
    ----------
    turns, tags
        TURNS and TAGS frames (``toolkit.schema``). Corrections are TAGS rows in user
        turns with ``category == "correction"`` and ``target`` the slip category;
        ``target == "unspecified"`` is ignored.
    window
        Outcome window W in assistant turns after the index turn (pre-register it).
    categories
        Slip categories to analyse; default: the slip categories present in ``tags``.
    n_permutations
        Draws of the within-stratum permutation test (``matched``, ``placebo``).
    seed
        Seeds the control subsampling, the placebo draw and the permutations.
    estimators
        Any of ``naive_pre_post`` (E0: the corrected turn's next W turns over its
        previous W, score test, Wald interval on the log scale; descriptive, biased
        towards benefit), ``matched`` (E4, the primary estimator), ``survival`` (E5:
        Kaplan–Meier and a Cox model, stratified by matching stratum with
        cluster-robust SEs, of the gap to the next slip after corrected vs matched
        uncorrected index turns, censored at the segment end) and ``placebo`` (E4 on
        fake corrections drawn among the uncorrected eligible turns; about 1).
    cluster, transcript
        Inference clusters. ``transcript=None`` treats each conversation as its own
        transcript; ``"single"`` treats consecutive conversations as sessions of one
        transcript; a mapping ``conversation_id -> transcript`` groups them.
        ``cluster="auto"`` clusters by transcript when there are two or more, else by
        session (conversation).
    trigger_window, min_trigger, refractory
        Eligibility of an index turn (see the module docstring).
    exposure
        ``"tokens"`` (whitespace-separated words of the assistant turns) or ``"turns"``.
    max_controls
        Matched uncorrected index turns kept per correction and stratum (at random;
        ``None`` keeps them all).
    by_model
        If TURNS has a ``model`` column, cut segments at model changes and match on it.
    min_corrections, min_clusters
        Below these, the row carries NaN estimates and a ``note`` saying why.
    cov_type
        Cluster-robust variance of ``matched`` and ``placebo``: ``"CR3"`` (one-step
        leave-one-cluster-out jackknife, the default) or ``"CR1"``. In the calibration
        world (G ≈ 27 clusters) CR1 gave a mean SE of 0.134 against an empirical 0.154
        and null coverage 0.91; CR3 gave 0.154 and 0.945.

    Returns
    -------
    polars.DataFrame
        RESULT columns, one row per category and estimator, then the extra columns
        ``n_clusters`` (clusters among the units used), ``log_rate_ratio``, ``se_log``
        (cluster-robust), ``p_model`` (Wald test against t(G−1); for ``matched`` and
        ``placebo`` ``p_value`` is the permutation p-value), ``estimate_kind``
        (``rate_ratio`` or ``hazard_ratio``), ``median_gap_corrected`` and
        ``median_gap_control`` (Kaplan–Meier median turns to the next slip,
        ``survival`` only) and ``note`` (why a row is empty, or caveats).

        ``matched``: eligible index turns are stratified by exact ``S_w``, position
        tercile in the session and model; strata with both arms are kept, with at most
        ``max_controls`` random controls per correction. ``log E[Y] = log e +
        alpha_stratum + beta*A + covariates`` (log(1+S_W), log(1+prior corrections)) is
        fitted by conditional Poisson with cluster-robust (CR3) SEs and a t(G−1)
        interval;
        ``rate_ratio = exp(beta)``. ``p_holm`` adjusts ``p_value`` (Holm) across the
        categories of the same estimator.

    Examples
    --------
    >>> from toolkit.simulate import simulate
    >>> turns, tags, truth = simulate(seed=3, n_conversations=20, n_turns=300, truth_reps=0)
    >>> res = recurrence(turns, tags, n_permutations=200, estimators=("naive_pre_post", "matched"))
    >>> res.select("category", "estimator", "n_corrections").head(2)
    shape: (2, 3)
    ┌──────────┬────────────────┬───────────────┐
    │ category ┆ estimator      ┆ n_corrections │
    │ ---      ┆ ---            ┆ ---           │
    │ str      ┆ str            ┆ i64           │
    ╞══════════╪════════════════╪═══════════════╡
    │ hedge    ┆ naive_pre_post ┆ ...           │
    │ hedge    ┆ matched        ┆ ...           │
    └──────────┴────────────────┴───────────────┘
    """
    for est in estimators:
        if est not in ESTIMATORS:
            raise ValueError(f"unknown estimator {est!r}; choose from {list(ESTIMATORS)}")
    if window < 1 or trigger_window < 1 or refractory < 0 or min_trigger < 0:
        raise ValueError("window and trigger_window must be >= 1, refractory and min_trigger >= 0")
    panel = build_panel(
        turns, tags, categories=categories, transcript=transcript, cluster=cluster,
        exposure=exposure, by_model=by_model,
    )
    rows: list[dict[str, Any]] = []
    for j, k in enumerate(panel.categories):
        tr = trials(panel, j, window=window, trigger_window=trigger_window,
                    min_trigger=min_trigger, refractory=refractory)
        everything = np.ones(tr.row.size, dtype=bool)
        for est in estimators:
            if est == "naive_pre_post":
                rows.append(_naive_row(k, panel, j, window, min_corrections))
            elif est == "matched":
                rng = np.random.default_rng([seed, j, 1])
                rows.append(_matched_row(
                    k, est, tr, tr.treated, everything, max_controls=max_controls,
                    n_permutations=n_permutations, seed=seed * 7919 + j, rng=rng,
                    min_corrections=min_corrections, min_clusters=min_clusters,
                    cov_type=cov_type,
                ))
            elif est == "placebo":
                rng = np.random.default_rng([seed, j, 2])
                fake, base = _placebo_assignment(tr, rng)
                row = _matched_row(
                    k, est, tr, fake, base, max_controls=max_controls,
                    n_permutations=n_permutations, seed=seed * 7919 + j + 104729, rng=rng,
                    min_corrections=min_corrections, min_clusters=min_clusters,
                    cov_type=cov_type,
                )
                row["note"] = ("fake corrections at uncorrected eligible turns; expected ≈ 1. "
                               + row["note"]).strip()
                rows.append(row)
            else:
                rng = np.random.default_rng([seed, j, 1])
                keep = np.flatnonzero(subsample_controls(tr.treated, tr.stratum, max_controls, rng))
                rows.append(_survival_row(k, panel, j, tr, keep, min_corrections=min_corrections,
                                          min_clusters=min_clusters))
    schema = pl.Schema({**RESULT, **RESULT_EXTRA})
    if not rows:
        return pl.DataFrame(schema=schema)
    df = pl.DataFrame(rows, schema=schema)
    return _holm(df)


def _placebo_assignment(tr: Trials, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Fake corrections: in each stratum, as many random uncorrected turns as real ones."""
    ctrl = ~tr.treated
    uniq, s = np.unique(tr.stratum, return_inverse=True)
    m = np.bincount(s, weights=tr.treated, minlength=uniq.size).astype(np.int64)
    key = np.where(ctrl, rng.random(s.size), np.inf)
    order = np.lexsort((key, s))
    first = np.searchsorted(s[order], np.arange(uniq.size))
    rank = np.empty(s.size, dtype=np.int64)
    rank[order] = np.arange(s.size) - first[s[order]]
    fake = ctrl & (rank < m[s])
    return fake, ctrl
