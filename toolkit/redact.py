"""Redaction of personal details (emails, phone numbers, URLs, names) in displayed text.

Tag offsets are character positions in the *original* text, so redaction is done
after tagging. Two ways keep spans lined up:

* the viewer (:func:`toolkit.view.view` with ``redact=True``) finds the redaction
  spans with :func:`pii_spans` on each turn's original text, cuts the text at every
  tag and redaction boundary, and replaces the segments that fall inside a redaction
  span by its placeholder at render time, so offsets never change;
* :func:`redact` returns TURNS with redacted text, and :func:`redact_tags` maps the
  TAGS offsets of the original turns onto that redacted text (a span that starts or
  ends inside a redacted item is widened to the whole placeholder).

Detection is rule based (regular expressions) and tuned to avoid obvious false
positives. A phone number is 7–15 digits in separated groups that either start with
``+``, or start with a trunk ``0`` (``020 7946 0958``, ``01 23 45 67 89``), or follow
the North American pattern (``555-1234``, ``(555) 123-4567``, ``1-800-555-0100``).
Version numbers (``3.11.7``), dates and times (``2024-01-15 10:30``, ``15.01.2024``),
IPv4 addresses, decimals, year ranges, ISBNs and bare digit runs (Unix timestamps,
order numbers, but also an unseparated ``5551234567``) are left alone. URLs need a
scheme or ``www.``; bare domains (``example.com``) are not redacted. It is not a
guarantee: read a redacted report before sending it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import polars as pl

from toolkit.schema import TAGS, TURNS, validate

__all__ = ["PLACEHOLDERS", "pii_spans", "redact", "redact_tags", "redact_text"]

PLACEHOLDERS: dict[str, str] = {
    "url": "[URL]",
    "email": "[EMAIL]",
    "phone": "[PHONE]",
    "name": "[NAME]",
}
"""Placeholder written in place of each kind of redacted item."""

# precedence when two candidates overlap: the earlier start wins, then this order
_PRIORITY = {"url": 0, "email": 1, "phone": 2, "name": 3}

_URL = re.compile(r"(?i)\b(?:https?://|ftp://|www\.)[^\s<>\"'`]+")
_URL_TRAILING = ".,;:!?)]}'\""
_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}\b"
)
# a phone candidate: optional +, digits, separators (space, dash, dot, parentheses)
_PHONE = re.compile(r"(?<![\w.+/-])(?:\+|\(\d)?\d[\d \t().-]{4,}\d(?![\w/-]|[.:]\d)")
_DATE = re.compile(
    r"(?<!\d)(?:\d{4}[-/. ]\d{1,2}[-/. ]\d{1,2}|\d{1,2}([-/.])\d{1,2}\1(?:\d{4}|\d{2})"
    r"|\d{1,2} \d{1,2} \d{4})(?!\d)"
)


def _is_phone(candidate: str) -> bool:
    groups = re.findall(r"\d+", candidate)
    lengths = [len(g) for g in groups]
    if not 7 <= sum(lengths) <= 15:
        return False
    if "  " in candidate or "\t" in candidate:
        return False
    if candidate.startswith("+"):
        return True  # an international prefix outweighs date-like digit groups
    if _DATE.search(candidate):
        return False
    if len(groups) < 2:
        return False  # a bare digit run: an id, a timestamp, an amount
    if set(re.sub(r"\d", "", candidate)) <= {"."}:
        # dotted: versions (1.2.3.4), IPv4, decimals; only 3.3.4 and 2.2.2.2.2 styles
        return lengths == [3, 3, 4] or lengths == [2] * 5
    if groups[0].startswith("0"):
        # a national number with its trunk prefix: 020 7946 0958, 01 23 45 67 89
        return max(lengths[1:]) <= 6
    # North American style: 555-1234, (555) 123-4567, 1-800-555-0100
    return lengths in ([3, 4], [3, 3, 4], [1, 3, 3, 4])


def _candidates(
    text: str, names: Sequence[str], emails: bool, phones: bool, urls: bool
) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    if urls:
        for m in _URL.finditer(text):
            s, e = m.span()
            while e > s and text[e - 1] in _URL_TRAILING:
                e -= 1
            if e - s > 4:
                found.append((s, e, "url"))
    if emails:
        found.extend((m.start(), m.end(), "email") for m in _EMAIL.finditer(text))
    if phones:
        for m in _PHONE.finditer(text):
            s, e = m.span()
            cand = text[s:e]
            # drop a dangling ')' or '(' the pattern may have taken
            while cand and cand[-1] in "(.- ":
                cand, e = cand[:-1], e - 1
            if cand.count("(") != cand.count(")"):
                if cand.startswith("(") and ")" not in cand:
                    cand, s = cand[1:], s + 1
                elif cand.endswith(")"):
                    cand, e = cand[:-1], e - 1
            if _is_phone(cand):
                found.append((s, e, "phone"))
    clean = sorted({n.strip() for n in names if n and n.strip()}, key=len, reverse=True)
    if clean:
        pattern = re.compile(
            r"(?<!\w)(?:" + "|".join(re.escape(n) for n in clean) + r")(?!\w)",
            re.IGNORECASE,
        )
        found.extend((m.start(), m.end(), "name") for m in pattern.finditer(text))
    return found


def pii_spans(
    text: str,
    *,
    names: Iterable[str] = (),
    emails: bool = True,
    phones: bool = True,
    urls: bool = True,
) -> list[tuple[int, int, str]]:
    """Find the items to redact in one text.

    Parameters
    ----------
    text
        The text to scan.
    names
        Names to redact as whole words, case-insensitively (``"Ann"`` does not
        match inside ``"Annual"``).
    emails, phones, urls
        Which kinds of item to look for.

    Returns
    -------
    list of (start, end, kind)
        Sorted, non-overlapping character spans; ``kind`` is a key of
        :data:`PLACEHOLDERS`. Where candidates overlap, the earliest start wins, then
        URL over email over phone over name, then the longest.

    Examples
    --------
    >>> pii_spans("mail ann@example.org or call +44 20 7946 0958", names=["Ann"])
    [(5, 20, 'email'), (29, 45, 'phone')]
    >>> pii_spans("Python 3.11.7 was released on 2023-12-04")
    []
    """
    found = _candidates(text, tuple(names), emails, phones, urls)
    found.sort(key=lambda c: (c[0], _PRIORITY[c[2]], -(c[1] - c[0])))
    out: list[tuple[int, int, str]] = []
    last_end = -1
    for s, e, kind in found:
        if s >= last_end and e > s:
            out.append((s, e, kind))
            last_end = e
    return out


def redact_text(
    text: str,
    *,
    names: Iterable[str] = (),
    emails: bool = True,
    phones: bool = True,
    urls: bool = True,
) -> str:
    """Replace emails, phone numbers, URLs and names in ``text`` by placeholders.

    Examples
    --------
    >>> redact_text("See https://example.com/a?b=1. Bye, Ann!", names=["Ann"])
    'See [URL]. Bye, [NAME]!'
    """
    parts: list[str] = []
    pos = 0
    spans = pii_spans(text, names=names, emails=emails, phones=phones, urls=urls)
    for s, e, kind in spans:
        parts.append(text[pos:s])
        parts.append(PLACEHOLDERS[kind])
        pos = e
    parts.append(text[pos:])
    return "".join(parts)


def redact(
    turns: pl.DataFrame,
    *,
    names: Iterable[str] = (),
    emails: bool = True,
    phones: bool = True,
    urls: bool = True,
) -> pl.DataFrame:
    """Return TURNS with personal details in ``text`` replaced by placeholders.

    Offsets in TAGS computed on the original text no longer line up with the
    redacted text; map them with :func:`redact_tags`, or redact at display time
    (``view(..., redact=True)``).

    Parameters
    ----------
    turns
        TURNS frame.
    names
        User-given names to replace by ``[NAME]`` (whole words, case-insensitive).
    emails, phones, urls
        Which kinds of item to replace by ``[EMAIL]``, ``[PHONE]``, ``[URL]``.

    Returns
    -------
    polars.DataFrame
        A copy of ``turns`` with ``text`` redacted; all other columns unchanged.

    Examples
    --------
    >>> import polars as pl
    >>> turns = pl.DataFrame({"conversation_id": ["c"], "conversation_index": [0],
    ...     "turn": [0], "role": ["user"], "text": ["I'm Bo, bo@x.io"],
    ...     "timestamp": [None], "source": ["f"], "format": ["plain"]})
    >>> redact(turns, names=["Bo"])["text"].to_list()
    ["I'm [NAME], [EMAIL]"]
    """
    df = validate(turns, TURNS, "TURNS", optional=("timestamp", "source", "format"))
    names = tuple(names)
    texts = [
        None
        if t is None
        else redact_text(t, names=names, emails=emails, phones=phones, urls=urls)
        for t in df["text"].to_list()
    ]
    return df.with_columns(pl.Series("text", texts, dtype=pl.String))


def _map_offset(pos: int, spans: list[tuple[int, int, str]], *, is_end: bool) -> int:
    shift = 0
    for s, e, kind in spans:
        width = len(PLACEHOLDERS[kind])
        if pos >= e:
            shift += width - (e - s)
        elif pos > s:
            # strictly inside a redacted item: widen to the placeholder's edge
            return s + shift + (width if is_end else 0)
        else:
            break
    return pos + shift


def redact_tags(
    tags: pl.DataFrame,
    turns: pl.DataFrame,
    *,
    names: Iterable[str] = (),
    emails: bool = True,
    phones: bool = True,
    urls: bool = True,
) -> pl.DataFrame:
    """Map TAGS offsets from the original TURNS onto the text :func:`redact` returns.

    Parameters
    ----------
    tags
        TAGS computed on ``turns``.
    turns
        The *original* (unredacted) TURNS.
    names, emails, phones, urls
        The same options as given to :func:`redact`.

    Returns
    -------
    polars.DataFrame
        ``tags`` with ``start``, ``end`` and ``match`` rewritten so that
        ``redacted_text[start:end] == match``. A span starting or ending inside a
        redacted item is widened to cover the whole placeholder.

    Examples
    --------
    >>> import polars as pl
    >>> turns = pl.DataFrame({"conversation_id": ["c"], "conversation_index": [0],
    ...     "turn": [0], "role": ["user"], "text": ["ask ann@x.org, no, stop"],
    ...     "timestamp": [None], "source": ["f"], "format": ["plain"]})
    >>> tags = pl.DataFrame({"conversation_id": ["c"], "conversation_index": [0],
    ...     "turn": [0], "role": ["user"], "category": ["correction"],
    ...     "subtype": ["x"], "target": [None], "start": [15], "end": [23],
    ...     "match": ["no, stop"]})
    >>> redact_tags(tags, turns).select("start", "end", "match").row(0)
    (13, 21, 'no, stop')
    """
    tg = validate(tags, TAGS, "TAGS")
    tu = validate(turns, TURNS, "TURNS", optional=("timestamp", "source", "format"))
    names = tuple(names)
    keyed = (
        tg.with_row_index("_row")
        .join(
            tu.select("conversation_id", "turn", "text"),
            on=["conversation_id", "turn"],
            how="left",
        )
        .sort("_row")
    )
    starts: list[int | None] = []
    ends: list[int | None] = []
    matches: list[str | None] = []
    cache: dict[str, tuple[list[tuple[int, int, str]], str]] = {}
    for text, s, e, m in keyed.select("text", "start", "end", "match").iter_rows():
        if text is None or s is None or e is None:
            starts.append(s)
            ends.append(e)
            matches.append(m)
            continue
        if text not in cache:
            spans = pii_spans(
                text, names=names, emails=emails, phones=phones, urls=urls
            )
            cache[text] = (
                spans,
                redact_text(text, names=names, emails=emails, phones=phones, urls=urls),
            )
        spans, red = cache[text]
        ns = _map_offset(s, spans, is_end=False)
        ne = max(ns, _map_offset(e, spans, is_end=True))
        starts.append(ns)
        ends.append(ne)
        matches.append(red[ns:ne])
    return tg.with_columns(
        pl.Series("start", starts, dtype=pl.Int64),
        pl.Series("end", ends, dtype=pl.Int64),
        pl.Series("match", matches, dtype=pl.String),
    )
