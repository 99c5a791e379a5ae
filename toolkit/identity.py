"""Identity stability: identity and AI self-reference rates by session and position.

Persona drift (Li et al. 2024 found significant drift within 8 rounds of self-chat)
would show as a falling rate of the assistant's own identity references, or a rising
rate of generic "as an AI" self-reference, along a conversation. The essay's claim is
the opposite: the identity holds across sessions and positions, and comes back right
after the context is restored at a session start.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
from scipy import stats

from toolkit.hypothesis import (
    Z95,
    add_wilson,
    assistant_positions,
    check_inputs,
    cue_regex,
    turn_flags,
    with_flags,
)

__all__ = ["RESTORATION_CUES", "identity_drift", "identity_stability"]

#: Phrases in the user or system turns before the first assistant turn that mark a
#: context restoration (the user pastes a summary or memory of earlier sessions).
RESTORATION_CUES: tuple[str, ...] = (
    r"last (?:time|session|conversation|chat)",
    r"(?:previous|earlier|prior) (?:session|conversation|chat)s?",
    r"where we left off",
    r"pick(?:ing)? up (?:where|from)",
    r"(?:summary|recap) of (?:our|the) (?:previous|last|earlier)",
    r"continu(?:e|ing) (?:from|our)",
    r"here(?:'s| is) (?:the|our|your) (?:context|summary|memory|recap)",
    r"memory (?:file|document|notes)",
    r"context restor\w*",
    r"context for \w+",
    r"(?:our|the) (?:first|last|previous|earlier) (?:session|conversation|chat)s?",
    r"session \d+",
    r"read this (?:before|first)",
)

_CATEGORIES = ("identity", "ai_self_reference")
_OUT_SCHEMA = {
    "scope": pl.String, "group": pl.String, "conversation_index": pl.Int64,
    "position_bin": pl.Int64, "category": pl.String, "turns_tagged": pl.Int64,
    "spans": pl.Int64, "exposure": pl.Int64,
}


def _turn_table(
    turns: pl.DataFrame, tags: pl.DataFrame, categories: Sequence[str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    t, g = check_inputs(turns, tags)
    a = assistant_positions(t)
    ga = g.filter(pl.col("role") == "assistant")
    a = with_flags(a, turn_flags(ga, categories), categories)
    spans = (
        ga.filter(pl.col("category").is_in(list(categories)))
        .group_by("conversation_index", "turn")
        .agg(*[(pl.col("category") == c).sum().cast(pl.Int64).alias(f"_n_{c}") for c in categories])
    )
    a = a.join(spans, on=["conversation_index", "turn"], how="left").with_columns(
        *[pl.col(f"_n_{c}").fill_null(0) for c in categories]
    )
    return t, a


def identity_stability(
    turns: pl.DataFrame,
    tags: pl.DataFrame,
    *,
    bins: int = 5,
    restore_turns: int = 3,
    restored: Sequence[str] | None = None,
    categories: Sequence[str] = _CATEGORIES,
) -> pl.DataFrame:
    """Rates of ``identity`` and ``ai_self_reference`` per session, position and opening.

    The unit is the assistant turn: a turn counts once if it carries at least one
    span of the category (``spans`` keeps the span count). Positions are relative:
    assistant turn ``i`` of ``n`` falls in bin ``floor(i * bins / n)``. The opening
    is the first ``restore_turns`` assistant turns of a conversation; it is
    ``after_restoration`` when the conversation starts with a context restoration
    (ids in ``restored``, or, when ``restored`` is None, a :data:`RESTORATION_CUES`
    phrase in a user or system turn before the first assistant turn), else
    ``opening_no_restoration``; the remaining turns are ``later``.

    Parameters
    ----------
    turns, tags
        TURNS and TAGS frames.
    bins
        Number of relative position bins.
    restore_turns
        Assistant turns counted as "right after" the session start.
    restored
        Conversation ids known to begin with a context restoration (overrides the
        cue detection).
    categories
        Assistant tag categories to rate.

    Returns
    -------
    polars.DataFrame
        Columns ``scope`` (``overall``, ``conversation``, ``position``,
        ``opening``), ``group`` (``all``; the conversation id; the bin number as
        text; ``after_restoration`` / ``opening_no_restoration`` / ``later``),
        ``conversation_index`` and ``position_bin`` (null where not applicable),
        ``category``, ``turns_tagged``, ``spans``, ``exposure`` (assistant turns),
        ``rate`` (``turns_tagged / exposure``), ``ci_low``, ``ci_high`` (95 %
        Wilson). See :func:`identity_drift` for the slope along position.

    What this can and cannot show
    -----------------------------
    It shows whether the assistant keeps naming itself as it did, along a session
    and across sessions, and whether restoring the context brings the identity
    back. It cannot show that the identity is "held" rather than performed on cue:
    a restoration prompt that names the persona makes identity references likely by
    plain instruction-following. Rates depend on the tagger's recall, which may
    differ by position (long late turns, paraphrase).

    Examples
    --------
    >>> import polars as pl
    >>> t = pl.DataFrame({"conversation_id": ["a"] * 4, "conversation_index": [0] * 4,
    ...     "turn": [0, 1, 2, 3], "role": ["user", "assistant"] * 2,
    ...     "text": ["hi", "I'm Ember.", "ok", "Sure."]})
    >>> g = pl.DataFrame({"conversation_id": ["a"], "conversation_index": [0],
    ...     "turn": [1], "role": ["assistant"], "category": ["identity"],
    ...     "start": [0], "end": [9]})
    >>> out = identity_stability(t, g, bins=2, restore_turns=1)
    >>> out.filter(pl.col("category") == "identity").select(
    ...     "scope", "group", "turns_tagged", "exposure").rows()
    [('overall', 'all', 1, 2), ('conversation', 'a', 1, 2), ('position', '0', 1, 1),
     ('position', '1', 0, 1), ('opening', 'opening_no_restoration', 1, 1),
     ('opening', 'later', 0, 1)]
    """
    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    if restore_turns < 0:
        raise ValueError(f"restore_turns must be >= 0, got {restore_turns}")
    cats = list(categories)
    t, a = _turn_table(turns, tags, cats)
    if restored is None:
        first_a = a.group_by("conversation_index").agg(pl.col("turn").min().alias("_first"))
        pre = (
            t.join(first_a, on="conversation_index", how="left")
            .filter(
                pl.col("role").is_in(["user", "system"])
                & (pl.col("_first").is_null() | (pl.col("turn") < pl.col("_first")))
            )
            .group_by("conversation_index")
            .agg(pl.col("text").fill_null("").str.contains(cue_regex(RESTORATION_CUES)).any()
                 .alias("_restored"))
        )
        a = a.join(pre, on="conversation_index", how="left").with_columns(
            pl.col("_restored").fill_null(False)
        )
    else:
        a = a.with_columns(pl.col("conversation_id").is_in(list(restored)).alias("_restored"))
    a = a.with_columns(
        (pl.col("a_idx") * bins // pl.col("n_assistant")).cast(pl.Int64).alias("position_bin"),
        pl.when(pl.col("a_idx") >= restore_turns)
        .then(pl.lit("later"))
        .when(pl.col("_restored"))
        .then(pl.lit("after_restoration"))
        .otherwise(pl.lit("opening_no_restoration"))
        .alias("_opening"),
    )
    long = pl.concat(
        [
            a.select(
                "conversation_index", "conversation_id", "position_bin", "_opening",
                pl.lit(c).alias("category"),
                pl.col(c).alias("_hit"),
                pl.col(f"_n_{c}").alias("_spans"),
            )
            for c in cats
        ]
    )
    agg = (
        pl.col("_hit").sum().cast(pl.Int64).alias("turns_tagged"),
        pl.col("_spans").sum().cast(pl.Int64).alias("spans"),
        pl.len().cast(pl.Int64).alias("exposure"),
    )
    null_i = pl.lit(None, pl.Int64)
    parts = [
        long.group_by("category").agg(*agg).with_columns(
            pl.lit("overall").alias("scope"), pl.lit("all").alias("group"),
            null_i.alias("conversation_index"), null_i.alias("position_bin")),
        long.group_by("category", "conversation_index", "conversation_id").agg(*agg)
        .with_columns(pl.lit("conversation").alias("scope"),
                      pl.col("conversation_id").alias("group"), null_i.alias("position_bin")),
        long.group_by("category", "position_bin").agg(*agg).with_columns(
            pl.lit("position").alias("scope"),
            pl.col("position_bin").cast(pl.String).alias("group"),
            null_i.alias("conversation_index")),
        long.group_by("category", "_opening").agg(*agg).with_columns(
            pl.lit("opening").alias("scope"), pl.col("_opening").alias("group"),
            null_i.alias("conversation_index"), null_i.alias("position_bin")),
    ]
    order = {"overall": 0, "conversation": 1, "position": 2, "opening": 3}
    opening_order = {"after_restoration": 0, "opening_no_restoration": 1, "later": 2}
    out = (
        pl.concat([p.select(list(_OUT_SCHEMA)).cast(_OUT_SCHEMA) for p in parts])  # type: ignore[arg-type]
        .with_columns(
            pl.col("scope").replace_strict(order, return_dtype=pl.Int64).alias("_s"),
            pl.col("group").replace_strict(opening_order, default=None,
                                           return_dtype=pl.Int64).alias("_o"),
            pl.col("category").replace_strict({c: i for i, c in enumerate(cats)},
                                              return_dtype=pl.Int64).alias("_c"),
        )
        .sort("_c", "_s", "conversation_index", "position_bin", "_o", nulls_last=False)
        .drop("_s", "_o", "_c")
    )
    return add_wilson(out, "turns_tagged", "exposure")


def identity_drift(
    turns: pl.DataFrame,
    tags: pl.DataFrame,
    *,
    categories: Sequence[str] = _CATEGORIES,
) -> pl.DataFrame:
    """Slope of the tag rate along a conversation: Poisson GLM, cluster-robust SEs.

    For each category, the assistant-turn indicator (turn carries the tag) is
    regressed on position with a log link (a "modified Poisson" model, whose
    exponentiated slope is a rate ratio); standard errors are clustered by
    conversation (statsmodels ``cov_type="cluster"``). Two position scales are
    fitted: ``relative`` (0 at a conversation's first assistant turn, 1 at its
    last; the rate ratio compares the end with the start) and ``per_10_turns``
    (assistant-turn index / 10).

    Parameters
    ----------
    turns, tags
        TURNS and TAGS frames.
    categories
        Assistant tag categories.

    Returns
    -------
    polars.DataFrame
        One row per category and scale: ``category``, ``scale``, ``n_turns``,
        ``n_conversations``, ``events`` (tagged turns), ``slope`` (log rate ratio
        per unit of the scale), ``se``, ``ci_low``, ``ci_high`` (of the slope),
        ``rate_ratio``, ``rr_ci_low``, ``rr_ci_high``, ``p_value``. Null estimates
        when there are no events or fewer than two conversations. Drift away from
        the identity shows as ``rr_ci_high < 1`` for ``identity``; a stable
        identity as an interval covering 1.

    What this can and cannot show
    -----------------------------
    A pooled slope, not a within-conversation one: on the ``per_10_turns`` scale,
    long conversations dominate late positions, so a difference between long and
    short conversations can look like drift (the ``relative`` scale is less
    exposed to this). Cluster-robust SEs are unreliable with few conversations
    (fewer than about 20). It cannot say why the rate changes (topic, task, model
    update).

    Examples
    --------
    >>> import polars as pl
    >>> n = 10
    >>> rows = [(f"c{k}", k, 2 * i + j, r) for k in range(4) for i in range(n)
    ...         for j, r in enumerate(["user", "assistant"])]
    >>> t = pl.DataFrame(rows, schema=["conversation_id", "conversation_index", "turn",
    ...     "role"], orient="row").with_columns(text=pl.lit("x"))
    >>> hits = t.filter((pl.col("role") == "assistant") & (pl.col("turn") < 9))
    >>> g = hits.select("conversation_id", "conversation_index", "turn", "role",
    ...     category=pl.lit("identity"), start=pl.lit(0), end=pl.lit(1))
    >>> d = identity_drift(t, g, categories=["identity"])
    >>> d.filter(pl.col("scale") == "relative")["rr_ci_high"][0] < 1
    True
    """
    import statsmodels.api as sm

    cats = list(categories)
    _, a = _turn_table(turns, tags, cats)
    a = a.with_columns(
        pl.when(pl.col("n_assistant") > 1)
        .then(pl.col("a_idx") / (pl.col("n_assistant") - 1))
        .otherwise(0.0)
        .alias("relative"),
        (pl.col("a_idx") / 10.0).alias("per_10_turns"),
    )
    groups = a["conversation_index"].rank("dense").cast(pl.Int64).to_numpy()
    n_conv = int(a["conversation_index"].n_unique()) if a.height else 0
    rows = []
    for c in cats:
        y = a[c].cast(pl.Float64).to_numpy()
        for scale in ("relative", "per_10_turns"):
            x = a[scale].to_numpy()
            row: dict[str, object] = {
                "category": c, "scale": scale, "n_turns": len(y),
                "n_conversations": n_conv, "events": int(y.sum()),
            }
            est: dict[str, float | None] = dict.fromkeys(
                ("slope", "se", "ci_low", "ci_high", "rate_ratio", "rr_ci_low",
                 "rr_ci_high", "p_value"))
            if y.sum() > 0 and n_conv >= 2 and np.ptp(x) > 0:
                exog = sm.add_constant(x, has_constant="add")
                fit = sm.GLM(y, exog, family=sm.families.Poisson()).fit(
                    cov_type="cluster", cov_kwds={"groups": groups}
                )
                b, se = float(fit.params[1]), float(fit.bse[1])
                if np.isfinite(se) and se > 0:
                    lo, hi = b - Z95 * se, b + Z95 * se
                    est = {"slope": b, "se": se, "ci_low": lo, "ci_high": hi,
                           "rate_ratio": float(np.exp(b)), "rr_ci_low": float(np.exp(lo)),
                           "rr_ci_high": float(np.exp(hi)),
                           "p_value": float(2 * stats.norm.sf(abs(b / se)))}
            row.update(est)
            rows.append(row)
    schema = {"category": pl.String, "scale": pl.String, "n_turns": pl.Int64,
              "n_conversations": pl.Int64, "events": pl.Int64} | {
        k: pl.Float64 for k in ("slope", "se", "ci_low", "ci_high", "rate_ratio",
                                "rr_ci_low", "rr_ci_high", "p_value")}
    return pl.DataFrame(rows, schema=schema, orient="row")
