"""Decoding and format detection (spec section 13): sniff the first byte, parse JSON or
JSONL, probe the first record's keys, then try exporter Markdown and labelled text.
Every decision returns the rule that fired; two matching structured probes is an error."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from toolkit.readers._common import ParseError
from toolkit.readers.markdown import detect_style
from toolkit.readers.pairs import is_pair
from toolkit.readers.plaintext import label_scheme

__all__ = ["Loaded", "decode_text", "detect", "load"]

_BOM = b"\xef\xbb\xbf"
_NONSPACE = re.compile(rb"\S")


@dataclass
class Loaded:
    """A parsed source: ``kind`` is ``json``, ``jsonl`` or ``text``."""

    kind: str
    value: Any


def _check_bytes(data: bytes, source: str) -> bytes:
    if data.startswith(_BOM):
        data = data[3:]
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise ParseError(source, "byte 0", "UTF-8 text, got UTF-16 (byte-order mark)")
    nul = data.find(b"\x00", 0, 8192)
    if nul >= 0:
        raise ParseError(source, f"byte {nul}", "text, got binary data (NUL byte)")
    if _NONSPACE.search(data) is None:
        raise ParseError(source, "byte 0", "a transcript, got an empty file")
    return data


def decode_text(data: bytes, source: str) -> str:
    """UTF-8 text with BOM removed and CRLF/CR line ends made LF, else ParseError."""
    data = _check_bytes(data, source)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(
            source, f"byte {exc.start}", f"UTF-8 text, got byte 0x{data[exc.start]:02x}"
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def load(data: bytes, source: str) -> Loaded:
    """Parse ``data``: JSON (whole file), else JSONL (one value per line), else text."""
    data = _check_bytes(data, source)
    first = _NONSPACE.search(data)
    assert first is not None
    if data[first.start() : first.start() + 1] not in (b"[", b"{"):
        return Loaded("text", decode_text(data, source))
    try:
        return Loaded("json", orjson.loads(data))
    except orjson.JSONDecodeError as exc:
        whole = exc
    decode_text(data, source)  # a non-UTF-8 file fails here with its byte offset
    lines = data.split(b"\n")
    nonblank = [i for i, line in enumerate(lines) if line.strip()]
    if len(nonblank) >= 2:
        try:
            orjson.loads(lines[nonblank[0]])
        except orjson.JSONDecodeError:
            pass
        else:
            values = []
            for i in nonblank:
                try:
                    values.append(orjson.loads(lines[i]))
                except orjson.JSONDecodeError as exc:
                    raise ParseError(
                        source, f"line {i + 1}, column {exc.colno}",
                        f"one JSON value per line (JSONL): {exc.msg}",
                    ) from None
            return Loaded("jsonl", values)
    raise ParseError(
        source, f"line {whole.lineno}, column {whole.colno} (character {whole.pos})",
        f"valid JSON: {whole.msg}",
    )


def _first(xs: object) -> object:
    return xs[0] if isinstance(xs, list) and xs else None


def _has(rec: dict[str, Any], k: str, field: str) -> bool:
    first = _first(rec.get(k))
    return isinstance(first, dict) and field in first


def _hh(s: object) -> bool:
    return isinstance(s, str) and s.lstrip().startswith("Human:")


def _probes(rec: dict[str, Any], top_object: bool) -> list[tuple[str, str]]:
    hits: list[tuple[str, str]] = []
    if isinstance(rec.get("mapping"), dict) and ("current_node" in rec or "create_time" in rec):
        hits.append(("chatgpt", "json: record has 'mapping' and 'current_node'/'create_time'"))
    if isinstance(rec.get("chat_messages"), list) and "uuid" in rec:
        hits.append(("claude", "json: record has 'chat_messages' and 'uuid'"))
    if top_object and "eval" in rec and "version" in rec and ("samples" in rec or "results" in rec):
        hits.append(("inspect", "json: object has 'version', 'eval' and 'samples'/'results'"))
    if "message_tree_id" in rec or (
        isinstance(rec.get("replies"), list) and rec.get("role") in ("prompter", "assistant")
    ):
        hits.append(("oasst", "json: record has 'message_tree_id' or nested 'replies'"))
    conv = rec.get("conversations")
    if isinstance(conv, list) and (not conv or _has(rec, "conversations", "from")):
        hits.append(("sharegpt", "json: record has 'conversations' of {from, value}"))
    if (isinstance(rec.get("messages"), list) and (not rec["messages"] or _has(rec, "messages", "role"))) \
            or (_has(rec, "conversations", "role") and not _has(rec, "conversations", "from")) \
            or _has(rec, "chosen", "role"):
        hits.append(("messages", "json: record has 'messages' of {role, content}"))
    if (_hh(rec.get("chosen")) and isinstance(rec.get("rejected"), str)) or _hh(rec.get("transcript")):
        hits.append(("hh_rlhf", "json: 'chosen'/'rejected' or 'transcript' string starting 'Human:'"))
    return hits


def _pairs_probe(value: Any, rec: object) -> str | None:
    if is_pair(rec):
        return "json: records have input/output (prompt/response) fields"
    if isinstance(rec, dict) and any(k in rec for k in ("openings", "endings")):
        return "json: object has 'openings'/'conversations'/'endings' pair lists"
    if isinstance(rec, dict) and isinstance(rec.get("conversations"), list):
        inner = _first(rec["conversations"])
        if isinstance(inner, list) and is_pair(_first(inner)):
            return "json: object has 'conversations' as lists of input/output pairs"
    if isinstance(value, list) and isinstance(rec, list) and is_pair(_first(rec)):
        return "json: array of lists of input/output pairs"
    return None


def detect(loaded: Loaded, source: str) -> tuple[str, str]:
    """``(format, rule)`` for a loaded source, or ParseError (unknown or ambiguous)."""
    if loaded.kind == "text":
        return _detect_text(loaded.value, source)
    value = loaded.value
    top_object = loaded.kind == "json" and isinstance(value, dict)
    if top_object:
        inner = _first(value.get("conversations"))
        if isinstance(inner, dict) and isinstance(inner.get("mapping"), dict):
            return "chatgpt", "json: object with 'conversations' whose records have 'mapping'"
        rec: object = value
    elif isinstance(value, list):
        if not value:
            raise ParseError(source, "$", "a non-empty array of conversations (got [], "
                             "nothing to detect a format from; pass format= to read it)")
        rec = value[0]
    else:
        raise ParseError(source, "$", f"a JSON array or object, got {type(value).__name__}")
    hits = _probes(rec, top_object) if isinstance(rec, dict) else []
    if len(hits) > 1:
        names = " and ".join(f"{f} ({r})" for f, r in hits)
        raise ParseError(source, "$[0]" if not top_object else "$",
                         f"one format, but the record matches {names}; pass format= to choose")
    if hits:
        fmt, rule = hits[0]
        return fmt, rule + (" (JSONL)" if loaded.kind == "jsonl" else "")
    pair_rule = _pairs_probe(value, rec)
    if pair_rule is not None:
        return "pairs", pair_rule
    place = "line 1" if loaded.kind == "jsonl" else ("$" if top_object else "$[0]")
    keys = sorted(rec)[:8] if isinstance(rec, dict) else type(rec).__name__
    raise ParseError(source, place, f"a record of a supported format (see formats()), got keys {keys}")


def _detect_text(text: str, source: str) -> tuple[str, str]:
    head = text[:65536]
    if head.lstrip().startswith("<") and "var jsonData" in text:
        return "chatgpt_html", "html: page with 'var jsonData = [...]' (ChatGPT chat.html)"
    style = detect_style(head)
    if style is not None:
        return "markdown", f"markdown: {style} speaker headings"
    scheme = label_scheme(head.split("\n"))
    if scheme is not None:
        return "plaintext", "text: 'Label:' speaker lines for user and assistant"
    raise ParseError(source, "line 1", "a supported transcript format (JSON export, "
                     "exporter Markdown or text with 'User:'/'Assistant:' labels)")
