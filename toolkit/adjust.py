"""Correct the matched rate ratio for tagger error, using a validation sample.

With sensitivity ``Se`` and a false-positive rate ``f`` (spurious tags per unit of
exposure), the tagged rate is ``lambda* = Se * lambda + f``: the ratio of tagged rates
is pulled towards 1 by ``f`` while ``Se`` cancels unless it differs between
post-correction windows and controls (differential error). ``adjust_for_tagger``
estimates ``Se`` and ``f`` (separately for post-correction windows and the rest when the
validation sample is stratified so) and undoes them
(``recurrence-statistics.md`` §3):

* ``method="subtract"``: ``lambda = (lambda* - f) / Se`` in each arm;
* ``method="ppv"`` (Rogan–Gladen style with precision and recall):
  ``lambda = lambda* * precision / Se``. Precision depends on the true rate, so one
  precision for both arms cancels in the ratio; this method only changes anything with
  a validation sample stratified by post-correction windows.

The arm rates are those of the matched sample: ``lambda*_1`` = tagged slips per
exposure in the corrected windows, ``lambda*_0`` = the controls' stratum rates
standardised to the corrected windows' exposure. The interval is a percentile bootstrap
that resamples the clusters of the matched sample and the conversations of the
validation sample together, vectorised over draws.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import polars as pl

from toolkit.stats_panel import (
    Cluster,
    Transcript,
    build_panel,
    matched_trials,
    window_sums,
)

__all__ = ["VALIDATION", "adjust_for_tagger"]

VALIDATION = pl.Schema(
    {
        "conversation_id": pl.String(),
        "turn": pl.Int64(),
        "category": pl.String(),
        "gold_count": pl.Int64(),
    }
)
"""Validation sample: gold-standard slip counts of assistant turns (``stratum`` optional:
``"post-correction"`` marks turns inside a post-correction window)."""


def _check_validation(validation: object) -> pl.DataFrame:
    if not isinstance(validation, pl.DataFrame):
        raise ValueError("validation must be a polars.DataFrame")
    for col, dtype in VALIDATION.items():
        if col not in validation.columns:
            raise ValueError(f"validation is missing column {col!r}; expected {list(VALIDATION)}")
        try:
            validation = validation.with_columns(pl.col(col).cast(dtype, strict=True))
        except pl.exceptions.PolarsError:
            raise ValueError(f"validation column {col!r} cannot be read as {dtype}") from None
    if validation["gold_count"].null_count() or (validation["gold_count"] < 0).any():
        raise ValueError("validation column 'gold_count' must be non-negative counts")
    return validation


def _rates(
    w: np.ndarray,
    y: np.ndarray,
    e: np.ndarray,
    e_post: np.ndarray,
    treated: np.ndarray,
    onehot: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Weighted arm rates and post-correction exposure shares per row of ``w``.

    ``w`` holds one row of unit weights per bootstrap draw. The control arm's rate and
    share are standardised to the treated exposure of each stratum.
    """
    t, c = treated, ~treated
    lam1 = (w[:, t] @ y[t]) / (w[:, t] @ e[t])
    pi1 = (w[:, t] @ e_post[t]) / (w[:, t] @ e[t])
    yc = (w[:, c] * y[c]) @ onehot[c]
    ec = (w[:, c] * e[c]) @ onehot[c]
    pc = (w[:, c] * e_post[c]) @ onehot[c]
    et = (w[:, t] * e[t]) @ onehot[t]
    with np.errstate(invalid="ignore", divide="ignore"):
        safe = np.where(ec > 0, ec, 1.0)
        rate = np.where(ec > 0, yc / safe, 0.0)
        share = np.where(ec > 0, pc / safe, 0.0)
        lam0 = (et * rate).sum(axis=1) / et.sum(axis=1)
        pi0 = (et * share).sum(axis=1) / et.sum(axis=1)
    return lam1, lam0, pi1, pi0


def _error_rates(
    w: np.ndarray,
    mask: np.ndarray,
    tp: np.ndarray,
    fp: np.ndarray,
    gold: np.ndarray,
    tagged: np.ndarray,
    exposure: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sensitivity, false positives per exposure and precision for each weight row."""
    wm = w[:, mask]
    with np.errstate(invalid="ignore", divide="ignore"):
        se = (wm @ tp[mask]) / (wm @ gold[mask])
        f = (wm @ fp[mask]) / (wm @ exposure[mask])
        ppv = (wm @ tp[mask]) / (wm @ tagged[mask])
    return se, f, ppv


def adjust_for_tagger(
    turns: pl.DataFrame,
    tags: pl.DataFrame,
    validation: pl.DataFrame,
    *,
    method: Literal["subtract", "ppv"] = "subtract",
    n_boot: int = 500,
    seed: int = 0,
    level: float = 0.95,
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
    min_corrections: int = 5,
    min_clusters: int = 5,
) -> pl.DataFrame:
    """Misclassification-corrected rate ratio of corrected vs matched uncorrected bursts.

    Parameters
    ----------
    turns, tags
        TURNS and TAGS, as for :func:`toolkit.recurrence.recurrence`.
    validation
        :data:`VALIDATION` rows: ``conversation_id``, ``turn``, ``category``,
        ``gold_count`` (true slips in that assistant turn, zeros included). An optional
        ``stratum`` column with ``"post-correction"`` rows makes the correction
        differential: Se and f are estimated separately for post-correction turns and the
        rest, and each arm's windows are corrected by their share of post-correction
        exposure (turns within ``window`` assistant turns after a correction of the
        category, the same definition the validation stratum should use).
    method
        ``"subtract"`` (false-positive subtraction) or ``"ppv"`` (precision/recall).
    n_boot, seed, level
        Bootstrap draws, their seed and the interval level.

    Returns
    -------
    polars.DataFrame
        One row per category: ``n_corrections``, ``n_controls``, ``n_clusters``,
        ``n_validated`` (validation turns), ``rate_ratio_tagged`` (standardised ratio of
        tagged rates), ``rate_ratio`` (adjusted), ``ci_low``, ``ci_high`` (bootstrap
        percentile), ``sensitivity``, ``precision``, ``false_positive_rate`` (per unit of
        exposure: per word with ``exposure="tokens"``), ``differential``, ``note``.
        Turn counts are matched as counts: true positives of a turn are
        ``min(tagged, gold)``.

    Examples
    --------
    >>> from toolkit.simulate import simulate, simulated_gold
    >>> turns, tags, _ = simulate(seed=1, n_conversations=30, sensitivity=0.8, truth_reps=0)
    >>> val = simulated_gold(turns).sample(fraction=0.3, seed=0)
    >>> out = adjust_for_tagger(turns, tags, val, n_boot=100)
    >>> out.select("category", "sensitivity").head(1)["sensitivity"].round(1).item()
    0.8
    """
    val = _check_validation(validation)
    if method not in ("subtract", "ppv"):
        raise ValueError("method must be 'subtract' or 'ppv'")
    panel = build_panel(turns, tags, categories=categories, transcript=transcript,
                        cluster=cluster, exposure=exposure, by_model=by_model)
    rng = np.random.default_rng(seed)
    # validation turns -> panel rows (exposure) and tagged counts
    key = pl.DataFrame({"conversation_id": panel.conversation_id, "turn": panel.turn,
                        "row": np.arange(panel.turn.size)})
    has_stratum = "stratum" in val.columns
    vj = val.join(key, on=["conversation_id", "turn"], how="inner")
    if vj.height < val.height:
        raise ValueError(
            "validation has rows that are not assistant turns of TURNS "
            f"({val.height - vj.height} of {val.height})"
        )
    rows: list[dict[str, Any]] = []
    alpha = (1 - level) / 2
    for j, k in enumerate(panel.categories):
        base: dict[str, Any] = {
            "category": k, "n_corrections": 0, "n_controls": 0, "n_clusters": 0,
            "n_validated": 0, "rate_ratio_tagged": math.nan, "rate_ratio": math.nan,
            "ci_low": math.nan, "ci_high": math.nan, "sensitivity": math.nan,
            "precision": math.nan, "false_positive_rate": math.nan, "differential": False,
            "note": "",
        }
        tr, keep = matched_trials(panel, j, window=window, trigger_window=trigger_window,
                                  min_trigger=min_trigger, refractory=refractory,
                                  max_controls=max_controls, seed=seed)
        a = tr.treated[keep]
        y, e = tr.y[keep], tr.e[keep]
        cl = np.unique(tr.cluster[keep], return_inverse=True)[1]
        st = np.unique(tr.stratum[keep], return_inverse=True)[1]
        G = int(cl.max()) + 1 if cl.size else 0
        vk = vj.filter(pl.col("category") == k)
        base.update(n_corrections=int(a.sum()), n_controls=int((~a).sum()), n_clusters=G,
                    n_validated=vk.height)
        if a.sum() < min_corrections or min_clusters > G:
            base["note"] = "too few corrections or clusters"
            rows.append(base)
            continue
        if vk.height == 0 or vk["gold_count"].sum() == 0:
            base["note"] = "no validated slips of this category"
            rows.append(base)
            continue
        vrow = vk["row"].to_numpy()
        gold = vk["gold_count"].to_numpy().astype(float)
        tagged = panel.y[vrow, j]
        vexp = panel.exposure[vrow]
        tp = np.minimum(tagged, gold)
        fp = np.maximum(tagged - gold, 0.0)
        post = (vk["stratum"].cast(pl.String) == "post-correction").fill_null(False).to_numpy() if has_stratum else np.zeros(vk.height, dtype=bool)
        diff = bool(post.any() and (~post).any())
        vconv = np.unique(vk["conversation_id"].to_numpy().astype(str), return_inverse=True)[1]
        Gv = int(vconv.max()) + 1
        onehot = (st[:, None] == np.arange(int(st.max()) + 1)[None, :]).astype(float)
        # draw 0 is the point estimate (unit weights); draws 1.. are the bootstrap
        wc = np.vstack([np.ones(G), rng.multinomial(G, np.full(G, 1.0 / G), size=n_boot)])
        wv = np.vstack([np.ones(Gv), rng.multinomial(Gv, np.full(Gv, 1.0 / Gv), size=n_boot)])
        # exposure of each outcome window lying within `window` turns after a correction
        ck = panel.corr[:, j].astype(float)
        recent, _ = window_sums(ck, panel.seg_start, panel.seg_end, back=window + 1, ahead=0)
        in_post = (recent - ck) > 0
        _, e_post_all = window_sums(panel.exposure * in_post, panel.seg_start, panel.seg_end,
                                    back=1, ahead=window)
        e_post = e_post_all[tr.row[keep]]
        lam1, lam0, pi1, pi0 = _rates(wc[:, cl], y, e, e_post, a, onehot)
        wvr = wv[:, vconv]
        if diff:
            se1, f1, ppv1 = _error_rates(wvr, post, tp, fp, gold, tagged, vexp)
            se0, f0, ppv0 = _error_rates(wvr, ~post, tp, fp, gold, tagged, vexp)
        else:
            everything = np.ones(post.size, dtype=bool)
            se1, f1, ppv1 = _error_rates(wvr, everything, tp, fp, gold, tagged, vexp)
            se0, f0, ppv0 = se1, f1, ppv1
        # each arm's windows mix post-correction and other turns (share pi)
        s1, s0 = se1 * pi1 + se0 * (1 - pi1), se1 * pi0 + se0 * (1 - pi0)
        g1, g0 = f1 * pi1 + f0 * (1 - pi1), f1 * pi0 + f0 * (1 - pi0)
        q1, q0 = ppv1 * pi1 + ppv0 * (1 - pi1), ppv1 * pi0 + ppv0 * (1 - pi0)
        with np.errstate(invalid="ignore", divide="ignore"):
            if method == "subtract":
                t1, t0 = (lam1 - g1) / s1, (lam0 - g0) / s0
            else:
                t1, t0 = lam1 * q1 / s1, lam0 * q0 / s0
            theta = np.where((t1 > 0) & (t0 > 0), t1 / t0, np.nan)
        boot = theta[1:]
        bad = int(np.sum(~np.isfinite(boot)))
        note = f"{bad} of {n_boot} bootstrap draws had a non-positive corrected rate" if bad else ""
        fin = boot[np.isfinite(boot)]
        lo, hi = (np.quantile(fin, [alpha, 1 - alpha]) if fin.size >= 20 else (math.nan, math.nan))
        base.update(
            rate_ratio_tagged=float(lam1[0] / lam0[0]) if lam0[0] > 0 else math.nan,
            rate_ratio=float(theta[0]), ci_low=float(lo), ci_high=float(hi),
            sensitivity=float(se0[0]),
            precision=float(ppv0[0]), false_positive_rate=float(f0[0]), differential=diff,
            note=note if math.isfinite(theta[0]) else "corrected rate is not positive; " + note,
        )
        rows.append(base)
    return pl.DataFrame(rows, schema=_ADJ_SCHEMA)


_ADJ_SCHEMA = pl.Schema(
    {
        "category": pl.String(), "n_corrections": pl.Int64(), "n_controls": pl.Int64(),
        "n_clusters": pl.Int64(), "n_validated": pl.Int64(), "rate_ratio_tagged": pl.Float64(),
        "rate_ratio": pl.Float64(), "ci_low": pl.Float64(), "ci_high": pl.Float64(),
        "sensitivity": pl.Float64(), "precision": pl.Float64(),
        "false_positive_rate": pl.Float64(), "differential": pl.Boolean(), "note": pl.String(),
    }
)
