"""Descriptive tables of a corpus and its tags (what notebooks 01 and 02 show)."""

from __future__ import annotations

import polars as pl

from toolkit.schema import TAGS, TURNS, validate

__all__ = ["corpus_summary", "tag_summary"]


def corpus_summary(turns: pl.DataFrame) -> pl.DataFrame:
    """One row per conversation: turns by role, characters, and time span.

    Parameters
    ----------
    turns
        A TURNS frame.

    Returns
    -------
    polars.DataFrame
        Columns ``conversation_index``, ``conversation_id``, ``turns``, ``user``,
        ``assistant``, ``other`` (system and tool rows), ``assistant_chars``
        (characters of assistant text), ``start`` and ``end`` (first and last
        timestamp, null when the source has none) and ``hours`` (their distance),
        sorted by ``conversation_index``.

    Examples
    --------
    >>> import polars as pl
    >>> t = pl.DataFrame({"conversation_id": ["a", "a", "b"],
    ...     "conversation_index": [0, 0, 1], "turn": [0, 1, 0],
    ...     "role": ["user", "assistant", "user"], "text": ["hi", "hello", "x"],
    ...     "timestamp": [None, None, None], "source": ["f"] * 3, "format": ["p"] * 3})
    >>> corpus_summary(t).select("conversation_id", "user", "assistant").rows()
    [('a', 1, 1), ('b', 1, 0)]
    """
    t = validate(turns, TURNS, "TURNS")
    return (
        t.group_by("conversation_index", "conversation_id")
        .agg(
            pl.len().cast(pl.Int64).alias("turns"),
            (pl.col("role") == "user").sum().cast(pl.Int64).alias("user"),
            (pl.col("role") == "assistant").sum().cast(pl.Int64).alias("assistant"),
            pl.col("role").is_in(["system", "tool"]).sum().cast(pl.Int64).alias("other"),
            pl.col("text")
            .filter(pl.col("role") == "assistant")
            .str.len_chars()
            .sum()
            .cast(pl.Int64)
            .alias("assistant_chars"),
            pl.col("timestamp").min().alias("start"),
            pl.col("timestamp").max().alias("end"),
        )
        .with_columns(
            ((pl.col("end") - pl.col("start")).dt.total_seconds() / 3600.0).alias("hours")
        )
        .sort("conversation_index")
    )


def tag_summary(
    turns: pl.DataFrame, tags: pl.DataFrame, *, by: tuple[str, ...] = ("category",)
) -> pl.DataFrame:
    """Counts of tagged spans and of turns carrying them, with rates per 100 turns.

    Parameters
    ----------
    turns
        The TURNS frame the tags came from (for the denominators).
    tags
        A TAGS frame.
    by
        Grouping columns of TAGS, e.g. ``("category",)``, ``("category", "subtype")``
        or ``("conversation_index", "category")``.

    Returns
    -------
    polars.DataFrame
        The ``by`` columns, ``role``, ``spans``, ``turns_tagged``, ``role_turns``
        (turns of that role in the same scope) and ``per_100_turns``
        (``100 * turns_tagged / role_turns``), sorted by ``by``.

    Examples
    --------
    >>> import polars as pl
    >>> t = pl.DataFrame({"conversation_id": ["a"] * 4, "conversation_index": [0] * 4,
    ...     "turn": [0, 1, 2, 3], "role": ["user", "assistant"] * 2,
    ...     "text": ["q", "maybe, maybe", "q", "yes"], "timestamp": [None] * 4,
    ...     "source": ["f"] * 4, "format": ["p"] * 4})
    >>> g = pl.DataFrame({"conversation_id": ["a", "a"], "conversation_index": [0, 0],
    ...     "turn": [1, 1], "role": ["assistant"] * 2, "category": ["hedge"] * 2,
    ...     "subtype": ["hedge.H1"] * 2, "target": [None, None], "start": [0, 7],
    ...     "end": [5, 12], "match": ["maybe", "maybe"]})
    >>> tag_summary(t, g).select("category", "spans", "turns_tagged", "per_100_turns").rows()
    [('hedge', 2, 1, 50.0)]
    """
    t = validate(turns, TURNS, "TURNS")
    g = validate(tags, TAGS, "TAGS")
    scope = [c for c in by if c in ("conversation_id", "conversation_index")]
    counts = g.group_by(*by, "role").agg(
        pl.len().cast(pl.Int64).alias("spans"),
        pl.struct("conversation_id", "turn").n_unique().cast(pl.Int64).alias("turns_tagged"),
    )
    denom = t.group_by(*scope, "role").agg(pl.len().cast(pl.Int64).alias("role_turns"))
    return (
        counts.join(denom, on=[*scope, "role"], how="left")
        .with_columns(
            (100.0 * pl.col("turns_tagged") / pl.col("role_turns")).alias("per_100_turns")
        )
        .sort(*by, "role")
    )
