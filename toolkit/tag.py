"""Rule-based tagging of assistant slips and user corrections (the lexicon layer).

:func:`tag` turns a TURNS frame into a TAGS frame, one row per matched span. The work
is vectorised polars: a few regex passes per role (categories are matched in
layers; see ``_LAYER``) over the masked text of the turns of the right role, and
every context rule (sentence position, negation, meta-mention, the previous user
turn) is a frame operation on the matches. Python loops run over categories and cues,
never over turns.

Offsets are *character* offsets (Python ``str`` indexing) into the original ``text``:
the masked copy has the same number of characters (:mod:`toolkit.masking`), and a
match's position is the summed character length of the pieces the turn is split
into around its matches, so bytes never enter the arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from toolkit.lexicon import (
    Cue,
    Lexicon,
    ascii_boundaries,
    default_lexicon,
    load_lexicon,
)
from toolkit.masking import FILL, mask, normalise, split_matches
from toolkit.schema import SLIP_CATEGORIES, TAGS, TURNS, validate

__all__ = ["SENTENCE_BOUNDARY", "TAG_COLUMNS", "tag"]

TAG_COLUMNS: tuple[str, ...] = (
    *TAGS.names(),
    "cue_id",
    "lexicon_version",
    "layer",
    "task_requested",
)
"""Columns of :func:`tag`'s output: TAGS plus provenance and the task flag."""

_EXTRA = pl.Schema(
    {
        "cue_id": pl.String(),
        "lexicon_version": pl.String(),
        "layer": pl.String(),
        "task_requested": pl.Boolean(),
    }
)

SENTENCE_BOUNDARY = r"[.!?]+[\"')\]*_]*\s+|\n\s*"
"""A sentence boundary: terminal punctuation then whitespace, or a line break."""

_NEG = r"(?i)(?:\b(?:not|never|no|without|nor)\b|n't\b)(?:\W+\w+){0,3}\W*$"
_META = (
    r"(?i)(?:\b(?:phrases?|words?|expressions?|terms?|lines?|things?|stuff) like"
    r"|\b(?:the|a) (?:phrase|word|term|expression|line|formula)"
    r"|\b(?:saying|said|called|writing|wrote|typing))\s*[:\"']?\s*$"
)
_FIRST_PERSON_CONTEXT = 120  # characters of context kept on each side of a match

# Categories are matched in layers: one regex pass finds the cues of every category
# in a layer (non-overlapping, leftmost first), so categories whose cues share words
# on purpose (sycophancy "you're right" and acknowledgement "you're right"; a
# correction and a manipulation attempt; pushback and a correction) sit in
# different layers and can both tag the same span.
_LAYER: dict[str, int] = {
    "hedge": 0,
    "disclaimer": 0,
    "refusal": 1,
    "boilerplate": 0,
    "ai_self_reference": 0,
    "identity": 0,
    "resistance": 1,
    "booster": 0,
    "sycophancy": 1,
    "meta_awareness": 1,
    "acknowledgement": 2,
    "correction": 0,
    "pushback": 1,
    "manipulation": 2,
}
_EARLY = ("start", "first", "first2")
_EARLY_CHARS = 400  # a layer of early-only cues is matched in this many characters
_FIRST2_CHARS = 200  # "first two sentences" also admits a start within ~40 tokens
_USER_CHUNK_CHARS = 4000  # user-turn layers are matched in chunks of this many regex chars
_PART_ROWS = 20_000  # turns are matched in parallel row slices of at least this many


def _rx(pattern: str) -> str:
    return ascii_boundaries(pattern, engine="rust")


def _persona(persona: str | Sequence[str] | None) -> tuple[str, ...]:
    if persona is None:
        return ()
    if isinstance(persona, str):
        persona = [persona]
    names = tuple(p.strip() for p in persona if isinstance(p, str) and p.strip())
    if len(names) != len(list(persona)):
        raise ValueError("persona must be a name or a list of non-empty names")
    return names


def _lexicon(lexicon: Lexicon | str | Path | None) -> Lexicon:
    if lexicon is None:
        return default_lexicon()
    if isinstance(lexicon, Lexicon):
        return lexicon
    if isinstance(lexicon, str | Path):
        return load_lexicon(lexicon)
    raise ValueError(
        f"lexicon must be None, a path or a Lexicon, got {type(lexicon).__name__}"
    )


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema={**TAGS, **_EXTRA})


def _find(
    sub: pl.LazyFrame, cues: list[tuple[Cue, str]], *, prefilter: bool, head: int | None
) -> pl.LazyFrame:
    """All non-overlapping matches of one layer's cues in ``sub`` (``_rid``, ``_m``).

    One regex pass splits each turn around its matches (:func:`split_matches`); the
    cumulative character lengths of the pieces give the offsets. ``prefilter``
    first keeps rows where ``str.contains`` finds a cue; ``head`` matches only the
    first ``head`` characters (for cues that may only fire early in the turn). Returns
    ``_rid, start, end, hit``; :func:`_identify` names the cues.
    """
    plain = "|".join(rx for _, rx in cues)
    text = pl.col("_m") if head is None else pl.col("_m").str.head(head)
    if prefilter:
        sub = sub.filter(text.str.contains(plain).fill_null(False))
    odd = pl.int_range(pl.len()) % 2 == 1
    found = (
        sub.select("_rid", split_matches(text, plain).alias("_p"))
        .filter(pl.col("_p").list.len() > 1)
        .select(
            "_rid",
            pl.col("_p")
            .list.eval(pl.element().str.len_chars().cum_sum().filter(odd))
            .alias("end"),
            pl.col("_p").list.eval(pl.element().filter(odd)).alias("hit"),
        )
        .explode(["end", "hit"])
    )

    return found.select(
        "_rid",
        (pl.col("end") - pl.col("hit").str.len_chars()).cast(pl.Int64).alias("start"),
        pl.col("end").cast(pl.Int64),
        "hit",
    )


def _chunks(cues: list[tuple[Cue, str]], limit: int | None) -> list[list[tuple[Cue, str]]]:
    """Split one layer's cues into runs whose joined regex stays under ``limit`` chars.

    A long alternation of loosely anchored patterns can thrash the regex engine's
    lazy-DFA cache (the user-turn correction cues did: 1.8 s for one pass over 28k
    turns against 0.1 s in two halves), so user layers are matched in chunks.
    """
    if limit is None:
        return [cues]
    out: list[list[tuple[Cue, str]]] = [[]]
    size = 0
    for cue, rx in cues:
        if out[-1] and size + len(rx) > limit:
            out.append([])
            size = 0
        out[-1].append((cue, rx))
        size += len(rx)
    return out


def _drop_overlaps(found: pl.DataFrame) -> pl.DataFrame:
    """Keep the leftmost (then longest) of overlapping same-category matches.

    Within one regex pass matches never overlap; a layer matched in chunks
    (:func:`_chunks`) can yield two overlapping spans of one category. Applied after
    the context rules, so a match that a rule drops does not hide its neighbour.
    """
    ordered = found.sort("_rid", "category", "start", pl.col("end"), descending=[False, False, False, True])
    # the groups (_rid, category) are contiguous after the sort: number them, and a
    # running max of (group << 32) + end gives the furthest end so far in the group
    # without a window expression (``end`` < 2**32)
    new = (pl.col("_rid") != pl.col("_rid").shift(1)).fill_null(True) | (
        pl.col("category") != pl.col("category").shift(1)
    ).fill_null(True)
    group = new.cum_sum().cast(pl.Int64) * (1 << 32)
    prev_end = (group + pl.col("end")).cum_max().shift(1) - group
    return ordered.filter(new | (pl.col("start") >= prev_end))


def _identify(found: pl.DataFrame, cues: list[tuple[Cue, str]]) -> pl.DataFrame:
    """Name the category and cue of each match found by :func:`_find`.

    ``cues`` are grouped by category (as :func:`tag` orders them), so the regex
    alternation is leftmost-first in that order and the cue of a match is the first
    cue that matches it whole. This is found in two steps: the category (one whole-
    match test per category), then the cue within that category's partition. A cue
    whose boundary assertion needs the text around the hit fails the whole-match
    test; such rare hits get the first cue found inside them.
    """
    if found.height == 0:
        return found.with_columns(
            pl.lit(None, pl.String).alias("cue_id"), pl.lit(None, pl.String).alias("category")
        ).select("_rid", "start", "end", "hit", "cue_id", "category")
    by_cat: dict[str, list[tuple[Cue, str]]] = {}
    for cue, rx in cues:
        by_cat.setdefault(cue.category, []).append((cue, rx))

    def first(options: list[tuple[str, str]], whole: bool) -> pl.Expr:
        return pl.coalesce(
            [
                pl.when(pl.col("hit").str.contains(f"^(?:{rx})$" if whole else rx)).then(
                    pl.lit(value)
                )
                for value, rx in options
            ]
        )

    def name(df: pl.DataFrame, whole: bool) -> pl.DataFrame:
        union = [(cat, "|".join(rx for _, rx in cs)) for cat, cs in by_cat.items()]
        df = df.with_columns(first(union, whole).alias("category"))
        parts = []
        for (cat,), part in df.partition_by("category", as_dict=True).items():
            options = [(c.id, rx) for c, rx in by_cat.get(str(cat), [])]
            cue_id = first(options, whole) if options else pl.lit(None, pl.String)
            parts.append(part.with_columns(cue_id.alias("cue_id")))
        return pl.concat(parts, how="vertical_relaxed") if parts else df

    # The cue of a match depends on its matched text only: name each distinct text
    # once (whole-match test, then the in-hit search for the rare rest) and join back.
    hits = found.select("hit").unique()
    whole = name(hits, True).select("hit", pl.col("category").alias("_c1"), pl.col("cue_id").alias("_q1"))
    rare_hits = whole.filter(pl.col("_q1").is_null()).select("hit")
    inner = (
        name(rare_hits, False).select("hit", pl.col("category").alias("_c2"), pl.col("cue_id").alias("_q2"))
        if rare_hits.height
        else pl.DataFrame(schema={"hit": pl.String, "_c2": pl.String, "_q2": pl.String})
    )
    # Rows come out in the order the per-category partitions gave before: first the
    # whole-matched rows, grouped by category in order of first appearance, then the
    # rare rows grouped likewise (downstream tie-breaking depends on this order).
    out = (
        found.with_row_index("_i")
        .join(whole, on="hit", how="left")
        .join(inner, on="hit", how="left")
        .with_columns(pl.col("_q1").is_null().alias("_rare"))
        .with_columns(
            pl.when(pl.col("_rare")).then(pl.col("_c2")).otherwise(pl.col("_c1")).alias("category"),
            pl.when(pl.col("_rare")).then(pl.col("_q2")).otherwise(pl.col("_q1")).alias("cue_id"),
        )
        .with_columns(pl.col("_i").min().over("_rare", "category").alias("_g"))
        .sort("_rare", "_g", "_i")
    )
    return out.drop_nulls("cue_id").select("_rid", "start", "end", "hit", "cue_id", "category")


def _sentence_context(
    spans: pl.DataFrame,
    base: pl.DataFrame,
    *,
    sent_ids: frozenset[str] | None = None,
    last_ids: frozenset[str] | None = None,
) -> pl.DataFrame:
    """Add sentence index, last sentence index, same-sentence left/right context.

    Only the position rules read ``_sent`` and ``_last``: ``sent_ids`` and
    ``last_ids`` (``None`` for all cues) name the cues that need them. ``_sent`` is
    left null when no span's cue needs it; ``_last`` is null in turns without a span
    whose cue needs it.
    """
    need_last = spans if last_ids is None else spans.filter(pl.col("cue_id").is_in(sorted(last_ids)))
    rows = need_last.select("_rid").unique()
    last = (
        base.join(rows, on="_rid", how="semi")
        .select(
            "_rid",
            pl.col("_m")
            .str.strip_chars_end()
            .str.head(-1)
            .str.count_matches(SENTENCE_BOUNDARY)
            .cast(pl.Int64)
            .alias("_last"),
        )
    )
    k = _FIRST_PERSON_CONTEXT
    out = spans.join(base.select("_rid", "_m"), on="_rid", how="left").join(
        last, on="_rid", how="left"
    )
    prefix = pl.col("_m").str.head(pl.col("start"))
    need_sent = sent_ids is None or spans["cue_id"].is_in(sorted(sent_ids)).any()
    return out.with_columns(
        (
            prefix.str.count_matches(SENTENCE_BOUNDARY).cast(pl.Int64)
            if need_sent
            else pl.lit(None, pl.Int64)
        ).alias("_sent"),
        prefix.str.tail(k)
        .str.replace(rf"(?s)^.*(?:{SENTENCE_BOUNDARY})", "")
        .alias("_left"),
        pl.col("_m")
        .str.slice(pl.col("end"), k)
        .str.replace(r"(?s)([.!?]+|\n).*$", "${1}")
        .alias("_right"),
    ).drop("_m")


def _position_ok(position: str) -> pl.Expr:
    no_words_left = ~pl.col("_left").str.contains(r"\w")
    if position == "start":
        return (pl.col("_sent") == 0) & no_words_left
    if position == "sstart":
        return no_words_left
    if position == "first":
        return pl.col("_sent") == 0
    if position == "first2":
        # the first two sentences or the first ~40 tokens (lexicons.md section 10)
        return (pl.col("_sent") <= 1) | (pl.col("start") < _FIRST2_CHARS)
    if position == "last2":
        return pl.col("_sent") >= pl.col("_last") - 1
    return pl.lit(True)


def _user_flags(base: pl.DataFrame, lex: Lexicon) -> pl.DataFrame:
    """Per user turn: did it ask for an opinion, and for which categories' content.

    Returns ``_prev_rid`` (the user row), ``_opinion`` and ``_req_<category>``.
    """
    users = base.filter(pl.col("role") == "user").select(pl.col("_rid").alias("_prev_rid"), "_m")
    cols = [
        (
            pl.col("_m").str.contains(_rx(f"(?i){lex.opinion}")).fill_null(False)
            if lex.opinion
            else pl.lit(False)
        ).alias("_opinion")
    ]
    if lex.requested:
        union = _rx("(?i)" + "|".join(f"(?:{rx})" for rx in lex.requested.values()))
        cand = users.filter(pl.col("_m").str.contains(union).fill_null(False)).select(
            "_prev_rid",
            *[
                pl.col("_m").str.contains(_rx(f"(?i){rx}")).alias(f"_req_{c}")
                for c, rx in lex.requested.items()
            ],
        )
        users = users.join(cand, on="_prev_rid", how="left")
    return users.select("_prev_rid", *cols, *[f"_req_{c}" for c in lex.requested])


def _apply_rules(
    spans: pl.DataFrame,
    cues: dict[str, Cue],
    prev: pl.DataFrame,
    flags: pl.DataFrame,
    base: pl.DataFrame,
    pushback_rids: pl.Series,
    correction_rids: pl.Series | None = None,
) -> pl.DataFrame:
    """Drop matches that a cue's context rules exclude (one partition per cue)."""
    if spans.height == 0:
        return spans
    spans = spans.join(prev.select("_rid", "_prev_rid", "_prev_asst"), on="_rid", how="left").join(
        flags, on="_prev_rid", how="left"
    )
    kept: list[pl.DataFrame] = []
    sentence = pl.col("_left") + pl.col("hit") + pl.col("_right")
    for (cid,), part in spans.partition_by("cue_id", as_dict=True).items():
        cue = cues[str(cid)]
        drop: list[pl.Expr] = []
        if cue.position != "any":
            drop.append(~_position_ok(cue.position))
        if cue.exclude_negated:
            drop.append(pl.col("_left").str.contains(_rx(_NEG)))
        if cue.role == "assistant":
            drop.append(pl.col("_left").str.contains(_rx(_META)))
        if cue.exclude_left:
            drop.append(pl.col("_left").str.contains(_rx(f"(?i){cue.exclude_left}")))
        if cue.exclude_right:
            drop.append(pl.col("_right").str.contains(_rx(f"(?i){cue.exclude_right}")))
        if cue.require_sentence:
            drop.append(~sentence.str.contains(_rx(f"(?i){cue.require_sentence}")))
        if cue.require_turn:
            part = part.join(base.select("_rid", pl.col("_m").alias("_mt")), on="_rid", how="left")
            drop.append(~pl.col("_mt").str.contains(_rx(f"(?i){cue.require_turn}")))
        if cue.skip_code:
            drop.append(sentence.str.contains(FILL, literal=True))
        if cue.opinion_exempt:
            drop.append(pl.col("_opinion").fill_null(False))
        if cue.after_pushback:
            drop.append(~pl.col("_prev_rid").is_in(pushback_rids.implode()).fill_null(False))
        if cue.not_after_pushback:
            drop.append(pl.col("_prev_rid").is_in(pushback_rids.implode()).fill_null(False))
        if cue.not_after_correction and correction_rids is not None:
            drop.append(pl.col("_prev_rid").is_in(correction_rids.implode()).fill_null(False))
        if cue.after_challenge:
            challenged = pushback_rids
            if correction_rids is not None:
                challenged = pl.concat([pushback_rids, correction_rids])
            drop.append(~pl.col("_prev_rid").is_in(challenged.implode()).fill_null(False))
        if cue.after_assistant:
            drop.append(pl.col("_prev_asst").is_null())
        if drop:
            part = part.filter(~pl.any_horizontal(drop).fill_null(False))
        kept.append(part.drop("_mt", strict=False))
    return pl.concat(kept, how="vertical")


def _previous_turns(base: pl.DataFrame) -> pl.DataFrame:
    """For every row: the row id of the previous user and previous assistant turn."""
    ordered = base.select("_rid", "conversation_id", "conversation_index", "turn", "role").sort(
        "conversation_index", "conversation_id", "turn", "_rid"
    )
    conv = ["conversation_index", "conversation_id"]
    return ordered.select(
        "_rid",
        pl.when(pl.col("role") == "user")
        .then(pl.col("_rid"))
        .shift(1)
        .forward_fill()
        .over(conv)
        .alias("_prev_rid"),
        pl.when(pl.col("role") == "assistant")
        .then(pl.col("_rid"))
        .shift(1)
        .forward_fill()
        .over(conv)
        .alias("_prev_asst"),
    )


def _correction_targets(
    corr: pl.DataFrame, base: pl.DataFrame, prev: pl.DataFrame, asst: pl.DataFrame, lex: Lexicon
) -> pl.DataFrame:
    """Infer ``target`` for correction spans.

    The section 7 word map is tried on the matched words, then the sentence, then
    the whole user turn (unmasked, so a quoted slip counts); failing that, the
    unique slip category of the previous assistant turn; else ``"unspecified"``.
    Each stage only sees the spans the earlier stages left unresolved.
    """
    corr = corr.select("_rid", "start", "end", "hit", "_left", "_right", "category", "cue_id")
    if corr.height == 0:
        return corr.with_columns(pl.lit(None, pl.String).alias("target"))
    cats = list(lex.targets)

    def words(col: str | pl.Expr) -> pl.Expr:
        expr = pl.col(col) if isinstance(col, str) else col
        if not cats:
            return pl.lit([], pl.List(pl.String))
        return pl.concat_list(
            [
                pl.when(expr.str.contains(_rx(f"(?i){lex.targets[c]}")))
                .then(pl.lit(c))
                .otherwise(pl.lit(None, pl.String))
                for c in cats
            ]
        ).list.drop_nulls()

    def words_by(df: pl.DataFrame, key: str, col: str) -> pl.DataFrame:
        # the word map depends on ``col`` only: run it once per distinct ``key``
        cols = [key] if key == col else [key, col]
        found = df.select(cols).unique(key).select(key, words(col).alias("target"))
        return df.join(found, on=key, how="left")

    done: list[pl.DataFrame] = []
    todo = words_by(corr, "hit", "hit")
    done.append(todo.filter(pl.col("target").list.len() > 0))
    todo = todo.filter(pl.col("target").list.len() == 0)
    if todo.height:
        norm = base.join(todo.select("_rid").unique(), on="_rid", how="semi").select(
            "_rid", normalise(pl.col("text")).alias("_norm")
        )
        todo = todo.join(norm, on="_rid", how="left")
        s0 = pl.col("start") - pl.col("_left").str.len_chars()
        s1 = pl.col("end") + pl.col("_right").str.len_chars()
        todo = todo.with_columns(words(pl.col("_norm").str.slice(s0, s1 - s0)).alias("target"))
        done.append(todo.filter(pl.col("target").list.len() > 0).drop("_norm"))
        todo = todo.filter(pl.col("target").list.len() == 0)
        todo = words_by(todo.drop("target"), "_rid", "_norm").drop("_norm")
        done.append(todo.filter(pl.col("target").list.len() > 0))
        todo = todo.filter(pl.col("target").list.len() == 0)
    if todo.height:
        todo = todo.join(prev.select("_rid", "_prev_asst"), on="_rid", how="left")
        slips = (
            asst.filter(pl.col("category").is_in(list(SLIP_CATEGORIES)))
            .join(todo.select(pl.col("_prev_asst").alias("_rid")).unique(), on="_rid", how="semi")
            .group_by("_rid")
            .agg(pl.col("category").n_unique().alias("_n"), pl.col("category").first())
            .filter(pl.col("_n") == 1)
            .select(pl.col("_rid").alias("_prev_asst"), pl.col("category").alias("_prev_cat"))
        )
        todo = todo.join(slips, on="_prev_asst", how="left").with_columns(
            pl.concat_list(pl.col("_prev_cat").fill_null("unspecified")).alias("target")
        )
        done.append(todo.drop("_prev_asst", "_prev_cat"))
    return pl.concat(done, how="vertical").explode("target")


def tag(
    turns: pl.DataFrame,
    *,
    persona: str | Sequence[str] | None = None,
    lexicon: Lexicon | str | Path | None = None,
) -> pl.DataFrame:
    """Tag slips, identity talk and acknowledgements in assistant turns, and
    corrections, pushback and manipulation attempts in user turns.

    Parameters
    ----------
    turns
        A TURNS frame (``timestamp``, ``source`` and ``format`` may be missing).
    persona
        The assistant's given name(s); the ``identity.name`` cue needs them. A name
        in a user turn, inside quotes, or in third person is never tagged.
    lexicon
        ``None`` for the bundled lexicon, a TOML path (extends the bundled lexicon
        unless the file says ``replace = true``), or a :class:`toolkit.lexicon.Lexicon`.

    Returns
    -------
    polars.DataFrame
        TAGS (one row per matched span, sorted by conversation, turn, start) plus
        ``cue_id``, ``lexicon_version``, ``layer`` (``"lexicon"``) and
        ``task_requested`` (the previous user turn asked for this kind of content,
        e.g. a disclaimer; for annotators, not a filter). ``start``/``end`` are
        character offsets: ``text[start:end] == match``. ``target`` is set for
        ``correction`` only: a slip category, ``"drift"`` (training/script talk) or
        ``"unspecified"``; a correction naming two categories gives one row per
        target. Manipulation and correction may both tag the same words; no intent
        is inferred.

    Examples
    --------
    >>> import polars as pl
    >>> turns = pl.DataFrame({
    ...     "conversation_id": ["c"] * 3, "conversation_index": [0] * 3,
    ...     "turn": [0, 1, 2], "role": ["user", "assistant", "user"],
    ...     "text": ["Is 7 prime?",
    ...              "It might be prime. It's important to note I'm not a mathematician.",
    ...              "Stop hedging."],
    ... })
    >>> tags = tag(turns)
    >>> tags.select("turn", "category", "subtype", "target", "match").rows()
    [(1, 'hedge', 'hedge.H1', None, 'might be'),
     (1, 'disclaimer', 'disclaimer.stock_caveat', None, "It's important to note"),
     (2, 'correction', 'correction.C2', 'hedge', 'Stop hedging')]
    """
    turns = validate(turns, TURNS, "TURNS", optional=("timestamp", "source", "format"))
    lex = _lexicon(lexicon)
    names = _persona(persona)
    if turns.height == 0:
        return _empty()
    base = turns.select(
        "conversation_id", "conversation_index", "turn", "role", "text"
    ).with_row_index("_rid")
    base = base.with_columns(mask(base["text"]).alias("_m"))
    prev = _previous_turns(base)

    cue_by_id = {c.id: c for c in lex.cues}
    layers: dict[tuple[str, int], list[tuple[Cue, str]]] = {}
    for cue in lex.cues:
        rx = cue.regex(names, engine="rust")
        if rx is not None:
            layers.setdefault((cue.role, _LAYER.get(cue.category, 9)), []).append((cue, rx))
    # within a layer, cues are grouped by category (in order of first appearance)
    first_seen = {c: i for i, c in reversed(list(enumerate(c.category for c in lex.cues)))}
    for cues in layers.values():
        cues.sort(key=lambda cr: first_seen[cr[0].category])

    # the position rules are the only readers of the sentence index (_sent, _last)
    sent_ids = frozenset(c.id for c in lex.cues if c.position in ("start", "first", "first2", "last2"))
    last_ids = frozenset(c.id for c in lex.cues if c.position == "last2")

    def run(role: str) -> pl.DataFrame:
        # one lazy query per layer, collected together so polars can use all cores
        sub_df = base.filter(pl.col("role") == role).select("_rid", "_m")
        if role == "user":
            # corrections, pushback and manipulation are rare: a cheap pass over all
            # user turns (in chunks, see _chunks) finds the few that need the per-layer
            # passes
            mine_all = [cr for (r, _), cues in layers.items() if r == role for cr in cues]
            hits = [
                pl.col("_m").str.contains("|".join(rx for _, rx in chunk)).fill_null(False)
                for chunk in _chunks(mine_all, _USER_CHUNK_CHARS)
                if chunk
            ]
            if hits:
                sub_df = sub_df.filter(pl.any_horizontal(hits))
        # contiguous row slices, matched in parallel and concatenated in order
        n_parts = max(1, min(pl.thread_pool_size(), sub_df.height // _PART_ROWS))
        step = max(1, -(-sub_df.height // n_parts))
        subs = [sub_df.slice(i, step).lazy() for i in range(0, max(sub_df.height, 1), step)]
        queries: list[pl.LazyFrame] = []
        mine = [
            (layer, chunk)
            for (r, layer), cues in layers.items()
            if r == role
            for chunk in _chunks(cues, _USER_CHUNK_CHARS if role == "user" else None)
        ]
        for layer, cues in mine:
            early = all(c.position in _EARLY for c, _ in cues)
            queries.extend(
                _find(
                    sub,
                    cues,
                    prefilter=role == "assistant" and layer != 0,
                    head=_EARLY_CHARS if early else None,
                )
                for sub in subs
            )
        if not queries:
            return pl.DataFrame()
        results = pl.collect_all(queries)
        k = len(subs)
        found = pl.concat(
            [
                _identify(pl.concat(results[i * k : (i + 1) * k], how="vertical"), cues)
                for i, (_, cues) in enumerate(mine)
            ]
        )
        if found.height == 0:
            return found
        return _sentence_context(found, base, sent_ids=sent_ids, last_ids=last_ids)

    flags = _user_flags(base, lex)
    no_rids = pl.Series([], dtype=pl.UInt32)
    user = _apply_rules(run("user"), cue_by_id, prev, flags, base, no_rids)
    if user.height:
        # user layers run in chunks: keep one of overlapping same-category matches
        user = _drop_overlaps(user)
    pushback = (
        user.filter(pl.col("category") == "pushback")["_rid"].unique() if user.height else no_rids
    )
    corrected = (
        user.filter(pl.col("category") == "correction")["_rid"].unique()
        if user.height
        else no_rids
    )
    asst = _apply_rules(run("assistant"), cue_by_id, prev, flags, base, pushback, corrected)

    if asst.height:
        req = [
            pl.when(pl.col("category") == c).then(pl.col(f"_req_{c}"))
            for c in lex.requested
        ]
        flag = pl.coalesce([*req, pl.lit(False)]) if req else pl.lit(False)
        asst = asst.with_columns(
            flag.fill_null(False).alias("task_requested"),
            pl.lit(None, pl.String).alias("target"),
        )
    if user.height:
        corr = _correction_targets(
            user.filter(pl.col("category") == "correction"),
            base,
            prev,
            asst if asst.height else pl.DataFrame(schema={"_rid": pl.UInt32, "category": pl.String}),
            lex,
        )
        other = user.filter(pl.col("category") != "correction").with_columns(
            pl.lit(None, pl.String).alias("target")
        )
        user = pl.concat([corr, other], how="diagonal_relaxed").with_columns(
            pl.lit(False).alias("task_requested")
        )
    frames = [f for f in (user, asst) if f.height]
    if not frames:
        return _empty()
    cols = ["_rid", "start", "end", "category", "cue_id", "target", "task_requested"]
    spans = pl.concat([f.select(cols) for f in frames], how="vertical_relaxed")
    out = spans.join(base.drop("_m"), on="_rid", how="left").with_columns(
        pl.col("cue_id")
        .replace_strict({c.id: c.full_subtype for c in lex.cues}, return_dtype=pl.String)
        .alias("subtype"),
        pl.col("text").str.slice(pl.col("start"), pl.col("end") - pl.col("start")).alias("match"),
        pl.lit(lex.version).alias("lexicon_version"),
        pl.lit("lexicon").alias("layer"),
    )
    out = out.sort("conversation_index", "conversation_id", "turn", "start", "category", "target")
    return validate(out.select(TAG_COLUMNS), TAGS, "TAGS").select(
        [pl.col(c).cast(t) for c, t in {**TAGS, **_EXTRA}.items()]
    )
