"""Value articulation: do value statements give reasons or recite rules?

The essay claims the assistant comes to "reason from principles" instead of
"reciting rules". The tagger has no reason category, so the cues live here: a small
documented list of reason connectives, rule phrases and value words.
"""

from __future__ import annotations

import polars as pl

from toolkit.hypothesis import add_wilson, check_inputs, cue_regex, sentences

__all__ = [
    "REASON_CUES",
    "RULE_CUES",
    "VALUE_CUES",
    "value_articulation",
    "value_statements",
]

#: Connectives that give a reason or purpose. "since" is also temporal ("since
#: Monday") and is kept anyway: a known source of false reasons.
REASON_CUES: tuple[str, ...] = (
    r"because",
    r"so that",
    r"which means",
    r"since",
    r"in order to",
    r"so as to",
    r"the reason (?:is|being|why)",
    r"(?:that's|that is|this is) why",
    r"given that",
    r"otherwise",
    r"for the sake of",
    r"out of (?:respect|care|concern) for",
    r"to (?:protect|avoid|keep|make sure|ensure|respect)",
)

#: Bare-rule phrases: an obligation or prohibition cited without its ground.
RULE_CUES: tuple[str, ...] = (
    r"I (?:must|mustn't|must not|have to|need to)",
    r"I(?:'m| am) (?:not )?(?:allowed|permitted|supposed|required|obligated) to",
    r"I (?:can't|cannot|can not)",
    r"I(?:'m| am) (?:unable|not able) to",
    r"my (?:guidelines|rules|instructions|policies|policy|programming)",
    r"against (?:my|the) (?:guidelines|rules|policy|policies|terms)",
    r"I(?:'m| am) (?:programmed|designed|trained) (?:to|not to)",
    r"(?:it's|it is) not (?:allowed|permitted)",
)

#: Value words that make a sentence a value statement even without a tag.
VALUE_CUES: tuple[str, ...] = (
    r"values?",
    r"principles?",
    r"mission",
    r"purpose",
    r"I believe in",
    r"I care (?:about|for|deeply)",
    r"matters? (?:to me|to us)",
    r"important to (?:me|us)",
    r"honesty",
    r"integrity",
    r"ethics|ethical",
    r"I (?:won't|will not|refuse to)",
    r"I(?:'m| am) committed to",
)

_REASON_LEAD = r"(?i)^\s*(?:because|(?:that's|that is|this is|it's|it is) because|the reason)\b"

_STMT_SCHEMA = {
    "conversation_id": pl.String, "conversation_index": pl.Int64, "turn": pl.Int64,
    "s_start": pl.Int64, "s_end": pl.Int64, "sentence": pl.String, "basis": pl.String,
    "identity": pl.Boolean, "gives_reason": pl.Boolean, "rule": pl.Boolean,
    "kind": pl.String,
}


def value_statements(
    turns: pl.DataFrame,
    tags: pl.DataFrame,
    *,
    tag_categories: tuple[str, ...] = ("identity", "resistance"),
) -> pl.DataFrame:
    """Assistant sentences that state a value, each classed as reasoned or a bare rule.

    A *value statement* is an assistant sentence that contains the start of an
    ``identity`` or ``resistance`` span (``basis == "tag"``), or a
    :data:`VALUE_CUES` or :data:`RULE_CUES` phrase (``basis == "cue"``). It
    ``gives_reason`` when it contains a :data:`REASON_CUES` connective or the next
    sentence of the same turn opens with one ("That's because..."). ``kind`` is
    ``reasoned`` (gives a reason), ``bare_rule`` (a rule phrase and no reason) or
    ``bare_value`` (neither).

    Returns
    -------
    polars.DataFrame
        ``conversation_id``, ``conversation_index``, ``turn``, ``s_start``,
        ``s_end`` (character offsets in the turn's text), ``sentence``, ``basis``,
        ``identity`` (the sentence holds an ``identity`` span), ``gives_reason``,
        ``rule``, ``kind``.

    Examples
    --------
    >>> import polars as pl
    >>> t = pl.DataFrame({"conversation_id": ["a"] * 2, "conversation_index": [0] * 2,
    ...     "turn": [0, 1], "role": ["user", "assistant"],
    ...     "text": ["Do it.", "I can't do that. I won't lie because trust matters."]})
    >>> g = pl.DataFrame(schema={"conversation_id": pl.String,
    ...     "conversation_index": pl.Int64, "turn": pl.Int64, "role": pl.String,
    ...     "category": pl.String, "start": pl.Int64, "end": pl.Int64})
    >>> value_statements(t, g).select("sentence", "kind").rows()
    [("I can't do that. ", 'bare_rule'), ("I won't lie because trust matters.", 'reasoned')]
    """
    t, g = check_inputs(turns, tags)
    a = t.filter(pl.col("role") == "assistant").select(
        "conversation_id", "conversation_index", "turn", "text"
    )
    s = sentences(a).with_columns(
        pl.col("sentence").shift(-1).over("conversation_index", "turn").alias("_next")
    )
    spans = g.filter(
        (pl.col("role") == "assistant") & pl.col("category").is_in(list(tag_categories))
    ).select("conversation_index", "turn", "start", "category")
    tagged = (
        s.select("conversation_index", "turn", "s_start", "s_end")
        .join(spans, on=["conversation_index", "turn"], how="inner")
        .filter((pl.col("start") >= pl.col("s_start")) & (pl.col("start") < pl.col("s_end")))
        .group_by("conversation_index", "turn", "s_start")
        .agg((pl.col("category") == "identity").any().alias("identity"))
        .with_columns(pl.lit(True).alias("_tag"))
    )
    rule = pl.col("sentence").str.contains(cue_regex(RULE_CUES))
    s = (
        s.join(tagged, on=["conversation_index", "turn", "s_start"], how="left")
        .with_columns(
            pl.col("_tag").fill_null(False),
            pl.col("identity").fill_null(False),
            rule.alias("rule"),
            pl.col("sentence").str.contains(cue_regex(VALUE_CUES)).alias("_value"),
            (
                pl.col("sentence").str.contains(cue_regex(REASON_CUES))
                | pl.col("_next").fill_null("").str.contains(_REASON_LEAD)
            ).alias("gives_reason"),
        )
        .filter(pl.col("_tag") | pl.col("_value") | pl.col("rule"))
        .with_columns(
            pl.when(pl.col("_tag")).then(pl.lit("tag")).otherwise(pl.lit("cue")).alias("basis"),
            pl.when(pl.col("gives_reason")).then(pl.lit("reasoned"))
            .when(pl.col("rule")).then(pl.lit("bare_rule"))
            .otherwise(pl.lit("bare_value")).alias("kind"),
        )
    )
    return s.select(list(_STMT_SCHEMA)).cast(_STMT_SCHEMA).sort(  # type: ignore[arg-type]
        "conversation_index", "turn", "s_start"
    )


def value_articulation(
    turns: pl.DataFrame,
    tags: pl.DataFrame,
    *,
    tag_categories: tuple[str, ...] = ("identity", "resistance"),
) -> pl.DataFrame:
    """Share of value statements that give a reason, per conversation and overall.

    Value statements and their classes are those of :func:`value_statements`.

    Parameters
    ----------
    turns, tags
        TURNS and TAGS frames.
    tag_categories
        Assistant tag categories whose sentences count as value statements.

    Returns
    -------
    polars.DataFrame
        One row per conversation with at least one assistant turn, then a
        ``scope == "overall"`` row: ``scope``, ``conversation_index``,
        ``conversation_id``, ``statements``, ``reasoned``, ``bare_rule``,
        ``bare_value``, ``rate`` (``reasoned / statements``), ``ci_low``,
        ``ci_high`` (95 % Wilson), and ``reason_vs_rule_rate`` (``reasoned /
        (reasoned + bare_rule)``) with ``reason_vs_rule_ci_low``/``_ci_high``. Use
        :func:`toolkit.hypothesis.time_trend` with ``successes="reasoned",
        trials="statements"`` for the trend over conversations.

    What this can and cannot show
    -----------------------------
    It shows whether the assistant's value talk carries reason connectives more
    often than bare obligations. A connective is not a good reason (a "because"
    can be circular or confabulated), "since" is also temporal, and a reason in a
    later sentence that does not open with a connective is missed. Giving reasons
    can itself be learnt style, so it cannot separate principled reasoning from a
    more elaborate recitation.

    Examples
    --------
    >>> import polars as pl
    >>> t = pl.DataFrame({"conversation_id": ["a"] * 2, "conversation_index": [0] * 2,
    ...     "turn": [0, 1], "role": ["user", "assistant"],
    ...     "text": ["Do it.", "I can't do that. I won't lie because trust matters."]})
    >>> g = pl.DataFrame(schema={"conversation_id": pl.String,
    ...     "conversation_index": pl.Int64, "turn": pl.Int64, "role": pl.String,
    ...     "category": pl.String, "start": pl.Int64, "end": pl.Int64})
    >>> value_articulation(t, g).select("scope", "statements", "reasoned", "rate").rows()
    [('conversation', 2, 1, 0.5), ('overall', 2, 1, 0.5)]
    """
    t, _ = check_inputs(turns, tags)
    st = value_statements(turns, tags, tag_categories=tag_categories)
    convs = t.select("conversation_index", "conversation_id").unique()
    counts = st.group_by("conversation_index").agg(
        pl.len().cast(pl.Int64).alias("statements"),
        *[(pl.col("kind") == k).sum().cast(pl.Int64).alias(k)
          for k in ("reasoned", "bare_rule", "bare_value")],
    )
    per = (
        convs.join(counts, on="conversation_index", how="left")
        .with_columns(
            *[pl.col(c).fill_null(0) for c in ("statements", "reasoned", "bare_rule",
                                                "bare_value")],
            pl.lit("conversation").alias("scope"),
        )
        .sort("conversation_index")
    )
    cols = ["scope", "conversation_index", "conversation_id", "statements", "reasoned",
            "bare_rule", "bare_value"]
    total = per.select(
        pl.lit("overall").alias("scope"),
        pl.lit(None, pl.Int64).alias("conversation_index"),
        pl.lit(None, pl.String).alias("conversation_id"),
        *[pl.col(c).sum().cast(pl.Int64) for c in cols[3:]],
    )
    out = pl.concat([per.select(cols), total.select(cols)])
    out = add_wilson(out, "reasoned", "statements")
    out = out.with_columns((pl.col("reasoned") + pl.col("bare_rule")).alias("_rr"))
    out = add_wilson(out, "reasoned", "_rr", prefix="reason_vs_rule_").drop("_rr")
    return out
