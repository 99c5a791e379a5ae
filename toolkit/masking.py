"""Same-length masking of text that must not be tagged (code, quotes, URLs).

The taggers match cues on a *masked* copy of each turn: fenced and inline code, ``>``
block quotes, URLs and double-quoted strings are overwritten character by character
with :data:`FILL`, and curly apostrophes and quotes are straightened. Every
replacement keeps the number of characters (Python ``str`` indexing), so a character
offset found in the masked text points at the same place in the original text.

Everything here is vectorised polars: each row is split around the masked spans in
one regex pass, the match pieces are blanked and the pieces joined again; no Python
loop runs over turns.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

__all__ = ["FILL", "MASK_PATTERN", "SEP", "mask", "normalise", "split_matches"]

FILL = "\x1a"
"""The filler character: not a word character, not whitespace, not punctuation."""

SEP = "\x00"
"""Internal separator; NUL in the input is masked to :data:`FILL` first."""

_CODE_FENCE = r"```[^\n]*\n?(?s:.*?)(?:```|$)|~~~[^\n]*\n?(?s:.*?)(?:~~~|$)"
_INLINE_CODE = r"`[^`\n]+`"
_BLOCK_QUOTE = r"(?m:^[ \t]*>[^\n]*)"
_URL = r"(?:https?://|www\.)[^\s<>\"'`]+"
_QUOTED = r"\"[^\"\n]+\""

MASK_PATTERN = "|".join([_CODE_FENCE, _INLINE_CODE, _BLOCK_QUOTE, _URL, _QUOTED])
"""What :func:`mask` blanks out (after :func:`normalise`)."""

_CURLY = ["\u2019", "\u2018", "\u02bc", "\u201c", "\u201d", "\u00ab", "\u00bb", SEP]
_STRAIGHT = ["'", "'", "'", '"', '"', '"', '"', FILL]
_FILLER = FILL * 4096


def normalise(expr: pl.Expr) -> pl.Expr:
    """Straighten curly apostrophes and double quotes, one character for one.

    NUL (the internal separator :data:`SEP`) becomes :data:`FILL`.

    Examples
    --------
    >>> import polars as pl
    >>> pl.select(normalise(pl.lit("I\u2019m \u201cfine\u201d"))).item()
    'I\\'m "fine"'
    """
    return expr.str.replace_many(_CURLY, _STRAIGHT)


def mask(texts: pl.Series) -> pl.Series:
    """Normalise and mask ``texts`` with same-length filler.

    Parameters
    ----------
    texts
        A String series (nulls are kept as nulls).

    Returns
    -------
    polars.Series
        Same length and order as ``texts``; each value has exactly as many characters
        as the input value, with code, block quotes, URLs and double-quoted strings
        replaced by :data:`FILL` (as are NUL characters).

    Examples
    --------
    >>> import polars as pl
    >>> out = mask(pl.Series(["Run `rm -rf` now", 'She said "I can\u2019t go" and left']))
    >>> [s.replace(FILL, "#") for s in out.to_list()]
    ['Run ######## now', 'She said ############ and left']
    >>> [len(s) for s in out.to_list()]
    [16, 30]
    """
    name = texts.name
    return _by_parts(
        texts.cast(pl.String).to_frame("t"),
        lambda lf: lf.select(_blank_matches(normalise(pl.col("t")), MASK_PATTERN)),
    ).to_series().alias(name)


def _blank_matches(text: pl.Expr, pattern: str) -> pl.Expr:
    """Overwrite every match of ``pattern`` with as many :data:`FILL` characters.

    Each match is wrapped as ``SEP SEP SEP match SEP SEP`` and the string is split on
    ``SEP SEP``: match pieces are exactly the pieces that start with :data:`SEP`
    (the text itself has none), so they are blanked by an element-wise expression
    and the pieces joined again.
    """
    el = pl.element()
    is_match = el.str.starts_with(SEP)
    # both branches of when/then are computed for every piece: the filler length is
    # 0 for the (long) pieces between matches, so only matches cost a filler string
    n = pl.when(is_match).then(el.str.len_chars().cast(pl.Int64) - 1).otherwise(0)
    blank = pl.lit(_FILLER).str.head(n).str.pad_end(n, FILL)
    return (
        text.str.replace_all(pattern, f"{SEP * 3}${{0}}{SEP * 2}")
        .str.split(SEP * 2)
        .list.eval(pl.when(is_match).then(blank).otherwise(el))
        .list.join("")
    )


_PART_ROWS = 20_000  # below this many rows a frame is not split for parallel work


def _by_parts(
    df: pl.DataFrame, query: Callable[[pl.LazyFrame], pl.LazyFrame]
) -> pl.DataFrame:
    """Run a row-wise ``query`` on contiguous row slices of ``df`` in parallel.

    A single string expression runs on one thread; slicing the rows and collecting
    the slices together lets polars use every core. The slices are concatenated in
    order, so the result is the same as ``query(df.lazy()).collect()``.
    """
    parts = max(1, min(pl.thread_pool_size(), df.height // _PART_ROWS))
    if parts == 1:
        return query(df.lazy()).collect()
    step = -(-df.height // parts)
    lazies = [query(df.slice(i, step).lazy()) for i in range(0, df.height, step)]
    return pl.concat(pl.collect_all(lazies), how="vertical")


def split_matches(text: pl.Expr, pattern: str) -> pl.Expr:
    """Split each string around the non-overlapping matches of ``pattern``.

    One regex pass (``replace_all`` wraps every match in :data:`SEP`) and a literal
    split give ``[gap, match, gap, match, ..., gap]``: matches sit at the odd
    positions, and the cumulative character lengths of the pieces are offsets into
    the string. ``text`` must not contain :data:`SEP` (:func:`mask` removes it).

    Examples
    --------
    >>> import polars as pl
    >>> pl.select(split_matches(pl.lit("a cat, a hat"), r"\\b\\w(?:at)\\b")).item().to_list()
    ['a ', 'cat', ', a ', 'hat', '']
    """
    return text.str.replace_all(pattern, f"{SEP}${{0}}{SEP}").str.split(SEP)
