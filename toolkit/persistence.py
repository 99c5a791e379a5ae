"""Cross-session persistence: does a corrected pattern stay rarer in the next session?

The essay claims corrections persist across sessions ("mission persistence"). For
each slip category corrected in a conversation, the rate of that category in the
first assistant turns of the *following* conversation is compared with baselines.
Self-contained: it does not use :mod:`toolkit.recurrence`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
from scipy import stats

from toolkit.hypothesis import assistant_positions, check_inputs, turn_flags, with_flags
from toolkit.schema import SLIP_CATEGORIES

__all__ = ["persistence"]

_SCHEMA = {
    "category": pl.String, "estimator": pl.String, "n_corrections": pl.Int64,
    "n_controls": pl.Int64, "treated_count": pl.Int64, "treated_exposure": pl.Int64,
    "treated_rate": pl.Float64, "control_count": pl.Int64, "control_exposure": pl.Int64,
    "control_rate": pl.Float64, "rate_ratio": pl.Float64, "ci_low": pl.Float64,
    "ci_high": pl.Float64, "ci_method": pl.String, "n_boot_valid": pl.Int64,
    "model_changes": pl.Int64,
}


def _exact_rr(k_t: float, e_t: float, k_c: float, e_c: float) -> tuple[float | None, float | None]:
    """Exact conditional (Clopper-Pearson) interval of a Poisson rate ratio.

    Given the total count, the treated count is binomial with
    ``p = e_t * RR / (e_t * RR + e_c)``; the interval of ``p`` maps to one of RR.
    It ignores clustering, so it is the fallback for tiny or all-zero samples.
    """
    n = k_t + k_c
    if n <= 0 or e_t <= 0 or e_c <= 0:
        return None, None
    lo_p = stats.beta.ppf(0.025, k_t, n - k_t + 1) if k_t > 0 else 0.0
    hi_p = stats.beta.ppf(0.975, k_t + 1, n - k_t) if k_t < n else 1.0
    lo = float(lo_p / (1 - lo_p) * e_c / e_t)
    hi = float(hi_p / (1 - hi_p) * e_c / e_t) if hi_p < 1 else None
    return lo, hi


def _interval(
    tc: np.ndarray, te: np.ndarray, cc: np.ndarray, ce: np.ndarray,
    *, paired: bool, n_boot: int, rng: np.random.Generator,
) -> tuple[float | None, float | None, str | None, int]:
    """Cluster bootstrap CI of the pooled rate ratio, else the exact fallback.

    The percentile bootstrap resamples units (conversations); it is used when each
    side has at least two units and a nonzero count. Otherwise (one unit cannot
    show between-conversation variation; a zero count makes every replicate 0 or
    infinite) the exact conditional interval is returned instead.
    """
    nt, nc = len(tc), len(cc)
    if nt == 0 or nc == 0:
        return None, None, None, 0
    if nt >= 2 and nc >= 2 and tc.sum() > 0 and cc.sum() > 0:
        wt = rng.multinomial(nt, np.full(nt, 1.0 / nt), size=n_boot).astype(float)
        wc = wt if paired else rng.multinomial(
            nc, np.full(nc, 1.0 / nc), size=n_boot).astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            rr = ((wt @ tc) / (wt @ te)) / ((wc @ cc) / (wc @ ce))
        rr = rr[np.isfinite(rr)]
        if len(rr) >= n_boot // 2:
            return (float(np.percentile(rr, 2.5)), float(np.percentile(rr, 97.5)),
                    "cluster_bootstrap", len(rr))
    lo, hi = _exact_rr(float(tc.sum()), float(te.sum()), float(cc.sum()), float(ce.sum()))
    return lo, hi, ("exact_poisson" if lo is not None else None), 0


def persistence(
    turns: pl.DataFrame,
    tags: pl.DataFrame,
    *,
    first_turns: int = 10,
    window: int = 20,
    categories: Sequence[str] = SLIP_CATEGORIES,
    n_boot: int = 2000,
    seed: int = 0,
) -> pl.DataFrame:
    """Rate of each corrected slip category early in the next session vs baselines.

    Units are conversations (sessions) in ``conversation_index`` order. For
    category ``c``, a *treated* unit is a conversation whose previous conversation
    had a user ``correction`` tag with ``target == c`` (``unspecified`` targets
    are ignored). The outcome is the number of assistant turns carrying ``c`` among
    the first ``first_turns`` assistant turns (the exposure). Three estimators:

    - ``matched`` (primary): controls are conversations whose previous
      conversation also had ``c`` slips but no correction of ``c`` (same trigger,
      no treatment);
    - ``all_openings``: controls are all conversations whose previous conversation
      had no correction of ``c``;
    - ``prior_opening``: the control of each treated unit is the opening of the
      corrected conversation itself (its first ``first_turns`` assistant turns,
      cut at the first correction of ``c``): the same positions one session
      earlier, before the correction. Usable in a single relationship where
      almost every session gets corrected, so ``matched`` has no controls; it
      shares the trend over sessions (model updates, drift) with the treated
      openings;
    - ``pre_correction``: the control of each treated unit is the ``window``
      assistant turns before the first correction of ``c`` in the corrected
      conversation (naive before/after across the session boundary; inflated by
      regression to the mean, because corrections follow bursts).

    ``rate_ratio`` is the pooled treated rate over the pooled control rate. Its
    95 % interval (``ci_method``) is a seeded percentile bootstrap resampling
    conversations (treated and control units separately; pairs together for
    ``prior_opening`` and ``pre_correction``) when each side has at least two
    units and a nonzero count, else the exact conditional Poisson interval
    (``exact_poisson``, which ignores clustering).

    Parameters
    ----------
    turns, tags
        TURNS and TAGS frames.
    first_turns
        Assistant turns at the start of the next session that form the outcome.
    window
        Assistant turns before the correction that form the ``pre_correction``
        baseline.
    categories
        Slip categories to consider.
    n_boot
        Bootstrap replicates.
    seed
        Seed of the bootstrap.

    Returns
    -------
    polars.DataFrame
        One row per corrected category and estimator: ``category``, ``estimator``,
        ``n_corrections`` (treated units), ``n_controls``, ``treated_count``,
        ``treated_exposure``, ``treated_rate``, ``control_count``,
        ``control_exposure``, ``control_rate``, ``rate_ratio``, ``ci_low``,
        ``ci_high``, ``ci_method`` (``cluster_bootstrap``, ``exact_poisson`` or
        null), ``n_boot_valid`` (bootstrap replicates with a finite ratio; 0 when
        not bootstrapped) and ``model_changes`` (treated units whose first model
        differs from the corrected session's last one; null without a ``model``
        column). Persistence shows as ``ci_high < 1`` on ``matched``.

    What this can and cannot show
    -----------------------------
    It can show that a corrected pattern is rarer at the start of the next session
    than after comparable uncorrected sessions. It cannot say why: memory
    features, a restored context that repeats the correction, a model update
    (see ``model_changes``) or a change of topic all look the same. With few
    sessions the bootstrap interval is rough, and ``matched`` has few controls when
    almost every burst gets corrected.

    Examples
    --------
    >>> import polars as pl
    >>> rows = []
    >>> for k in range(6):
    ...     for i in range(4):
    ...         rows += [(f"c{k}", k, 2 * i, "user"), (f"c{k}", k, 2 * i + 1, "assistant")]
    >>> t = pl.DataFrame(rows, schema=["conversation_id", "conversation_index", "turn",
    ...     "role"], orient="row").with_columns(text=pl.lit("x"))
    >>> slips = [(f"c{k}", k, 1, "assistant", "hedge", None) for k in (0, 2, 3, 4, 5)]
    >>> fixes = [(f"c{k}", k, 2, "user", "correction", "hedge") for k in (0, 2, 4)]
    >>> g = pl.DataFrame(slips + fixes, schema=["conversation_id", "conversation_index",
    ...     "turn", "role", "category", "target"], orient="row").with_columns(
    ...     start=pl.lit(0), end=pl.lit(1))
    >>> p = persistence(t, g, first_turns=2, n_boot=200)
    >>> p.select("estimator", "n_corrections", "n_controls", "treated_count",
    ...     "control_count").rows()
    [('matched', 3, 1, 2, 1), ('all_openings', 3, 2, 2, 2), ('prior_opening', 3, 3, 2, 3),
     ('pre_correction', 3, 3, 2, 3)]
    """
    if first_turns < 1 or window < 1:
        raise ValueError("first_turns and window must be >= 1")
    t, g = check_inputs(turns, tags)
    cats = list(categories)
    a = assistant_positions(t)
    a = with_flags(a, turn_flags(g.filter(pl.col("role") == "assistant"), cats), cats)
    if "model" in t.columns:
        a = a.join(t.select("conversation_index", "turn", "model"),
                   on=["conversation_index", "turn"], how="left")
    convs = (
        t.select("conversation_index").unique().sort("conversation_index")
        .with_columns(pl.col("conversation_index").shift(1).alias("prev"))
    )
    # assistant turns before each correction (for the pre-correction window)
    before = t.select(
        "conversation_index", "turn",
        (pl.col("role") == "assistant").cast(pl.Int64).cum_sum().over("conversation_index")
        .alias("_a_before"),
    )
    corr = (
        g.filter((pl.col("role") == "user") & (pl.col("category") == "correction")
                 & pl.col("target").is_in(cats))
        .join(before, on=["conversation_index", "turn"], how="left")
        .group_by("conversation_index", pl.col("target").alias("category"))
        .agg(pl.col("_a_before").min().alias("_first_corr"))
    )
    rng = np.random.default_rng(seed)
    rows: list[dict[str, object]] = []
    for c in cats:
        cc = corr.filter(pl.col("category") == c)
        if cc.height == 0:
            continue
        opening = a.filter(pl.col("a_idx") < first_turns).group_by("conversation_index").agg(
            pl.col(c).sum().cast(pl.Int64).alias("count"),
            pl.len().cast(pl.Int64).alias("exposure"),
        )
        had = a.group_by("conversation_index").agg(pl.col(c).any().alias("_had"))
        units = (
            convs.join(opening, on="conversation_index", how="inner")
            .join(had.rename({"conversation_index": "prev", "_had": "prev_had"}), on="prev",
                  how="left")
            .join(cc.rename({"conversation_index": "prev"}).select("prev", "_first_corr"),
                  on="prev", how="left")
            .with_columns(
                pl.col("prev_had").fill_null(False),
                pl.col("_first_corr").is_not_null().alias("treated"),
            )
            .filter(pl.col("prev").is_not_null())
        )
        treated = units.filter(pl.col("treated"))
        tc = treated["count"].cast(pl.Float64).to_numpy()
        te = treated["exposure"].cast(pl.Float64).to_numpy()
        model_changes = None
        if "model" in a.columns and treated.height:
            last_m = a.sort("turn").group_by("conversation_index").agg(
                pl.col("model").drop_nulls().last().alias("_last"))
            first_m = a.sort("turn").group_by("conversation_index").agg(
                pl.col("model").drop_nulls().first().alias("_first"))
            mc = (treated.join(first_m, on="conversation_index", how="left")
                  .join(last_m.rename({"conversation_index": "prev"}), on="prev", how="left"))
            model_changes = int(
                (mc["_first"].is_not_null() & mc["_last"].is_not_null()
                 & (mc["_first"] != mc["_last"])).sum()
            )
        controls = {
            "matched": units.filter(~pl.col("treated") & pl.col("prev_had")),
            "all_openings": units.filter(~pl.col("treated")),
        }
        for est, ctl in controls.items():
            ccnt = ctl["count"].cast(pl.Float64).to_numpy()
            cexp = ctl["exposure"].cast(pl.Float64).to_numpy()
            ci = _interval(tc, te, ccnt, cexp, paired=False, n_boot=n_boot, rng=rng)
            rows.append(_row(c, est, tc, te, ccnt, cexp, ci, model_changes))
        # the corrected conversation's own opening, cut at the first correction
        own = (
            treated.select("conversation_index", "prev", "_first_corr")
            .join(a.select(pl.col("conversation_index").alias("prev"), "a_idx", c),
                  on="prev", how="left")
            .filter((pl.col("a_idx") < pl.col("_first_corr"))
                    & (pl.col("a_idx") < first_turns))
            .group_by("conversation_index")
            .agg(pl.col(c).sum().cast(pl.Int64).alias("pc"),
                 pl.len().cast(pl.Int64).alias("pe"))
        )
        rows.append(_paired(c, "prior_opening", treated, own, n_boot, rng, model_changes))
        # pre-correction window in the corrected conversation, paired with the unit
        pre = (
            treated.select("conversation_index", "prev", "_first_corr")
            .join(a.select(pl.col("conversation_index").alias("prev"), "a_idx", c),
                  on="prev", how="left")
            .filter((pl.col("a_idx") < pl.col("_first_corr"))
                    & (pl.col("a_idx") >= pl.col("_first_corr") - window))
            .group_by("conversation_index")
            .agg(pl.col(c).sum().cast(pl.Int64).alias("pc"),
                 pl.len().cast(pl.Int64).alias("pe"))
        )
        rows.append(_paired(c, "pre_correction", treated, pre, n_boot, rng, model_changes))
    return pl.DataFrame(rows, schema=_SCHEMA, orient="row") if rows else pl.DataFrame(
        schema=_SCHEMA)


def _paired(
    c: str, est: str, treated: pl.DataFrame, base: pl.DataFrame, n_boot: int,
    rng: np.random.Generator, model_changes: int | None,
) -> dict[str, object]:
    """Row of an estimator whose control is paired with each treated unit."""
    paired = treated.join(base, on="conversation_index", how="inner")
    tc, te, cc, ce = (paired[x].cast(pl.Float64).to_numpy()
                      for x in ("count", "exposure", "pc", "pe"))
    ci = _interval(tc, te, cc, ce, paired=True, n_boot=n_boot, rng=rng)
    return _row(c, est, tc, te, cc, ce, ci, model_changes)


def _row(
    c: str, est: str, tc: np.ndarray, te: np.ndarray, cc: np.ndarray, ce: np.ndarray,
    ci: tuple[float | None, float | None, str | None, int], model_changes: int | None,
) -> dict[str, object]:
    tr = float(tc.sum() / te.sum()) if te.sum() > 0 else None
    cr = float(cc.sum() / ce.sum()) if ce.sum() > 0 else None
    rr = tr / cr if tr is not None and cr else None
    lo, hi, method, nv = ci
    return {
        "category": c, "estimator": est, "n_corrections": len(tc), "n_controls": len(cc),
        "treated_count": int(tc.sum()), "treated_exposure": int(te.sum()),
        "treated_rate": tr, "control_count": int(cc.sum()),
        "control_exposure": int(ce.sum()), "control_rate": cr, "rate_ratio": rr,
        "ci_low": lo, "ci_high": hi, "ci_method": method, "n_boot_valid": nv,
        "model_changes": model_changes,
    }
