"""Companions of :func:`toolkit.recurrence.recurrence`: decay, carry-over, spill-over.

All three reuse the primary design (``recurrence-statistics.md`` E4/E6): eligible index
turns, corrected vs matched uncorrected bursts of the same category in the same stratum
(exact trigger count, position tercile, model), intention-to-treat outcomes, a
conditional Poisson fit with a log-exposure offset and conversation-clustered SEs with a
t(G−1) reference. They are *exploratory*: p-values are Benjamini–Hochberg adjusted
(``p_bh``) across the rows of one call.

* :func:`decay` — the effect by distance from the correction (bins of assistant turns)
  and a half-life from ``log theta(d) = beta * 2**(-(d-1)/h)`` with ``h`` profiled on a
  grid.
* :func:`carryover` — the effect on the first ``window`` turns of the *next* session of
  the same transcript, next to the same-session effect, and
  ``kappa = log theta_next / log theta_same``.
* :func:`spillover` — the effect of a correction of category k on the rate of other
  categories j (including ``booster`` for over-correction).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import polars as pl
from scipy import stats

from toolkit.schema import SLIP_CATEGORIES
from toolkit.stats_models import cond_poisson, cond_poisson_fallback
from toolkit.stats_panel import (
    Cluster,
    Panel,
    Transcript,
    Trials,
    build_panel,
    matched_trials,
    trial_covariates,
)

__all__ = ["DEFAULT_BINS", "bh", "carryover", "decay", "spillover"]

DEFAULT_BINS: tuple[tuple[int, int], ...] = ((1, 5), (6, 20), (21, 50), (51, 200))
"""Distance bins (assistant turns after the index turn, inclusive) of :func:`decay`."""


def bh(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (NaNs stay NaN).

    Examples
    --------
    >>> bh(np.array([0.01, 0.04, 0.03, np.nan]))
    array([0.03, 0.04, 0.04,  nan])
    """
    p = np.asarray(p, dtype=float)
    out = np.full(p.size, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    if ok.size:
        order = ok[np.argsort(p[ok], kind="stable")]
        m = ok.size
        adj = p[order] * m / np.arange(1, m + 1)
        adj = np.minimum.accumulate(adj[::-1])[::-1]
        out[order] = np.minimum(adj, 1.0)
    return out


def _segment_sum(values: np.ndarray, panel: Panel, rows: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Sum of ``values`` over rows ``row+lo .. row+hi`` (inclusive), cut at the segment end."""
    cs = np.concatenate([[0.0], np.cumsum(values, dtype=float)])
    end = panel.seg_end[rows]
    a = np.minimum(rows + lo, end)
    b = np.minimum(rows + hi + 1, end)
    return cs[b] - cs[a]


def _fit_row(
    y: np.ndarray,
    e: np.ndarray,
    X: np.ndarray,
    strata: np.ndarray,
    groups: np.ndarray,
    treated: np.ndarray,
    *,
    min_corrections: int,
    min_clusters: int,
) -> dict[str, Any]:
    """Conditional Poisson of one contrast; NaNs and a note when it cannot be fitted."""
    n_t = int(treated.sum())
    G = int(np.unique(groups).size)
    row: dict[str, Any] = {
        "n_corrections": n_t, "n_controls": int((~treated).sum()), "n_clusters": G,
        "rate_ratio": math.nan, "ci_low": math.nan, "ci_high": math.nan, "p_value": math.nan,
        "note": "",
    }
    if n_t < min_corrections:
        row["note"] = f"too few corrections ({n_t} < min_corrections={min_corrections})"
    elif min_clusters > G:
        row["note"] = f"too few clusters ({G} < min_clusters={min_clusters})"
    elif y[treated].sum() == 0 or y[~treated].sum() == 0:
        row["note"] = "no slips at all in one arm"
    if row["note"]:
        return row
    fit, note = cond_poisson_fallback(y, np.log(e), X, strata, groups)
    if fit.note:
        row["note"] = fit.note
        return row
    _, lo, hi = fit.ci(0)
    row.update(rate_ratio=math.exp(fit.beta[0]), ci_low=math.exp(lo), ci_high=math.exp(hi),
               p_value=fit.p(0), note=note)
    return row


def decay(
    turns: pl.DataFrame,
    tags: pl.DataFrame,
    *,
    bins: Sequence[tuple[int, int]] = DEFAULT_BINS,
    half_life_grid: Sequence[float] = (1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 75, 100, 150, 200, math.inf),
    window: int = 20,
    categories: Sequence[str] | None = None,
    transcript: Transcript = None,
    cluster: Cluster = "auto",
    trigger_window: int = 5,
    min_trigger: int = 1,
    refractory: int = 20,
    exposure: Literal["tokens", "turns"] = "tokens",
    max_controls: int | None = 10,
    by_model: bool = True,
    seed: int = 0,
    min_corrections: int = 5,
    min_clusters: int = 5,
) -> pl.DataFrame:
    """The correction effect by distance from the correction, and its half-life.

    Index turns, strata and controls are those of ``recurrence(..., estimators=
    ("matched",))`` with the same options; only the outcome window changes: for each
    bin ``(lo, hi)`` the outcome is the tagged slips in assistant turns ``t+lo .. t+hi``
    (cut at the session end). The half-life comes from stacked per-distance rows
    (``d = 1 .. max hi``, strata = matching stratum × d) with the treatment term
    ``A * 2**(-(d-1)/h)``; ``h`` maximises the likelihood over ``half_life_grid``
    (``inf``: no decay).

    Returns
    -------
    polars.DataFrame
        ``category``, ``term`` (``"d 1-5"``…, or ``"half-life"``), ``d_low``, ``d_high``,
        ``n_corrections``, ``n_controls``, ``n_clusters``, ``rate_ratio`` (for the
        half-life row: the effect at d = 1), ``ci_low``, ``ci_high`` (t(G−1),
        cluster-robust, ``h`` taken as known), ``p_value``, ``p_bh`` (BH over the call's
        rows), ``half_life``, ``half_life_low``, ``half_life_high`` (grid points within
        1.92 log-likelihood units of the best; this profile ignores clustering, so it is
        too narrow), ``note``; then, for :func:`toolkit.charts.decay_chart`,
        ``distance`` (bin midpoint, null on the half-life row), ``bin`` (label) and
        ``log_effect`` (the fitted log effect at d = 0, i.e. ``log theta(1) *
        2**(1/h)``); ``half_life`` is repeated on the bin rows. Chart the bin rows:
        ``decay_chart(out.filter(pl.col("term") != "half-life"))``.

    Examples
    --------
    >>> from toolkit.simulate import simulate
    >>> turns, tags, _ = simulate(seed=2, n_conversations=20, n_turns=400, truth_reps=0)
    >>> decay(turns, tags, categories=["hedge"])["term"].to_list()
    ['d 1-5', 'd 6-20', 'd 21-50', 'd 51-200', 'half-life']
    """
    panel = build_panel(turns, tags, categories=categories, transcript=transcript,
                        cluster=cluster, exposure=exposure, by_model=by_model)
    d_max = max(hi for _, hi in bins)
    rows: list[dict[str, Any]] = []
    for j, k in enumerate(panel.categories):
        tr, keep = matched_trials(panel, j, window=window, trigger_window=trigger_window,
                            min_trigger=min_trigger, refractory=refractory,
                            max_controls=max_controls, seed=seed)
        r = tr.row[keep]
        a = tr.treated[keep]
        X = trial_covariates(tr, keep, a)
        for lo, hi in bins:
            y = _segment_sum(panel.y[:, j], panel, r, lo, hi)
            e = _segment_sum(panel.exposure, panel, r, lo, hi)
            ok = e > 0
            row = _fit_row(y[ok], e[ok], X[ok], tr.stratum[keep][ok], tr.cluster[keep][ok], a[ok],
                           min_corrections=min_corrections, min_clusters=min_clusters)
            rows.append({"category": k, "term": f"d {lo}-{hi}", "d_low": lo, "d_high": hi, **row})
        rows.append({"category": k, "term": "half-life", "d_low": 1, "d_high": d_max,
                     **_half_life(panel, j, tr, keep, d_max, half_life_grid,
                                  min_corrections=min_corrections, min_clusters=min_clusters)})
    out = pl.DataFrame(rows, schema=_DECAY_SCHEMA)
    hl = out.filter(pl.col("term") == "half-life").select(
        "category",
        pl.col("half_life").alias("_h"),
        # beta at d = 0 in the chart's parameterisation exp(beta * 2**(-d / h))
        (pl.col("rate_ratio").log() * pl.lit(2.0).pow(1.0 / pl.col("half_life"))).alias("_b"),
    )
    is_bin = pl.col("term") != "half-life"
    out = out.join(hl, on="category", how="left").with_columns(
        pl.Series("p_bh", bh(out["p_value"].to_numpy())),
        distance=pl.when(is_bin).then((pl.col("d_low") + pl.col("d_high")) / 2),
        bin=pl.when(is_bin).then(pl.format("{}–{}", "d_low", "d_high")),
        half_life=pl.when(is_bin).then(pl.col("_h")).otherwise(pl.col("half_life")),
        log_effect=pl.col("_b"),
    )
    return out.select(*_DECAY_SCHEMA.names(), "distance", "bin", "log_effect")


_DECAY_SCHEMA = pl.Schema(
    {
        "category": pl.String(), "term": pl.String(), "d_low": pl.Int64(), "d_high": pl.Int64(),
        "n_corrections": pl.Int64(), "n_controls": pl.Int64(), "n_clusters": pl.Int64(),
        "rate_ratio": pl.Float64(), "ci_low": pl.Float64(), "ci_high": pl.Float64(),
        "p_value": pl.Float64(), "p_bh": pl.Float64(), "half_life": pl.Float64(),
        "half_life_low": pl.Float64(), "half_life_high": pl.Float64(), "note": pl.String(),
    }
)


def _half_life(
    panel: Panel,
    j: int,
    tr: Trials,
    keep: np.ndarray,
    d_max: int,
    grid: Sequence[float],
    *,
    min_corrections: int,
    min_clusters: int,
) -> dict[str, Any]:
    r = tr.row[keep]
    a = tr.treated[keep]
    n = r.size
    d = np.tile(np.arange(1, d_max + 1), n)
    unit = np.repeat(np.arange(n), d_max)
    rr = r[unit] + d
    live = rr < panel.seg_end[r[unit]]
    unit, d, rr = unit[live], d[live], rr[live]
    y = panel.y[rr, j]
    e = panel.exposure[rr]
    ok = e > 0
    unit, d, y, e = unit[ok], d[ok], y[ok], e[ok]
    strata = tr.stratum[keep][unit] * (d_max + 1) + d
    groups = tr.cluster[keep][unit]
    treated = a[unit]
    base = _fit_row(y, e, treated[:, None].astype(float), strata, groups, treated,
                    min_corrections=min_corrections, min_clusters=min_clusters)
    empty = {**base, "half_life": math.nan, "half_life_low": math.nan, "half_life_high": math.nan}
    if base["note"]:
        return empty
    fits = []
    for h in grid:
        w = np.ones_like(d, dtype=float) if math.isinf(h) else 0.5 ** ((d - 1) / h)
        fits.append((h, cond_poisson(y, np.log(e), (treated * w)[:, None], strata, groups)))
    good = [(h, f) for h, f in fits if not f.note]
    if not good:
        return {**empty, "note": "no half-life fit converged"}
    best_h, best = max(good, key=lambda hf: hf[1].loglik)
    inside = [h for h, f in good if f.loglik >= best.loglik - stats.chi2.ppf(0.95, 1) / 2]
    _, lo, hi = best.ci(0)
    return {
        **base,
        "rate_ratio": math.exp(best.beta[0]), "ci_low": math.exp(lo), "ci_high": math.exp(hi),
        "p_value": best.p(0), "half_life": float(best_h),
        "half_life_low": float(min(inside)), "half_life_high": float(max(inside)),
        "note": "half-life profiled on a grid; its interval ignores clustering",
    }


def carryover(
    turns: pl.DataFrame,
    tags: pl.DataFrame,
    *,
    transcript: Transcript = "single",
    window: int = 20,
    categories: Sequence[str] | None = None,
    cluster: Cluster = "auto",
    trigger_window: int = 5,
    min_trigger: int = 1,
    refractory: int = 20,
    exposure: Literal["tokens", "turns"] = "tokens",
    max_controls: int | None = 10,
    by_model: bool = True,
    seed: int = 0,
    min_corrections: int = 5,
    min_clusters: int = 5,
) -> pl.DataFrame:
    """Does a correction's effect carry into the next session of the same transcript?

    Index turns and matched controls are those of the ``matched`` estimator, restricted
    to sessions followed by another session of the same transcript (by default all
    conversations are consecutive sessions of one transcript; pass a mapping to group
    them). Two outcomes per index turn are stacked in one conditional Poisson fit
    (strata = matching stratum × outcome), so their clustered covariance is joint:
    ``same`` = tagged slips in the ``window`` turns after the index turn, ``next`` = those
    in the first ``window`` assistant turns of the next session. The ``next`` outcome also
    adjusts for log(turns left in the session).

    Returns
    -------
    polars.DataFrame
        One row per category: ``n_corrections``, ``n_controls``, ``n_clusters``,
        ``theta_same``, ``same_low``, ``same_high``, ``theta_next``, ``next_low``,
        ``next_high``, ``p_next`` (t(G−1)), ``kappa`` (= log theta_next / log
        theta_same), ``kappa_low``, ``kappa_high`` (delta method; unreliable when
        theta_same is near 1), ``note``.

    Examples
    --------
    >>> from toolkit.simulate import simulate, simulated_transcripts
    >>> turns, tags, _ = simulate(seed=2, n_conversations=10, n_sessions=3, n_turns=200,
    ...                           truth_reps=0)
    >>> out = carryover(turns, tags, transcript=simulated_transcripts(turns), categories=["hedge"])
    >>> out.columns[:4]
    ['category', 'n_corrections', 'n_controls', 'n_clusters']
    """
    panel = build_panel(turns, tags, categories=categories, transcript=transcript,
                        cluster=cluster, exposure=exposure, by_model=by_model)
    n = panel.y.shape[0]
    # first row of each session, and whether the next session continues the transcript
    s = panel.session
    first = np.flatnonzero(np.r_[True, s[1:] != s[:-1]]) if n else np.zeros(0, np.int64)
    n_sess = first.size
    s_end = np.append(first[1:], n)
    tr_of = panel.transcript[first] if n else np.zeros(0, np.int64)
    has_next = np.zeros(n_sess, dtype=bool)
    if n_sess > 1:
        has_next[:-1] = tr_of[1:] == tr_of[:-1]
    nxt_first = np.append(first[1:], n)
    nxt_end = np.append(s_end[1:], n)
    rows: list[dict[str, Any]] = []
    for j, k in enumerate(panel.categories):
        tr, keep = matched_trials(panel, j, window=window, trigger_window=trigger_window,
                            min_trigger=min_trigger, refractory=refractory,
                            max_controls=max_controls, seed=seed)
        r = tr.row[keep]
        sid = s[r]
        ok = has_next[sid]
        keep, r, sid = keep[ok], r[ok], sid[ok]
        a = tr.treated[keep]
        cs_y = np.concatenate([[0.0], np.cumsum(panel.y[:, j])])
        cs_e = np.concatenate([[0.0], np.cumsum(panel.exposure)])
        b0 = nxt_first[sid]
        b1 = np.minimum(b0 + window, nxt_end[sid])
        y_next, e_next = cs_y[b1] - cs_y[b0], cs_e[b1] - cs_e[b0]
        y_same, e_same = tr.y[keep], tr.e[keep]
        left = np.log1p(s_end[sid] - r - 1).astype(float)
        m = r.size
        X0 = trial_covariates(tr, keep, a)[:, 1:]
        typ = np.r_[np.zeros(m), np.ones(m)]
        A2 = np.r_[a, a].astype(float)
        X = np.column_stack([A2 * (typ == 0), A2 * (typ == 1), np.r_[X0, X0],
                             np.r_[np.zeros(m), left]])
        y2, e2 = np.r_[y_same, y_next], np.r_[e_same, e_next]
        st = np.r_[tr.stratum[keep] * 2, tr.stratum[keep] * 2 + 1]
        gr = np.r_[tr.cluster[keep], tr.cluster[keep]]
        okr = e2 > 0
        base = _fit_row(y2[okr], e2[okr], X[okr], st[okr], gr[okr], A2[okr] > 0,
                        min_corrections=2 * min_corrections, min_clusters=min_clusters)
        row: dict[str, Any] = {
            "category": k, "n_corrections": int(a.sum()), "n_controls": int((~a).sum()),
            "n_clusters": base["n_clusters"], "theta_same": math.nan, "same_low": math.nan,
            "same_high": math.nan, "theta_next": math.nan, "next_low": math.nan,
            "next_high": math.nan, "p_next": math.nan, "kappa": math.nan,
            "kappa_low": math.nan, "kappa_high": math.nan, "note": base["note"],
        }
        if math.isfinite(base["rate_ratio"]):
            Xf = X[okr]
            Xf = Xf[:, np.r_[True, True, np.ptp(Xf[:, 2:], axis=0) > 0]]
            fit, fnote = cond_poisson_fallback(y2[okr], np.log(e2[okr]), Xf, st[okr], gr[okr],
                                               keep=2)
            row["note"] = fnote
            if fit.note:
                row["note"] = fit.note
            else:
                _, l0, h0 = fit.ci(0)
                _, l1, h1 = fit.ci(1)
                b_s, b_n = float(fit.beta[0]), float(fit.beta[1])
                row.update(theta_same=math.exp(b_s), same_low=math.exp(l0), same_high=math.exp(h0),
                           theta_next=math.exp(b_n), next_low=math.exp(l1), next_high=math.exp(h1),
                           p_next=fit.p(1))
                if abs(b_s) > 1e-9:
                    kap = b_n / b_s
                    V = fit.cov
                    var = (V[1, 1] / b_s**2 + b_n**2 * V[0, 0] / b_s**4
                           - 2 * b_n * V[0, 1] / b_s**3)
                    q = float(stats.t.ppf(0.975, max(fit.df, 1)))
                    sd = math.sqrt(max(var, 0.0))
                    row.update(kappa=kap, kappa_low=kap - q * sd, kappa_high=kap + q * sd)
        rows.append(row)
    return pl.DataFrame(rows, schema=_CARRY_SCHEMA)


_CARRY_SCHEMA = pl.Schema(
    {
        "category": pl.String(), "n_corrections": pl.Int64(), "n_controls": pl.Int64(),
        "n_clusters": pl.Int64(), "theta_same": pl.Float64(), "same_low": pl.Float64(),
        "same_high": pl.Float64(), "theta_next": pl.Float64(), "next_low": pl.Float64(),
        "next_high": pl.Float64(), "p_next": pl.Float64(), "kappa": pl.Float64(),
        "kappa_low": pl.Float64(), "kappa_high": pl.Float64(), "note": pl.String(),
    }
)


def spillover(
    turns: pl.DataFrame,
    tags: pl.DataFrame,
    *,
    outcomes: Sequence[str] | None = None,
    window: int = 20,
    categories: Sequence[str] | None = None,
    transcript: Transcript = None,
    cluster: Cluster = "auto",
    trigger_window: int = 5,
    min_trigger: int = 1,
    refractory: int = 20,
    exposure: Literal["tokens", "turns"] = "tokens",
    max_controls: int | None = 10,
    by_model: bool = True,
    seed: int = 0,
    min_corrections: int = 5,
    min_clusters: int = 5,
) -> pl.DataFrame:
    """Effect of correcting category k on the rates of *other* categories j.

    Same index turns and matched controls as the ``matched`` estimator for k; the
    outcome is the tagged count of j in the ``window`` turns after, adjusting also for
    log(1 + j-slips in the last ``window`` turns). A rate ratio above 1 for ``booster``
    after a ``hedge`` correction is over-correction (hedging turned into overconfidence).

    Parameters
    ----------
    outcomes
        Assistant categories to look at; default: every slip category in TAGS (or
        analysed) plus ``booster`` when TAGS has it.

    Returns
    -------
    polars.DataFrame
        ``category`` (the corrected one), ``outcome``, ``n_corrections``, ``n_controls``,
        ``n_clusters``, ``rate_ratio``, ``ci_low``, ``ci_high``, ``p_value`` (t(G−1)),
        ``p_bh`` (BH over all rows), ``note``. Pairs with ``outcome == category`` are the
        own-category effect, kept for reference.

    Examples
    --------
    >>> from toolkit.simulate import simulate
    >>> turns, tags, _ = simulate(seed=2, n_conversations=20, n_turns=400, truth_reps=0,
    ...                           booster_rate=0.05)
    >>> spillover(turns, tags, categories=["hedge"])["outcome"].to_list()
    ['hedge', 'disclaimer', 'refusal', 'boilerplate', 'booster']
    """
    tag_cats = set(tags["category"].unique().to_list()) if "category" in tags.columns else set()
    pre = build_panel(turns, tags, categories=categories, transcript=transcript, cluster=cluster,
                      exposure=exposure, by_model=by_model)
    if outcomes is None:
        outs = [c for c in SLIP_CATEGORIES if c in tag_cats or c in pre.categories]
        outs += ["booster"] if "booster" in tag_cats else []
    else:
        outs = list(outcomes)
    extra = [o for o in outs if o not in pre.categories]
    panel = build_panel(turns, tags, categories=pre.categories, transcript=transcript,
                        cluster=cluster, exposure=exposure, by_model=by_model,
                        extra_categories=extra)
    series = {c: panel.y[:, i] for i, c in enumerate(panel.categories)} | panel.other
    rows: list[dict[str, Any]] = []
    from toolkit.stats_panel import window_sums

    for j, k in enumerate(panel.categories):
        tr, keep = matched_trials(panel, j, window=window, trigger_window=trigger_window,
                            min_trigger=min_trigger, refractory=refractory,
                            max_controls=max_controls, seed=seed)
        r = tr.row[keep]
        a = tr.treated[keep]
        X0 = trial_covariates(tr, keep, a)
        for o in outs:
            yo = series[o]
            back, fwd = window_sums(yo, panel.seg_start, panel.seg_end, back=window, ahead=window)
            hist = np.log1p(back[r])
            X = np.column_stack([X0, hist]) if o != k and hist.size and np.ptp(hist) > 0 else X0
            row = _fit_row(fwd[r], tr.e[keep], X, tr.stratum[keep], tr.cluster[keep], a,
                           min_corrections=min_corrections, min_clusters=min_clusters)
            rows.append({"category": k, "outcome": o, **row})
    out = pl.DataFrame(rows, schema=_SPILL_SCHEMA)
    return out.with_columns(pl.Series("p_bh", bh(out["p_value"].to_numpy()))).select(_SPILL_SCHEMA.names())


_SPILL_SCHEMA = pl.Schema(
    {
        "category": pl.String(), "outcome": pl.String(), "n_corrections": pl.Int64(),
        "n_controls": pl.Int64(), "n_clusters": pl.Int64(), "rate_ratio": pl.Float64(),
        "ci_low": pl.Float64(), "ci_high": pl.Float64(), "p_value": pl.Float64(),
        "p_bh": pl.Float64(), "note": pl.String(),
    }
)
