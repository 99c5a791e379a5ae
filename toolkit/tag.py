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

How the work is laid out (the regex passes dominate the time): the turns are masked
once; each role's turns are cut into row slices and all of the role's passes run in
one parallel collect (:func:`_collect_finds`), each pass but the assistant's first
layer keeping only the turns its pattern matches at all; a match's text is sliced
from the masked turn afterwards. A turn's columns are looked up by row number
(``gather`` on ``_rid``, all columns in one chunk) instead of joined. No step relies
on row order: the final sort fixes it, and when two cues of one category tag the
same span, the cue listed first in the lexicon is kept.
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
from toolkit.masking import FILL, _by_parts, mask, normalise, split_matches
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
# Assistant layers are matched whole up to this many regex chars, in chunks beyond:
# the 2026.11.5 lexicon's first assistant layer (33k chars) overflowed the regex
# engine's lazy-DFA cache, 5 s per 10k turns against 0.11 s in three chunks.
_ASSISTANT_CHUNK_CHARS = 15_000
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
    ``_rid, start, end`` (the matched text is sliced from ``_m`` afterwards).
    """
    plain = "|".join(rx for _, rx in cues)
    text = pl.col("_m") if head is None else pl.col("_m").str.head(head)
    if prefilter:
        sub = sub.filter(text.str.contains(plain).fill_null(False))
    pieces = sub.select("_rid", split_matches(text, plain).alias("_p")).filter(
        pl.col("_p").list.len() > 1
    )
    # flat piece lengths: a running sum restarted at each turn's first piece gives
    # every piece's end; matches are the odd pieces (no per-list evaluation)
    lens = pieces.select(
        "_rid",
        pl.col("_p").list.eval(pl.element().str.len_chars().cast(pl.Int64)).alias("_l"),
        pl.int_ranges(0, pl.col("_p").list.len()).alias("_j"),
    ).explode(["_l", "_j"])
    total = pl.col("_l").cum_sum()
    end = total - pl.when(pl.col("_j") == 0).then(total - pl.col("_l")).forward_fill()
    return (
        lens.with_columns(end.alias("end"))
        .filter(pl.col("_j") % 2 == 1)
        .select("_rid", (pl.col("end") - pl.col("_l")).alias("start"), "end")
    )


def _chunks(cues: list[tuple[Cue, str]], limit: int | None) -> list[list[tuple[Cue, str]]]:
    """Split one layer's cues into runs whose joined regex stays under ``limit`` chars.

    A long alternation of loosely anchored patterns can thrash the regex engine's
    lazy-DFA cache (the user-turn correction cues did: 1.8 s for one pass over 28k
    turns against 0.1 s in two halves), so user layers are matched in chunks, and
    assistant layers once they pass ``_ASSISTANT_CHUNK_CHARS``. Cues of one
    category in two chunks can match overlapping spans: :func:`_drop_overlaps`.
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


def _drop_overlaps(found: pl.DataFrame, rank: dict[str, int]) -> pl.DataFrame:
    """Keep the leftmost (then longest) of overlapping same-category matches.

    Within one regex pass matches never overlap; a user layer matched in chunks
    (:func:`_chunks`) can yield two overlapping spans of one category. Applied after
    the context rules, so a match that a rule drops does not hide its neighbour.
    Two cues of one category on the very same span: the cue that comes first in the
    lexicon (``rank``: cue id -> position) wins, whatever the row order.
    """
    ordered = found.with_columns(
        pl.col("cue_id").replace_strict(rank, return_dtype=pl.Int64).alias("_rank")
    ).sort(
        "_rid", "category", "start", "end", "_rank", descending=[False, False, False, True, False]
    )
    # the groups (_rid, category) are contiguous after the sort: number them, and a
    # running max of (group << 32) + end gives the furthest end so far in the group
    # without a window expression (``end`` < 2**32)
    new = (pl.col("_rid") != pl.col("_rid").shift(1)).fill_null(True) | (
        pl.col("category") != pl.col("category").shift(1)
    ).fill_null(True)
    group = new.cum_sum().cast(pl.Int64) * (1 << 32)
    prev_end = (group + pl.col("end")).cum_max().shift(1) - group
    return ordered.filter(new | (pl.col("start") >= prev_end)).drop("_rank")


def _leftmost_first(found: pl.DataFrame) -> pl.DataFrame:
    """Resolve the matches of a layer matched in chunks as one regex pass would.

    ``found`` has ``_rid, start, end`` and ``_alt`` (the cue's place in the layer's
    alternation). In each turn, scanning left to right, the match that starts first
    is kept (among those starting at one place, the earliest alternative) and every
    match overlapping a kept one is dropped; then the scan goes on after it. A kept
    match depends only on the kept matches before it, so "kept" is found by
    repeating one vectorised step until nothing changes (as many steps as the
    longest chain of overlapping matches).
    """
    df = found.sort("_rid", "start", "_alt")
    first = (pl.col("_rid") != pl.col("_rid").shift(1)).fill_null(True)
    df = df.with_columns((first.cum_sum().cast(pl.Int64) * (1 << 32)).alias("_g"), first.alias("_first"))
    keep = pl.repeat(True, df.height, eager=True)
    while True:
        # furthest end of the kept matches before each row, in its own turn
        prev_end = (pl.col("_g") + pl.when(keep).then(pl.col("end")).otherwise(0)).cum_max().shift(
            1
        ) - pl.col("_g")
        now = df.select((pl.col("_first") | (pl.col("start") >= prev_end)).alias("k")).to_series()
        if now.equals(keep):
            break
        keep = now
    return df.filter(keep).drop("_g", "_first")


def _identify(found: pl.DataFrame, cues: list[tuple[Cue, str]]) -> pl.DataFrame:
    """Name the category and cue of each match found by :func:`_find`.

    ``cues`` are grouped by category (as :func:`tag` orders them), so the regex
    alternation is leftmost-first in that order and the cue of a match is the first
    cue that matches it whole. This is found in two steps: the category (one whole-
    match test per category), then the cue within that category's partition. A cue
    whose boundary assertion needs the text around the hit fails the whole-match
    test; such rare hits get the first cue found inside them. The cue of a match
    depends on its matched text only, so each distinct text is named once and the
    names are joined back (row order is not kept: :func:`tag` sorts at the end).
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

    hits = found.select("hit").unique()
    whole = name(hits, True).select("hit", "category", "cue_id")
    names = whole.filter(pl.col("cue_id").is_not_null())
    rare_hits = whole.filter(pl.col("cue_id").is_null()).select("hit")
    if rare_hits.height:
        rare = name(rare_hits, False).select("hit", "category", "cue_id")
        names = pl.concat([names, rare.filter(pl.col("cue_id").is_not_null())])
    return found.join(names, on="hit", how="inner").select(
        "_rid", "start", "end", "hit", "cue_id", "category"
    )


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
    null for spans whose cue does not need it; ``_last`` is null in turns without a
    span whose cue needs it. ``_rid`` is the row number of ``base``, so the turn's
    masked text is gathered by position (no join), and the left context is a
    window of at most ``_FIRST_PERSON_CONTEXT`` characters (no copy of the prefix).
    """
    need_last = spans if last_ids is None else spans.filter(pl.col("cue_id").is_in(sorted(last_ids)))
    rows = need_last["_rid"].unique()
    last = pl.repeat(None, base.height, dtype=pl.Int64, eager=True).alias("_last")
    if rows.len():
        counts = (
            base["_m"]
            .gather(rows)
            .str.strip_chars_end()
            .str.head(-1)
            .str.count_matches(SENTENCE_BOUNDARY)
            .cast(pl.Int64)
        )
        last = last.scatter(rows, counts)
    k = _FIRST_PERSON_CONTEXT
    out = spans.with_columns(
        base["_m"].gather(spans["_rid"]).alias("_m"),
        last.gather(spans["_rid"]).alias("_last"),
    )
    need = pl.lit(True) if sent_ids is None else pl.col("cue_id").is_in(sorted(sent_ids))
    left0 = (pl.col("start") - k).clip(lower_bound=0)
    context = [
        # the sentence index counts boundaries in the prefix; spans that do not need
        # it get an empty prefix (head(0)) and a null
        pl.when(need)
        .then(
            pl.col("_m")
            .str.head(pl.when(need).then(pl.col("start")).otherwise(0))
            .str.count_matches(SENTENCE_BOUNDARY)
            .cast(pl.Int64)
        )
        .alias("_sent"),
        pl.col("_m")
        .str.slice(left0, pl.col("start") - left0)
        .str.replace(rf"(?s)^.*(?:{SENTENCE_BOUNDARY})", "")
        .alias("_left"),
        pl.col("_m")
        .str.slice(pl.col("end"), k)
        .str.replace(r"(?s)([.!?]+|\n).*$", "${1}")
        .alias("_right"),
    ]
    return _by_parts(out, lambda lf: lf.with_columns(context).drop("_m"))


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


def _user_flags(base: pl.DataFrame, lex: Lexicon) -> pl.LazyFrame:
    """Per user turn: did it ask for an opinion, and for which categories' content.

    Returns (lazily, to be collected with the regex passes) ``_prev_rid`` (the user
    row), ``_opinion`` and ``_req_<category>``.
    """
    users = base.lazy().filter(pl.col("role") == "user").select(pl.col("_rid").alias("_prev_rid"), "_m")
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
    """Drop matches that a cue's context rules exclude (one partition per cue).

    ``prev`` and ``flags`` are dense per turn (see :func:`_dense`).
    """
    if spans.height == 0:
        return spans
    # ``prev`` and ``flags`` are dense (row i describes turn _rid == i): gather, no join
    spans = spans.with_columns(
        prev["_prev_rid"].gather(spans["_rid"]), prev["_prev_asst"].gather(spans["_rid"])
    )
    spans = spans.with_columns(
        [flags[c].gather(spans["_prev_rid"]) for c in flags.columns if c != "_ord"]
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
            part = part.with_columns(base["_m"].gather(part["_rid"]).alias("_mt"))
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


def _previous_turns(base: pl.DataFrame) -> pl.LazyFrame:
    """For every row: the row id of the previous user and previous assistant turn.

    Lazy, to be collected with the regex passes. After sorting by conversation and
    turn, a running "last row of this role" is kept only when it lies in the same
    conversation (at or after the conversation's first row): no window expression.
    """
    pos = pl.int_range(pl.len(), dtype=pl.Int64)
    first = (
        (pl.col("conversation_index") != pl.col("conversation_index").shift(1))
        | (pl.col("conversation_id") != pl.col("conversation_id").shift(1))
    ).fill_null(True)

    def last_before(role: str) -> pl.Expr:
        mine = pl.col("role") == role
        rid = pl.when(mine).then(pl.col("_rid")).shift(1).forward_fill()
        at = pl.when(mine).then(pos).shift(1).forward_fill()
        return pl.when(at >= pl.col("_start")).then(rid)

    return (
        base.lazy()
        .select("_rid", "conversation_id", "conversation_index", "turn", "role")
        .sort("conversation_index", "conversation_id", "turn", "_rid")
        .with_columns(pl.when(first).then(pos).forward_fill().alias("_start"))
        .select(
            "_rid",
            last_before("user").alias("_prev_rid"),
            last_before("assistant").alias("_prev_asst"),
        )
    )


def _dense(df: pl.DataFrame, n: int) -> pl.DataFrame:
    """``df`` keyed by ``_rid`` as ``n`` rows where row ``i`` is turn ``_rid == i``.

    Turns missing from ``df`` get nulls; ``_ord`` is ``df``'s own row order. Looking
    a turn up is then a ``gather`` instead of a join.
    """
    rid = df["_rid"]
    cols = {
        c: pl.repeat(None, n, dtype=df.schema[c], eager=True).alias(c).scatter(rid, df[c])
        for c in df.columns
        if c != "_rid"
    }
    order = (
        pl.repeat(None, n, dtype=pl.UInt32, eager=True)
        .alias("_ord")
        .scatter(rid, pl.int_range(0, df.height, dtype=pl.UInt32, eager=True))
    )
    return pl.DataFrame({**cols, "_ord": order})


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

    union = _rx("(?i)(?:" + "|".join(f"(?:{lex.targets[c]})" for c in cats) + ")")

    def tagged(df: pl.DataFrame, src: pl.Expr) -> pl.DataFrame:
        # ``target``: the categories whose words occur in ``src`` (in ``cats`` order);
        # one union pass first, the per-category tests only where it matches
        df = df.with_columns(src.alias("_src"))
        none = pl.lit([], pl.List(pl.String)).alias("target")
        if not cats:
            return df.with_columns(none).drop("_src")
        found = pl.concat_list(
            [
                pl.when(pl.col("_src").str.contains(_rx(f"(?i){lex.targets[c]}")))
                .then(pl.lit(c))
                .otherwise(pl.lit(None, pl.String))
                for c in cats
            ]
        ).list.drop_nulls()
        df = _by_parts(
            df, lambda lf: lf.with_columns(pl.col("_src").str.contains(union).fill_null(False).alias("_hit"))
        )
        yes = _by_parts(df.filter("_hit"), lambda lf: lf.with_columns(found.alias("target")))
        return pl.concat([yes, df.filter(~pl.col("_hit")).with_columns(none)]).drop("_src", "_hit")

    def words_by(df: pl.DataFrame, key: str, col: str) -> pl.DataFrame:
        # the word map depends on ``col`` only: run it once per distinct ``key``
        cols = [key] if key == col else [key, col]
        found = tagged(df.select(cols).unique(key), pl.col(col)).select(key, "target")
        return df.join(found, on=key, how="left")

    done: list[pl.DataFrame] = []
    todo = words_by(corr, "hit", "hit")
    done.append(todo.filter(pl.col("target").list.len() > 0))
    todo = todo.filter(pl.col("target").list.len() == 0)
    if todo.height:
        rids = todo["_rid"].unique()
        norm = pl.DataFrame({"_rid": rids, "_norm": base["text"].gather(rids)}).with_columns(
            normalise(pl.col("_norm"))
        )
        todo = todo.drop("target").join(norm, on="_rid", how="left")
        s0 = pl.col("start") - pl.col("_left").str.len_chars()
        s1 = pl.col("end") + pl.col("_right").str.len_chars()
        todo = tagged(todo, pl.col("_norm").str.slice(s0, s1 - s0))
        done.append(todo.filter(pl.col("target").list.len() > 0).drop("_norm"))
        todo = todo.filter(pl.col("target").list.len() == 0)
        todo = words_by(todo.drop("target"), "_rid", "_norm").drop("_norm")
        done.append(todo.filter(pl.col("target").list.len() > 0))
        todo = todo.filter(pl.col("target").list.len() == 0)
    if todo.height:
        todo = todo.with_columns(prev["_prev_asst"].gather(todo["_rid"]))
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


def _slices(df: pl.DataFrame) -> list[pl.LazyFrame]:
    """Contiguous row slices of ``df`` (one per thread when it is large enough)."""
    n_parts = max(1, min(pl.thread_pool_size(), df.height // _PART_ROWS))
    step = max(1, -(-df.height // n_parts))
    return [df.slice(i, step).lazy() for i in range(0, max(df.height, 1), step)]


_Plan = list[tuple[int, list[tuple[Cue, str]]]]


def _collect_finds(
    base: pl.DataFrame, plans: dict[str, _Plan], extra: Sequence[pl.LazyFrame] = ()
) -> tuple[dict[str, pl.DataFrame], list[pl.DataFrame]]:
    """Run every regex pass of a role in one parallel collect and name the cues.

    ``plans`` maps a role to its passes (layer, cues). Each role's turns are cut into
    row slices; one lazy query per slice holds all the role's passes (tagged with
    the pass number ``_k``), so polars runs the slices on all cores. Every pass but
    the assistant's first layer starts with a cheap ``contains`` of its own pattern
    (corrections, pushback, manipulation, sycophancy... are rare in real
    transcripts), so its offsets are only computed in the turns it matches. Returns
    per role the spans ``_rid, start, end, hit, cue_id, category`` (row order not
    meaningful), and the ``extra`` queries, collected with the first role's passes
    (one collect per role: all passes at once raise the peak memory).
    """
    queries: list[pl.LazyFrame] = []
    owners: list[str] = []
    for role, plan in plans.items():
        if not plan:
            continue
        sub_df = base.filter(pl.col("role") == role).select("_rid", "_m")
        # early-only cues are matched in the first characters only: decided per user
        # chunk (as ever), per whole assistant layer (so chunking keeps its result)
        late = {layer for layer, cues in plan for c, _ in cues if c.position not in _EARLY}
        for sub in _slices(sub_df):
            parts = [
                _find(
                    sub,
                    cues,
                    prefilter=role == "user" or layer != 0,
                    head=_EARLY_CHARS
                    if all(c.position in _EARLY for c, _ in cues)
                    and (role == "user" or layer not in late)
                    else None,
                ).with_columns(pl.lit(k, pl.Int32).alias("_k"))
                for k, (layer, cues) in enumerate(plan)
            ]
            queries.append(pl.concat(parts, how="vertical"))
            owners.append(role)
    results: list[pl.DataFrame] = []
    extras: list[pl.DataFrame] = []
    pending = list(extra)
    for role in plans:
        mine_q = [q for q, o in zip(queries, owners, strict=True) if o == role]
        if mine_q or pending:
            got = pl.collect_all([*mine_q, *pending])
            results.extend(got[: len(mine_q)])
            extras.extend(got[len(mine_q) :])
            pending = []
    out: dict[str, pl.DataFrame] = {}
    for role, plan in plans.items():
        mine = [r for r, o in zip(results, owners, strict=True) if o == role]
        if not mine:
            out[role] = _identify(
                pl.DataFrame(schema={"_rid": pl.UInt32, "start": pl.Int64, "end": pl.Int64, "hit": pl.String}),
                [],
            )
            continue
        found = pl.concat(mine, how="vertical")
        found = found.with_columns(
            base["_m"]
            .gather(found["_rid"])
            .str.slice(found["start"], found["end"] - found["start"])
            .alias("hit")
        )
        named = [
            _identify(part.drop("_k"), plan[int(str(k))][1]).with_columns(
                pl.lit(plan[int(str(k))][0], pl.Int32).alias("_layer")
            )
            for (k,), part in found.partition_by("_k", as_dict=True).items()
        ]
        named = _resolve_chunked(named, plan) if role == "assistant" else named
        out[role] = (
            pl.concat(named, how="vertical").drop("_layer")
            if named
            else _identify(found.drop("_k"), [])
        )
    return out, extras


def _resolve_chunked(named: list[pl.DataFrame], plan: _Plan) -> list[pl.DataFrame]:
    """For assistant layers matched in chunks, keep what one pass would have kept.

    ``named`` are the named matches per pass (with ``_layer``). A layer in one pass
    is left alone; the matches of a chunked layer are merged and resolved by
    :func:`_leftmost_first` in the layer's alternation order (its chunks in order).
    """
    chunked = {layer for layer, _ in plan if sum(1 for ly, _ in plan if ly == layer) > 1}
    if not chunked:
        return named
    alt = {
        (layer, cue.id): i
        for layer in chunked
        for i, (cue, _) in enumerate(cr for ly, cues in plan if ly == layer for cr in cues)
    }
    keep = [part for part in named if part.height and part["_layer"][0] not in chunked]
    for layer in sorted(chunked):
        parts = [part for part in named if part.height and part["_layer"][0] == layer]
        if not parts:
            continue
        merged = pl.concat(parts, how="vertical")
        ranks = {cid: i for (ly, cid), i in alt.items() if ly == layer}
        merged = merged.with_columns(
            pl.col("cue_id").replace_strict(ranks, return_dtype=pl.Int64).alias("_alt")
        )
        keep.append(_leftmost_first(merged).drop("_alt"))
    return keep


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
    # one chunk per column: the turn of a span is looked up by row number (``gather``),
    # which is slow across many chunks (a parquet file gives one per row group)
    base = base.rechunk()
    base = base.with_columns(mask(base["text"]).alias("_m")).rechunk()

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

    plans: dict[str, _Plan] = {
        role: [
            (layer, chunk)
            for (r, layer), cues in layers.items()
            if r == role
            for chunk in _chunks(cues, _USER_CHUNK_CHARS if role == "user" else _ASSISTANT_CHUNK_CHARS)
        ]
        for role in ("user", "assistant")
    }
    found, (prev, flags) = _collect_finds(base, plans, [_previous_turns(base), _user_flags(base, lex)])
    prev, flags = _dense(prev, base.height), _dense(flags.rename({"_prev_rid": "_rid"}), base.height)
    ctx = {
        role: _sentence_context(f, base, sent_ids=sent_ids, last_ids=last_ids) if f.height else f
        for role, f in found.items()
    }
    del found

    no_rids = pl.Series([], dtype=pl.UInt32)
    rank = {c.id: i for i, c in enumerate(lex.cues)}
    user = _apply_rules(ctx["user"], cue_by_id, prev, flags, base, no_rids)
    if user.height:
        # user layers run in chunks: keep one of overlapping same-category matches
        user = _drop_overlaps(user, rank)
    pushback = (
        user.filter(pl.col("category") == "pushback")["_rid"].unique() if user.height else no_rids
    )
    corrected = (
        user.filter(pl.col("category") == "correction")["_rid"].unique()
        if user.height
        else no_rids
    )
    asst = _apply_rules(ctx["assistant"], cue_by_id, prev, flags, base, pushback, corrected)
    del ctx
    base = base.drop("_m")

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
    return _finish(spans, base, prev["_ord"], lex)


def _finish(spans: pl.DataFrame, base: pl.DataFrame, order: pl.Series, lex: Lexicon) -> pl.DataFrame:
    """Attach the turn columns (gathered by row number), subtype and match; sort.

    ``order`` is each turn's rank by (conversation_index, conversation_id, turn,
    _rid). The sort keys (rank, start, category, target) are unique per span;
    ``end`` and ``cue_id`` only break ties that a malformed frame could leave, so
    the order never depends on how the spans were found.
    """
    rid = spans["_rid"]
    spans = spans.with_columns(order.gather(rid).alias("_ord"))
    out = (
        spans.with_columns(
            [base[c].gather(rid) for c in ("conversation_id", "conversation_index", "turn", "role")]
        )
        .with_columns(
            base["text"]
            .gather(rid)
            .str.slice(spans["start"], spans["end"] - spans["start"])
            .alias("match"),
            pl.col("cue_id")
            .replace_strict({c.id: c.full_subtype for c in lex.cues}, return_dtype=pl.String)
            .alias("subtype"),
            pl.lit(lex.version).alias("lexicon_version"),
            pl.lit("lexicon").alias("layer"),
        )
    )
    out = out.sort("_ord", "start", "category", "target", "end", "cue_id")
    return validate(out.select(TAG_COLUMNS), TAGS, "TAGS").select(
        [pl.col(c).cast(t) for c, t in {**TAGS, **_EXTRA}.items()]
    )
