"""``read``: turn chat exports and transcripts into the TURNS table.

Supported formats are listed by :func:`formats`; detection follows the order of the
transcript-formats spec (zip layout, first byte, JSON key probes, then Markdown and
labelled text) and records which rule fired. With ``report=True`` the call returns a
:class:`ReadReport` that also says what was skipped on purpose and why.
"""

from __future__ import annotations

import functools
import itertools
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from toolkit.readers._common import Conv, Ctx, ParseError
from toolkit.readers._split import array_values
from toolkit.readers._zip import (
    Budget,
    gunzip,
    is_account_file,
    open_zip,
    read_member,
    unsafe_name,
)
from toolkit.readers.chatgpt import chatgpt_records, read_chatgpt, read_chatgpt_html
from toolkit.readers.claude import claude_records, read_claude
from toolkit.readers.detect import Loaded, decode_text, detect, load
from toolkit.readers.hhrlhf import read_hh_rlhf
from toolkit.readers.inspect_log import read_inspect, read_inspect_samples
from toolkit.readers.markdown import read_markdown
from toolkit.readers.messages import read_messages
from toolkit.readers.oasst import read_oasst
from toolkit.readers.pairs import read_pairs
from toolkit.readers.plaintext import read_plaintext
from toolkit.readers.sharegpt import read_sharegpt
from toolkit.schema import TURNS, validate

__all__ = ["ParseError", "ReadReport", "formats", "read"]

Source = str | os.PathLike[str]

_JSON_READERS: dict[str, Callable[[Any, Ctx], list[Conv]]] = {
    "chatgpt": read_chatgpt,
    "claude": read_claude,
    "sharegpt": read_sharegpt,
    "messages": read_messages,
    "hh_rlhf": read_hh_rlhf,
    "inspect": read_inspect,
    "oasst": read_oasst,
    "pairs": read_pairs,
}
_TEXT_READERS: dict[str, Callable[[str, Ctx], list[Conv]]] = {
    "chatgpt_html": read_chatgpt_html,
    "markdown": read_markdown,
    "plaintext": read_plaintext,
}
_FORMATS: tuple[str, ...] = (
    "chatgpt", "chatgpt_html", "claude", "sharegpt", "messages", "hh_rlhf",
    "inspect", "oasst", "pairs", "markdown", "plaintext",
)
_SKIP_SCHEMA = pl.Schema(
    {"source": pl.String(), "conversation_id": pl.String(), "kind": pl.String(),
     "reason": pl.String(), "count": pl.Int64()}
)
_DETECT_SCHEMA = pl.Schema({"source": pl.String(), "format": pl.String(), "rule": pl.String()})
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
# Large top-level JSON arrays of these formats are read one record at a time.
_STREAM_READERS: dict[str, Callable[[Iterable[tuple[int, Any]], Ctx], Iterator[Conv]]] = {
    "chatgpt": chatgpt_records,
    "claude": claude_records,
}
_STREAM_MIN = 8 * 1024 * 1024  # smaller files: the whole-file parse is as fast, and small
_CHUNK = 2 * 1024 * 1024
_BATCH_ROWS = 1 << 14  # rows held as Python objects before they become a polars chunk
_BATCH_CHARS = 1 << 23
_BOM = b"\xef\xbb\xbf"
_READER_ERRORS = (KeyError, TypeError, AttributeError, IndexError, ValueError, RecursionError)
_SHARD = re.compile(r"^conversations(?:-\d+)?\.json$")


def formats() -> list[str]:
    """Names accepted by ``read(..., format=...)`` besides ``"auto"``.

    Examples
    --------
    >>> from toolkit.read import formats
    >>> formats()[:3]
    ['chatgpt', 'chatgpt_html', 'claude']
    """
    return list(_FORMATS)


@dataclass(frozen=True, eq=False)
class ReadReport:
    """What :func:`read` produced and what it left out.

    Attributes
    ----------
    turns
        The TURNS frame.
    skipped
        One row per (source, conversation_id, kind, reason) with a ``count``: hidden
        scaffolding, reasoning blocks, tool payloads, empty messages, inactive branches,
        unrecognised files, account files not opened, unsafe zip member names...
    detections
        One row per source read: the format and the detection rule that fired.
    notes
        Things kept but flagged, e.g. naive timestamps read as UTC.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from toolkit.read import read
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.txt").write_text("User: hi\\nAssistant: hello\\n")
    >>> _ = (d / "user.json").write_text("{}")
    >>> rep = read(d, report=True)
    >>> print(rep.summary())
    2 turns in 1 conversations from 1 source(s)
    formats: plaintext (1)
    skipped: account_file_not_opened 1
    """

    turns: pl.DataFrame
    skipped: pl.DataFrame
    detections: pl.DataFrame
    notes: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=_SKIP_SCHEMA))

    def summary(self) -> str:
        """A few readable lines: turns, conversations, formats, skipped by kind."""
        t = self.turns
        n_conv = t.select(pl.struct("source", "conversation_id").n_unique()).item() if t.height else 0
        lines = [f"{t.height} turns in {n_conv} conversations from {self.detections.height} source(s)"]
        if self.detections.height:
            by = self.detections.group_by("format", maintain_order=True).len()
            lines.append("formats: " + ", ".join(f"{f} ({n})" for f, n in by.iter_rows()))
        if self.skipped.height:
            by = self.skipped.group_by("kind", maintain_order=True).agg(pl.col("count").sum())
            lines.append("skipped: " + ", ".join(f"{k} {n}" for k, n in by.iter_rows()))
        else:
            lines.append("skipped: nothing")
        if self.notes.height:
            by = self.notes.group_by("kind", maintain_order=True).agg(pl.col("count").sum())
            lines.append("notes: " + ", ".join(f"{k} {n}" for k, n in by.iter_rows()))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return "ReadReport(\n  " + self.summary().replace("\n", "\n  ") + "\n)"


@dataclass
class _State:
    fmt: str
    branch: str
    include_hidden: bool
    budget: Budget
    out: _Turns = field(default_factory=lambda: _Turns())
    skips: list[tuple[str, str | None, str, str, int]] = field(default_factory=list)
    notes: list[tuple[str, str | None, str, str, int]] = field(default_factory=list)
    detections: list[tuple[str, str, str]] = field(default_factory=list)

    def ctx(self, source: str, fmt: str, jsonl: bool = False) -> Ctx:
        return Ctx(source, fmt, self.branch, self.include_hidden, jsonl, self.skips, self.notes)

    def skip(self, source: str, what: str, reason: str) -> None:
        self.skips.append((source, None, what, reason, 1))

    def add(self, convs: Iterable[Conv], source: str, fmt: str) -> None:
        for c in convs:
            self.out.add(c, c.source or source, fmt)


def read(
    source: Source | Sequence[Source],
    *,
    format: str = "auto",
    branch: str = "active",
    include_hidden: bool = False,
    report: bool = False,
    max_uncompressed: int = 2 * 1024**3,
    max_ratio: float = 200.0,
) -> Any:
    """Read chat exports or transcripts into a TURNS frame.

    Parameters
    ----------
    source
        A file, a folder (every file in it, recursively, in sorted order; files that
        match no format are skipped and counted in the report, while a file that is
        detected as a format but is malformed raises), a ``.zip`` export (ChatGPT,
        Claude, Inspect ``.eval`` or any zip of supported files), a ``.gz`` file, or a
        list of these. ``user.json``/``users.json`` account files are never opened.
    format
        ``"auto"`` (detect per file) or one of :func:`formats`.
    branch
        ``"active"``: the branch the user last saw (ChatGPT ``current_node``, Claude's
        latest leaf, OASST best-ranked replies, HH-RLHF ``chosen``). ``"all"``: every
        root-to-leaf path, adding a String ``branch`` column (tree formats: the leaf's
        node id; HH-RLHF: ``chosen``/``rejected``; linear formats: ``main``) and a
        Boolean ``active`` column; ``turn`` then counts within each branch.
    include_hidden
        Keep hidden scaffolding and tool traffic as ``system``/``tool`` rows. Hidden
        reasoning (thinking, thoughts, recaps) is never put into any row.
    report
        Return a :class:`ReadReport` (turns, skipped, detections, notes) instead of
        the frame alone.
    max_uncompressed
        Cap on the total bytes inflated from zip/gzip members in this call.
    max_ratio
        Cap on a member's uncompressed/compressed size ratio (members over 1 MiB).

    Returns
    -------
    polars.DataFrame or ReadReport
        TURNS sorted by ``conversation_index`` and ``turn``, with a ``model`` column
        (ChatGPT ``model_slug`` / Inspect model, else null). ``conversation_index``
        orders conversations by start time; undated ones follow in input order.

    Raises
    ------
    ParseError
        For unreadable input, naming the source, the place and what was expected.
    ValueError
        For an unknown ``format`` or ``branch``.

    Notes
    -----
    A ChatGPT or Claude ``conversations.json`` of 8 MiB or more (a file, or a member
    of an export zip) whose top level is an array is read one conversation at a time:
    the array is split without parsing it whole, each record is parsed and dropped,
    and the rows become polars chunks in batches. The result is the same as a
    whole-file read; peak memory stays near the file size instead of several times it.
    If anything in such a file fails, it is read again whole, so the error (or, in a
    folder, the skip) is exactly the one a small file gets.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from toolkit.read import read
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "chat.txt").write_text("User: hi\\nAssistant: Hello!\\n")
    >>> read(d / "chat.txt").select("turn", "role", "text")
    shape: (2, 3)
    ┌──────┬───────────┬────────┐
    │ turn ┆ role      ┆ text   │
    │ ---  ┆ ---       ┆ ---    │
    │ i64  ┆ enum      ┆ str    │
    ╞══════╪═══════════╪════════╡
    │ 0    ┆ user      ┆ hi     │
    │ 1    ┆ assistant ┆ Hello! │
    └──────┴───────────┴────────┘
    """
    if format != "auto" and format not in _FORMATS:
        raise ValueError(f"unknown format {format!r}; expected 'auto' or one of {list(_FORMATS)}")
    if branch not in ("active", "all"):
        raise ValueError(f"branch must be 'active' or 'all', got {branch!r}")
    st = _State(format, branch, include_hidden, Budget(max_uncompressed, max_ratio))
    sources: Sequence[Source] = (
        list(source) if isinstance(source, list | tuple) else [source]  # type: ignore[list-item]
    )
    for s in sources:
        if not isinstance(s, str | os.PathLike):
            raise ValueError(f"source must be a path or a list of paths, got {type(s).__name__}")
        _read_path(Path(s), st)
    turns = st.out.finish(all_branches=branch == "all")
    if not report:
        return turns
    return ReadReport(
        turns=turns,
        skipped=_skip_frame(st.skips),
        detections=pl.DataFrame(st.detections, schema=_DETECT_SCHEMA, orient="row"),
        notes=_skip_frame(st.notes),
    )


def _skip_frame(rows: list[tuple[str, str | None, str, str, int]]) -> pl.DataFrame:
    df = pl.DataFrame(rows, schema=_SKIP_SCHEMA, orient="row")
    return df.group_by(["source", "conversation_id", "kind", "reason"], maintain_order=True).agg(
        pl.col("count").sum()
    )


def _read_path(path: Path, st: _State) -> None:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        have_json = {p.parent for p in files if _SHARD.match(p.name)}
        for p in files:
            if p.name == "chat.html" and p.parent in have_json:
                st.skip(str(p), "duplicate_view", "chat.html beside conversations.json (not opened)")
                continue
            _read_file(p, st, strict=False)
    elif not path.exists():
        raise FileNotFoundError(f"no such file or folder: {str(path)!r}")
    else:
        _read_file(path, st, strict=True)


def _read_file(path: Path, st: _State, *, strict: bool) -> None:
    name = str(path)
    if is_account_file(name):
        st.skip(name, "account_file_not_opened", "account details (PII) are never read")
        return
    if st.fmt in ("auto", *_STREAM_READERS) and path.stat().st_size >= _STREAM_MIN:
        with path.open("rb") as fh:
            head = fh.read(8192)
        fmt = None if st.fmt == "auto" else st.fmt
        if _array_head(head) and _stream(_file_chunks(path), name, st, fmt, "format= given"):
            return
    _read_bytes(path.read_bytes(), name, st, strict=strict, depth=0)


def _array_head(head: bytes) -> bool:
    """True when a file starts (after a BOM and whitespace) with ``[`` and is text."""
    if head.startswith(_BOM):
        head = head[3:]
    return b"\x00" not in head and head.lstrip(b" \t\r\n")[:1] == b"["


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        chunk = fh.read(_CHUNK)
        if chunk.startswith(_BOM):
            chunk = chunk[3:]
        while chunk:
            yield chunk
            chunk = fh.read(_CHUNK)


def _bytes_chunks(data: bytes) -> Iterator[bytes]:
    for i in range(3 if data.startswith(_BOM) else 0, len(data), _CHUNK):
        yield data[i : i + _CHUNK]


def _stream(chunks: Iterator[bytes], name: str, st: _State, fmt: str | None, rule: str) -> bool:
    """Read a large top-level JSON array one record at a time (``fmt`` None: detect it
    from the first record), so neither the whole parsed tree nor all the text as Python
    strings is ever held. Returns False, with nothing recorded, when the caller should
    parse the whole file instead: a format without a record reader, or any error (the
    whole-file path then raises or skips exactly as it does for small files)."""
    values = array_values(chunks, name)
    n_skips, n_notes = len(st.skips), len(st.notes)
    mark = st.out.mark()
    try:
        first = next(values, None)
        if first is None:
            return False
        if fmt is None:
            fmt, rule = detect(Loaded("json", [first[1]]), name)
        reader = _STREAM_READERS.get(fmt)
        if reader is None:
            return False
        st.add(reader(itertools.chain([first], values), st.ctx(name, fmt)), name, fmt)
    except _READER_ERRORS:  # ParseError is a ValueError
        del st.skips[n_skips:], st.notes[n_notes:]
        st.out.undo(mark)
        return False
    finally:
        values.close()
    st.detections.append((name, fmt, rule))
    return True


def _read_bytes(data: bytes, name: str, st: _State, *, strict: bool, depth: int) -> None:
    if data[:4] in _ZIP_MAGIC:
        if depth > 2:
            st.skip(name, "nested_archive", "zip nested more than two levels (not opened)")
            return
        _read_zip(data, name, st, strict=strict, depth=depth)
        return
    if data[:2] == b"\x1f\x8b":
        _read_bytes(gunzip(data, name, st.budget), name, st, strict=strict, depth=depth + 1)
        return
    _read_doc(data, name, st, strict=strict)


def _read_doc(data: bytes, name: str, st: _State, *, strict: bool) -> None:
    if st.fmt == "auto":
        try:
            loaded, fmt, rule = _load_and_detect(data, name)
        except ParseError as exc:
            if strict:
                raise
            st.skip(name, "unrecognised_file", str(exc))
            return
    else:
        fmt, rule = st.fmt, "format= given"
        try:
            if fmt in _TEXT_READERS:
                loaded = Loaded("text", decode_text(data, name))
            else:
                loaded = load(data, name)
                if loaded.kind == "text":
                    raise ParseError(name, "byte 0", f"JSON for format {fmt!r}, got text")
        except ParseError as exc:
            if strict:
                raise
            st.skip(name, "unrecognised_file", str(exc))
            return
    ctx = st.ctx(name, fmt, jsonl=loaded.kind == "jsonl")
    n_skips, n_notes = len(st.skips), len(st.notes)
    try:
        convs = _run_reader(fmt, loaded.value, ctx)
    except ParseError as exc:
        if strict or st.fmt == "auto":
            raise
        del st.skips[n_skips:], st.notes[n_notes:]
        st.skip(name, "unrecognised_file", str(exc))
        return
    st.detections.append((name, fmt, rule))
    st.add(convs, name, fmt)


def _load_and_detect(data: bytes, name: str) -> tuple[Loaded, str, str]:
    """Parse and detect; text that merely starts with ``[``/``{`` (e.g. Markdown
    opening with a link) is tried as text before the JSON error is raised."""
    try:
        loaded = load(data, name)
    except ParseError as json_error:
        try:
            text = Loaded("text", decode_text(data, name))
            fmt, rule = detect(text, name)
        except ParseError:
            raise json_error from None
        return text, fmt, rule
    fmt, rule = detect(loaded, name)
    return loaded, fmt, rule


def _run_reader(fmt: str, value: Any, ctx: Ctx) -> list[Conv]:
    """Run one reader; stray exceptions become ParseError naming the source."""
    try:
        text_reader = _TEXT_READERS.get(fmt)
        if text_reader is not None:
            if not isinstance(value, str):
                raise ctx.fail("byte 0", f"text for format {fmt!r}")
            return text_reader(value, ctx)
        return _JSON_READERS[fmt](value, ctx)
    except ParseError:
        raise
    except (KeyError, TypeError, AttributeError, IndexError, ValueError, RecursionError) as exc:
        raise ParseError(ctx.source, "an unknown place", f"a well-formed {fmt} file "
                         f"({type(exc).__name__}: {str(exc)[:120]})") from exc


def _natural(s: str) -> list[Any]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


def _read_zip(data: bytes, name: str, st: _State, *, strict: bool, depth: int) -> None:
    zf = open_zip(data, name)
    infos = []
    for info in zf.infolist():
        if info.is_dir():
            continue
        if unsafe_name(info.filename):
            st.skip(f"{name}:{info.filename}", "unsafe_member_name",
                    "absolute or '..' member name (not opened)")
            continue
        infos.append(info)
    infos.sort(key=lambda i: _natural(i.filename))
    base = {i.filename.rsplit("/", 1)[-1].lower() for i in infos}
    names = {i.filename for i in infos}
    if "header.json" in names and any(n.startswith("samples/") for n in names):
        _read_eval(zf, infos, name, st)
        return
    convs = [i for i in infos if _SHARD.match(i.filename.rsplit("/", 1)[-1].lower())]
    kind = None
    if convs and base & {"chat.html", "user.json", "message_feedback.json", "shared_conversations.json"}:
        kind = "chatgpt"
    elif convs and base & {"users.json", "projects.json", "memories.json"}:
        kind = "claude"
    for info in infos:
        member = f"{name}:{info.filename}"
        if is_account_file(info.filename):
            st.skip(member, "account_file_not_opened", "account details (PII) are never read")
            continue
        if kind is None:
            mdata = read_member(zf, info, member, st.budget)
            _read_bytes(mdata, member, st, strict=False, depth=depth + 1)
            continue
        if info not in convs:
            what = "duplicate_view" if info.filename.endswith("chat.html") else "side_file"
            st.skip(member, what, f"{kind} export side file (not opened)")
            continue
        mdata = read_member(zf, info, member, st.budget)
        fmt = kind if st.fmt == "auto" else st.fmt
        rule = f"zip: conversations.json with {kind} side files"
        if len(mdata) >= _STREAM_MIN and fmt in _STREAM_READERS and _array_head(mdata[:8192]) \
                and _stream(_bytes_chunks(mdata), member, st, fmt, rule):
            continue
        loaded = load(mdata, member)
        ctx = st.ctx(member, fmt, jsonl=loaded.kind == "jsonl")
        out = _run_reader(fmt, loaded.value, ctx)
        st.detections.append((member, fmt, rule))
        st.add(out, member, fmt)


def _read_eval(zf: Any, infos: list[Any], name: str, st: _State) -> None:
    by = {i.filename: i for i in infos}
    header_src = f"{name}:header.json"
    header = load(read_member(zf, by["header.json"], header_src, st.budget), header_src)
    hctx = st.ctx(header_src, "inspect")
    hval = hctx.obj(header.value, "$")
    for info in infos:
        if not (info.filename.startswith("samples/") and info.filename.endswith(".json")):
            if info.filename != "header.json":
                st.skip(f"{name}:{info.filename}", "side_file", "eval log member (not a sample)")
            continue
        src = f"{name}:{info.filename}"
        sample = load(read_member(zf, info, src, st.budget), src)
        ctx = st.ctx(src, "inspect")
        try:
            out = read_inspect_samples(hval, [(sample.value, "$", src)], ctx)
        except ParseError:
            raise
        except (KeyError, TypeError, AttributeError, IndexError, ValueError, RecursionError) as exc:
            raise ParseError(src, "an unknown place", f"a well-formed Inspect sample ({exc})") from exc
        st.add(out, src, "inspect")
    st.detections.append((name, "inspect", "zip: header.json + samples/ (Inspect .eval)"))


def _clean_text(text: pl.Series, *, precheck: bool | None = None) -> pl.Series:
    """Strip ChatGPT citation markers (private-use U+E200-U+E2FF tokens and
    ``【…†…】`` placeholders) and NFC-normalise; only non-ASCII rows are touched.

    With ``precheck`` (default: when there are many non-ASCII rows) one regex pass
    first keeps only the rows that contain a marker or a character that NFC can change
    (:func:`_nfc_unsafe_class`); the others are already clean, so the result is the same.
    """
    idx = (text.str.len_bytes() != text.str.len_chars()).arg_true()
    if idx.len() == 0:
        return text
    if precheck is None:
        precheck = idx.len() >= _PRECHECK_ROWS
    if precheck:
        pattern = "[\\x{E200}-\\x{E2FF}【" + _nfc_unsafe_class() + "]"
        idx = idx.filter(text.gather(idx).str.contains(pattern))
        if idx.len() == 0:
            return text
    sub = (
        text.gather(idx)
        .str.replace_all(r"\x{E200}[^\x{E201}]*\x{E201}", "")
        .str.replace_all(r"[\x{E200}-\x{E2FF}]", "")
        .str.replace_all(r"【[^】\n]*†[^】\n]*】", "")
        .str.normalize("NFC")
    )
    return text.scatter(idx, sub)


_PRECHECK_ROWS = 4096


@functools.cache
def _nfc_unsafe_class() -> str:
    """Regex class body of the characters that NFC may change in a string: not
    NFC_Quick_Check=Yes (a character NFC maps elsewhere, or one that can compose with
    the character before it), a non-zero combining class (reordering), Hangul vowel and
    trailing jamo, and every code point unassigned in Python's Unicode database (so a
    newer Unicode in polars is still safe: normalisation of assigned characters is
    stable across versions; planes 15-16 are private use, which NFC never changes).
    Built once per process (about 0.1 s)."""
    risky = bytearray(0x110000)
    risky[0x40000:0xE0000] = b"\x01" * (0xE0000 - 0x40000)  # planes 4-13: unassigned
    for cp in itertools.chain(range(0x80, 0xD800), range(0xE000, 0x40000), range(0xE0000, 0xF0000)):
        c = chr(cp)
        if unicodedata.combining(c) or unicodedata.category(c) == "Cn" \
                or unicodedata.normalize("NFC", c) != c:
            risky[cp] = 1
        d = unicodedata.decomposition(c)
        if d and d[0] != "<":
            parts = d.split()
            if len(parts) == 2:
                risky[int(parts[1], 16)] = 1
    risky[0x1161:0x1176] = b"\x01" * (0x1176 - 0x1161)
    risky[0x11A8:0x11C3] = b"\x01" * (0x11C3 - 0x11A8)
    out: list[str] = []
    cp = 0x80
    while cp < 0x110000:
        if not risky[cp]:
            cp += 1
            continue
        lo = cp
        while cp < 0x110000 and risky[cp]:
            cp += 1
        out.append(f"\\x{{{lo:X}}}" + (f"-\\x{{{cp - 1:X}}}" if cp - 1 > lo else ""))
    return "".join(out)


_COLUMNS = ("conversation_id", "_k", "turn", "role", "text", "timestamp", "source", "format",
            "model", "branch", "active", "_b")
_Mark = tuple[int, dict[tuple[str, str], int], dict[tuple[str, str], int | None],
              dict[tuple[str, str], int]]


class _Turns:
    """TURNS built incrementally: rows are Python lists only until a batch is full,
    then become a polars chunk, so a large export never holds all its text both as
    Python strings and in polars. ``conversation_index`` (chronological) is set in
    :meth:`finish` from a per-conversation ordinal ``_k`` once every start is known."""

    def __init__(self) -> None:
        self.first: dict[tuple[str, str], int] = {}
        self.start: dict[tuple[str, str], int | None] = {}
        self.nbranch: dict[tuple[str, str], int] = {}
        self.frames: list[pl.DataFrame] = []
        self.cols: dict[str, list[Any]] = {c: [] for c in _COLUMNS}
        self.rows = 0
        self.chars = 0

    def add(self, c: Conv, src: str, fmt: str) -> None:
        """Append one conversation (or one branch of it)."""
        n = len(c.rows)
        if not n:
            return  # nothing visible: no index, so the indices stay gap-free
        k = (src, c.id)
        ordinal = self.first.setdefault(k, len(self.first))
        s = c.start
        if s is None:
            stamps = [r[2] for r in c.rows if r[2] is not None]
            s = min(stamps) if stamps else None
        old = self.start.get(k)
        if s is not None and (old is None or s < old):
            self.start[k] = s
        elif k not in self.start:
            self.start[k] = None
        b = self.nbranch.get(k, 0)
        self.nbranch[k] = b + 1
        cols = self.cols
        texts = [r[1] for r in c.rows]
        cols["conversation_id"].extend([c.id] * n)
        cols["_k"].extend([ordinal] * n)
        cols["turn"].extend(range(n))
        cols["role"].extend([r[0] for r in c.rows])
        cols["text"].extend(texts)
        cols["timestamp"].extend([r[2] for r in c.rows])
        cols["source"].extend([src] * n)
        cols["format"].extend([fmt] * n)
        cols["model"].extend([r[3] for r in c.rows])
        cols["branch"].extend([c.branch or "main"] * n)
        cols["active"].extend([c.active] * n)
        cols["_b"].extend([b] * n)
        self.rows += n
        self.chars += sum(map(len, texts))
        if self.rows >= _BATCH_ROWS or self.chars >= _BATCH_CHARS:
            self.flush()

    def _frame(self) -> pl.DataFrame:
        cols = self.cols
        return pl.DataFrame(
            {
                "conversation_id": pl.Series(cols["conversation_id"], dtype=pl.String),
                "_k": pl.Series(cols["_k"], dtype=pl.Int64),
                "turn": pl.Series(cols["turn"], dtype=pl.Int64),
                "role": pl.Series(cols["role"], dtype=pl.String).cast(TURNS["role"]),
                "text": _clean_text(pl.Series(cols["text"], dtype=pl.String)),
                "timestamp": pl.Series(cols["timestamp"], dtype=pl.Int64)
                .cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
                "source": pl.Series(cols["source"], dtype=pl.String),
                "format": pl.Series(cols["format"], dtype=pl.String),
                "model": pl.Series(cols["model"], dtype=pl.String),
                "branch": pl.Series(cols["branch"], dtype=pl.String),
                "active": pl.Series(cols["active"], dtype=pl.Boolean),
                "_b": pl.Series(cols["_b"], dtype=pl.Int64),
            }
        )

    def flush(self) -> None:
        """Turn the pending Python rows into a polars chunk."""
        if self.rows:
            self.frames.append(self._frame())
            self.cols = {c: [] for c in _COLUMNS}
            self.rows = self.chars = 0

    def mark(self) -> _Mark:
        """A point to :meth:`undo` to (flushes first)."""
        self.flush()
        return len(self.frames), dict(self.first), dict(self.start), dict(self.nbranch)

    def undo(self, mark: _Mark) -> None:
        """Forget everything added since ``mark``."""
        n, self.first, self.start, self.nbranch = mark
        del self.frames[n:]
        self.cols = {c: [] for c in _COLUMNS}
        self.rows = self.chars = 0

    def finish(self, *, all_branches: bool) -> pl.DataFrame:
        """The TURNS frame sorted by ``conversation_index``, branch and ``turn``."""
        self.flush()
        start = self.start
        order = sorted(self.first, key=lambda k: (start[k] is None, start[k] or 0, self.first[k]))
        index = np.empty(len(order), dtype=np.int64)
        for i, k in enumerate(order):
            index[self.first[k]] = i
        df = pl.concat(self.frames, how="vertical", rechunk=False) if self.frames else self._frame()
        self.frames = []
        df = df.with_columns(
            conversation_index=pl.Series(index, dtype=pl.Int64).gather(df["_k"])
        ).sort(["conversation_index", "_b", "turn"], maintain_order=True)
        cols = ["conversation_id", "conversation_index", "turn", "role", "text", "timestamp",
                "source", "format", "model"]
        if all_branches:
            cols += ["branch", "active"]
        return validate(df.select(cols), TURNS, "TURNS")
