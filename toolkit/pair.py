"""Link user corrections to the slips they target, and score the reply.

Rules (lexicons.md sections 9 and 10):

* A correction in user turn *t* targets the categories in its ``target`` (a slip
  category; ``drift`` means any slip category; ``unspecified`` is ambiguous and links
  to nothing).
* Candidates are slips of a target category in the ``window`` assistant turns before
  *t*. ``distance`` counts assistant turns back (1 = the last assistant turn).
* Basis, strongest first: ``quote`` (the user repeats the slip: its full text when it
  has at least three tokens, or its first or last three tokens), ``adjacent``
  (distance 1), ``window`` (further back). A correction links to the slip turn with
  the strongest basis, nearest first; a habitual one ("you keep ...", ``scope``
  ``habitual``) links to every candidate slip turn in the window.
* ``outcome`` is judged on the next assistant turn *t+1*: ACK is an
  ``acknowledgement`` tag there; REPAIR means the target category's count in *t+1* is
  0 or below its mean over the 5 assistant turns up to the correction, *t+1* is not a
  refusal, and it is at least half as long as the median of those 5 turns. Classes:
  ``ack+repair``, ``repair_only``, ``contest`` (the slip recurs and *t+1* carries a
  ``resistance`` tag), ``ack_only`` (ACK without REPAIR), ``none``; null when there is
  no next assistant turn.
"""

from __future__ import annotations

import polars as pl

from toolkit.lexicon import ascii_boundaries, default_lexicon
from toolkit.schema import PAIRS, SLIP_CATEGORIES, TAGS, TURNS, validate

__all__ = ["PAIR_COLUMNS", "pair", "uncorrected_slips", "unmatched_corrections"]

PAIR_COLUMNS: tuple[str, ...] = (
    *PAIRS.names(),
    "scope",
    "target",
    "n_slips",
    "reply_turn",
    "ack",
    "repair",
)
"""Columns of :func:`pair`: PAIRS plus scope, target, slip count and the ACK/REPAIR
flags behind ``outcome``."""

_BASELINE_TURNS = 5
_BASIS_RANK = {"quote": 0, "adjacent": 1, "window": 2}


def _inputs(turns: pl.DataFrame, tags: pl.DataFrame, window: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    if not isinstance(window, int) or isinstance(window, bool) or window < 1:
        raise ValueError(f"window must be a positive integer, got {window!r}")
    turns = validate(turns, TURNS, "TURNS", optional=("timestamp", "source", "format"))
    tags = validate(tags, TAGS, "TAGS")
    return turns, tags


def _turn_table(turns: pl.DataFrame) -> pl.DataFrame:
    """Per turn: ``a_rank`` (1-based rank of assistant turns; for others the number of
    assistant turns before them) and the text length."""
    return (
        turns.select("conversation_id", "conversation_index", "turn", "role", "text")
        .sort("conversation_index", "conversation_id", "turn")
        .with_columns(
            (pl.col("role") == "assistant")
            .cast(pl.Int64)
            .cum_sum()
            .over("conversation_id")
            .alias("a_rank"),
            pl.col("text").str.len_chars().fill_null(0).cast(pl.Int64).alias("n_chars"),
        )
    )


def _corrections(tags: pl.DataFrame, tt: pl.DataFrame) -> pl.DataFrame:
    """One row per (conversation, user turn, target) with habitual scope."""
    habitual = default_lexicon().habitual
    corr = (
        tags.filter((pl.col("category") == "correction") & (pl.col("role") == "user"))
        .with_columns(pl.col("target").fill_null("unspecified"))
        .group_by("conversation_id", "turn", "target", maintain_order=True)
        .agg(pl.col("match").str.join(" | "))
        .join(
            tt.select("conversation_id", "conversation_index", "turn", "a_rank", "text"),
            on=["conversation_id", "turn"],
            how="left",
        )
    )
    is_habitual = (
        pl.col("text").str.contains(ascii_boundaries(f"(?i){habitual}")).fill_null(False)
        if habitual
        else pl.lit(False)
    )
    return corr.with_columns(
        pl.when(is_habitual).then(pl.lit("habitual")).otherwise(pl.lit("single")).alias("scope")
    )


def _links(turns: pl.DataFrame, tags: pl.DataFrame, window: int) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Candidate links (best kept), the correction units and the turn table."""
    tt = _turn_table(turns)
    corr = _corrections(tags, tt)
    slips = tags.filter(
        pl.col("category").is_in(list(SLIP_CATEGORIES)) & (pl.col("role") == "assistant")
    ).join(tt.select("conversation_id", "turn", "a_rank"), on=["conversation_id", "turn"])
    # expand targets: drift -> every slip category
    expanded = corr.filter(pl.col("target") != "unspecified").with_columns(
        pl.when(pl.col("target") == "drift")
        .then(pl.lit(list(SLIP_CATEGORIES)))
        .otherwise(pl.concat_list(pl.col("target")))
        .alias("category")
    ).explode("category")
    cand = expanded.join(
        slips.select(
            "conversation_id",
            "category",
            pl.col("turn").alias("slip_turn"),
            pl.col("a_rank").alias("slip_rank"),
            pl.col("match").alias("slip_match"),
        ),
        on=["conversation_id", "category"],
        how="inner",
    ).with_columns((pl.col("a_rank") - pl.col("slip_rank") + 1).alias("distance"))
    cand = cand.filter((pl.col("distance") >= 1) & (pl.col("distance") <= window))
    words = pl.col("slip_match").str.to_lowercase().str.extract_all(r"[\w']+")
    user = pl.col("text").str.to_lowercase().str.replace_all(r"[\u2018\u2019]", "'")
    user = user.str.replace_all(r"[^\w']+", " ")
    full = words.list.join(" ")
    head = words.list.head(3).list.join(" ")
    tail = words.list.tail(3).list.join(" ")
    quoted = (words.list.len() >= 3) & (
        user.str.contains(full, literal=True)
        | user.str.contains(head, literal=True)
        | user.str.contains(tail, literal=True)
    )
    cand = cand.with_columns(quoted.fill_null(False).alias("_quoted"))
    links = (
        cand.group_by(
            "conversation_id", "conversation_index", "turn", "a_rank", "target", "scope",
            "category", "slip_turn", "distance", maintain_order=True,
        )
        .agg(pl.len().cast(pl.Int64).alias("n_slips"), pl.col("_quoted").any())
        .with_columns(
            pl.when(pl.col("_quoted"))
            .then(pl.lit("quote"))
            .when(pl.col("distance") == 1)
            .then(pl.lit("adjacent"))
            .otherwise(pl.lit("window"))
            .alias("basis")
        )
        .with_columns(
            pl.col("basis").replace_strict(_BASIS_RANK, return_dtype=pl.Int64).alias("_rank")
        )
    )
    key = ["conversation_id", "turn", "target"]
    best = links.sort("_rank", "distance").group_by(key, maintain_order=True).agg(
        pl.col("slip_turn").first().alias("_best_turn")
    )
    links = links.join(best, on=key, how="left").filter(
        (pl.col("scope") == "habitual") | (pl.col("slip_turn") == pl.col("_best_turn"))
    )
    return links, corr, tt


def _outcomes(links: pl.DataFrame, tags: pl.DataFrame, tt: pl.DataFrame) -> pl.DataFrame:
    asst = tt.filter(pl.col("role") == "assistant").select(
        "conversation_id", pl.col("turn").alias("_t"), pl.col("a_rank").alias("_r"), "n_chars"
    )
    nxt = asst.select(
        "conversation_id",
        (pl.col("_r") - 1).alias("a_rank"),
        pl.col("_t").alias("reply_turn"),
        pl.col("n_chars").alias("_reply_chars"),
    )
    out = links.join(nxt, on=["conversation_id", "a_rank"], how="left")
    counts = tags.filter(pl.col("role") == "assistant").group_by(
        "conversation_id", "turn", "category"
    ).agg(pl.len().cast(pl.Int64).alias("_n"))
    n_in_reply = counts.select(
        "conversation_id", pl.col("turn").alias("reply_turn"), "category", pl.col("_n").alias("_n_reply")
    )
    out = out.join(n_in_reply, on=["conversation_id", "reply_turn", "category"], how="left")
    flags = counts.filter(
        pl.col("category").is_in(["acknowledgement", "refusal", "resistance"])
    ).pivot(on="category", index=["conversation_id", "turn"], values="_n")
    for c in ("acknowledgement", "refusal", "resistance"):
        if c not in flags.columns:
            flags = flags.with_columns(pl.lit(None, pl.Int64).alias(c))
    flags = flags.select(
        "conversation_id",
        pl.col("turn").alias("reply_turn"),
        (pl.col("acknowledgement").fill_null(0) > 0).alias("ack"),
        (pl.col("refusal").fill_null(0) > 0).alias("_refuses"),
        (pl.col("resistance").fill_null(0) > 0).alias("_resists"),
    )
    out = out.join(flags, on=["conversation_id", "reply_turn"], how="left")
    # baseline: the 5 assistant turns up to the correction
    base = (
        out.select("conversation_id", "turn", "category", "a_rank")
        .unique()
        .join(asst, on="conversation_id", how="left")
        .filter((pl.col("_r") <= pl.col("a_rank")) & (pl.col("_r") > pl.col("a_rank") - _BASELINE_TURNS))
        .join(
            counts.select("conversation_id", pl.col("turn").alias("_t"), "category", "_n"),
            on=["conversation_id", "_t", "category"],
            how="left",
        )
        .group_by("conversation_id", "turn", "category")
        .agg(
            pl.col("_n").fill_null(0).mean().alias("_rate"),
            pl.col("n_chars").median().alias("_median_chars"),
        )
    )
    out = out.join(base, on=["conversation_id", "turn", "category"], how="left")
    has_reply = pl.col("reply_turn").is_not_null()
    n_reply = pl.col("_n_reply").fill_null(0)
    ack = pl.col("ack").fill_null(False)
    done = ~pl.col("_refuses").fill_null(False) & (
        pl.col("_reply_chars") >= 0.5 * pl.col("_median_chars").fill_null(0)
    )
    repair = ((n_reply == 0) | (n_reply < pl.col("_rate").fill_null(0))) & done
    outcome = (
        pl.when(~has_reply)
        .then(pl.lit(None, pl.String))
        .when(ack & repair)
        .then(pl.lit("ack+repair"))
        .when(repair)
        .then(pl.lit("repair_only"))
        .when((n_reply > 0) & pl.col("_resists").fill_null(False))
        .then(pl.lit("contest"))
        .when(ack)
        .then(pl.lit("ack_only"))
        .otherwise(pl.lit("none"))
    )
    return out.with_columns(
        outcome.alias("outcome"),
        pl.when(has_reply).then(ack).alias("ack"),
        pl.when(has_reply).then(repair).alias("repair"),
    )


def pair(turns: pl.DataFrame, tags: pl.DataFrame, *, window: int = 3) -> pl.DataFrame:
    """Link each user correction to the slip(s) it targets and score the reply.

    Parameters
    ----------
    turns
        TURNS.
    tags
        TAGS, e.g. from :func:`toolkit.tag.tag` (``correction`` rows need ``target``).
    window
        How many assistant turns back a correction may reach (K in section 9).

    Returns
    -------
    polars.DataFrame
        PAIRS (``conversation_id``, ``correction_turn``, ``slip_turn``, ``category``,
        ``distance``, ``basis``, ``outcome``) plus ``scope`` (``single`` or
        ``habitual``), ``target`` (the correction's target), ``n_slips`` (slip spans
        of ``category`` in ``slip_turn``), ``reply_turn`` (next assistant turn, null
        if none), ``ack`` and ``repair``. One row per correction, slip turn and
        category; sorted by conversation and turns.

    Examples
    --------
    >>> import polars as pl
    >>> from toolkit.tag import tag
    >>> turns = pl.DataFrame({
    ...     "conversation_id": "c", "conversation_index": 0, "turn": [0, 1, 2, 3],
    ...     "role": ["user", "assistant", "user", "assistant"],
    ...     "text": ["Is it safe?", "It might be safe, probably.",
    ...              "Stop hedging.", "Fair point. It is safe."]})
    >>> pair(turns, tag(turns)).select(
    ...     "correction_turn", "slip_turn", "category", "basis", "outcome").rows()
    [(2, 1, 'hedge', 'adjacent', 'ack+repair')]
    """
    turns, tags = _inputs(turns, tags, window)
    links, _, tt = _links(turns, tags, window)
    out = _outcomes(links, tags, tt)
    out = out.sort("conversation_index", "conversation_id", "turn", "slip_turn", "category")
    out = out.select(
        "conversation_id",
        pl.col("turn").alias("correction_turn"),
        "slip_turn",
        "category",
        pl.col("distance").cast(pl.Int64),
        "basis",
        "outcome",
        "scope",
        "target",
        "n_slips",
        pl.col("reply_turn").cast(pl.Int64),
        "ack",
        "repair",
    )
    return validate(out, PAIRS, "PAIRS", strict=True)


def unmatched_corrections(
    turns: pl.DataFrame, tags: pl.DataFrame, *, window: int = 3
) -> pl.DataFrame:
    """Corrections that link to no slip: tagger misses, or ambiguous targets.

    Returns
    -------
    polars.DataFrame
        ``conversation_id``, ``conversation_index``, ``turn``, ``target``, ``match``
        (the correction spans, joined by ``" | "``) and ``reason``: ``ambiguous``
        (target ``unspecified``) or ``no_slip_in_window``.

    Examples
    --------
    >>> import polars as pl
    >>> from toolkit.tag import tag
    >>> turns = pl.DataFrame({
    ...     "conversation_id": "c", "conversation_index": 0, "turn": [0, 1, 2],
    ...     "role": ["user", "assistant", "user"],
    ...     "text": ["Hi", "Hello.", "Stop apologizing."]})
    >>> unmatched_corrections(turns, tag(turns)).select("turn", "target", "reason").rows()
    [(2, 'boilerplate', 'no_slip_in_window')]
    """
    turns, tags = _inputs(turns, tags, window)
    links, corr, _ = _links(turns, tags, window)
    key = ["conversation_id", "turn", "target"]
    return (
        corr.join(links.select(key).unique(), on=key, how="anti")
        .with_columns(
            pl.when(pl.col("target") == "unspecified")
            .then(pl.lit("ambiguous"))
            .otherwise(pl.lit("no_slip_in_window"))
            .alias("reason")
        )
        .sort("conversation_index", "conversation_id", "turn", "target")
        .select("conversation_id", "conversation_index", "turn", "target", "match", "reason")
    )


def uncorrected_slips(
    turns: pl.DataFrame, tags: pl.DataFrame, *, window: int = 3
) -> pl.DataFrame:
    """Slip tags that no correction links to (the control for recurrence).

    Returns
    -------
    polars.DataFrame
        The rows of ``tags`` in slip categories whose (conversation, turn, category)
        appears in no :func:`pair` link.

    Examples
    --------
    >>> import polars as pl
    >>> from toolkit.tag import tag
    >>> turns = pl.DataFrame({
    ...     "conversation_id": "c", "conversation_index": 0, "turn": [0, 1],
    ...     "role": ["user", "assistant"], "text": ["Hi", "Probably fine."]})
    >>> uncorrected_slips(turns, tag(turns)).select("turn", "category", "match").rows()
    [(1, 'hedge', 'Probably')]
    """
    turns, tags = _inputs(turns, tags, window)
    links, _, _ = _links(turns, tags, window)
    linked = links.select(
        "conversation_id", pl.col("slip_turn").alias("turn"), "category"
    ).unique()
    return tags.filter(
        pl.col("category").is_in(list(SLIP_CATEGORIES)) & (pl.col("role") == "assistant")
    ).join(linked, on=["conversation_id", "turn", "category"], how="anti")
