"""Shared pieces of the readers: the error type, the per-source context, the
intermediate conversation record, typed JSON accessors and timestamp parsing."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["Conv", "Ctx", "ParseError"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# seconds: 0001-01-01 .. 9999-12-31
_MIN_EPOCH = -62135596800.0
_MAX_EPOCH = 253402300799.0

Row = tuple[str, str, int | None, str | None]
"""One turn: role, text, timestamp (epoch microseconds, UTC) or None, model or None."""


class ParseError(ValueError):
    """Input that cannot be read as the expected transcript format.

    The message names the source (file, and member inside a zip), the place
    (line number, byte offset or JSON path) and what was expected there.

    Examples
    --------
    >>> err = ParseError("a.json", "$[0].mapping", "a JSON object, got list")
    >>> str(err)
    "cannot read 'a.json' at $[0].mapping: expected a JSON object, got list"
    >>> isinstance(err, ValueError)
    True
    """

    def __init__(self, source: str, place: str, expected: str) -> None:
        self.source = source
        self.place = place
        self.expected = expected
        super().__init__(f"cannot read {source!r} at {place}: expected {expected}")


def kind(x: object) -> str:
    """JSON-ish name of a Python value's type, for error messages."""
    if x is None:
        return "null"
    if isinstance(x, bool):
        return "boolean"
    if isinstance(x, int | float):
        return "number"
    if isinstance(x, str):
        return "string"
    if isinstance(x, list):
        return "array"
    if isinstance(x, dict):
        return "object"
    return type(x).__name__


def key(path: str, k: str | int, *, data: bool = False) -> str:
    """Extend a JSON path: ``$[3]``, ``.mapping``, ``["node-id"]`` (``data`` keys)."""
    if isinstance(k, int):
        return f"{path}[{k}]"
    if data or not k.isidentifier():
        return f'{path}["{k}"]'
    return f"{path}.{k}"


@dataclass
class Conv:
    """One conversation (or one branch of it) as a reader emits it."""

    id: str
    start: int | None = None
    rows: list[Row] = field(default_factory=list)
    branch: str | None = None
    active: bool = True
    source: str | None = None

    def add(self, role: str, text: str, ts: int | None, model: str | None = None) -> None:
        """Append one turn."""
        self.rows.append((role, text, ts, model))


@dataclass
class Ctx:
    """What a reader knows about the source it is reading and where it reports."""

    source: str
    fmt: str
    branch: str = "active"
    include_hidden: bool = False
    jsonl: bool = False
    skips: list[tuple[str, str | None, str, str, int]] = field(default_factory=list)
    notes: list[tuple[str, str | None, str, str, int]] = field(default_factory=list)

    @property
    def stem(self) -> str:
        """The source's file name without directories (ids are derived from it)."""
        name = self.source.replace("\\", "/").rsplit("/", 1)[-1]
        return name.rsplit(":", 1)[-1] if ":" in name else name

    @property
    def all_branches(self) -> bool:
        """True when every branch is wanted."""
        return self.branch == "all"

    def skip(self, conv: str | None, what: str, reason: str, n: int = 1) -> None:
        """Count something left out of TURNS on purpose."""
        if n:
            self.skips.append((self.source, conv, what, reason, n))

    def note(self, conv: str | None, what: str, reason: str, n: int = 1) -> None:
        """Count something kept but flagged (e.g. a naive timestamp read as UTC)."""
        if n:
            self.notes.append((self.source, conv, what, reason, n))

    def fail(self, place: str, expected: str) -> ParseError:
        """A ParseError for this source (the caller raises it)."""
        return ParseError(self.source, place, expected)

    def rec_path(self, i: int) -> str:
        """Place of the i-th record: ``line N`` for JSONL, ``$[i]`` for a JSON array."""
        return f"line {i + 1}, $" if self.jsonl else f"$[{i}]"

    def derived_id(self, i: int) -> str:
        """Conversation id made from the file name and the record's position."""
        return f"{self.stem}:{i + 1}" if self.jsonl else f"{self.stem}#{i}"

    # -- typed accessors ------------------------------------------------------------

    def obj(self, x: object, path: str) -> dict[str, Any]:
        """``x`` as a JSON object, else ParseError."""
        if not isinstance(x, dict):
            raise self.fail(path, f"a JSON object, got {kind(x)}")
        return x

    def arr(self, x: object, path: str) -> list[Any]:
        """``x`` as a JSON array, else ParseError."""
        if not isinstance(x, list):
            raise self.fail(path, f"a JSON array, got {kind(x)}")
        return x

    def opt_str(self, d: dict[str, Any], k: str, path: str) -> str | None:
        """``d[k]`` as a string or None (absent/null), else ParseError."""
        v = d.get(k)
        if v is None or isinstance(v, str):
            return v
        raise self.fail(key(path, k), f"a string or null, got {kind(v)}")

    def opt_id(self, d: dict[str, Any], k: str, path: str) -> str | None:
        """An identifier that may be a string or an integer."""
        v = d.get(k)
        if v is None or isinstance(v, str):
            return v
        if isinstance(v, int) and not isinstance(v, bool):
            return str(v)
        raise self.fail(key(path, k), f"a string or integer id, got {kind(v)}")

    def text_of(self, d: dict[str, Any], k: str, path: str) -> str:
        """``d[k]`` as a string; null/absent gives ``""``."""
        v = self.opt_str(d, k, path)
        return "" if v is None else v

    # -- timestamps -----------------------------------------------------------------

    def ts_epoch(self, v: object, path: str) -> int | None:
        """Epoch seconds (int or float, UTC) to epoch microseconds; null stays null."""
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise self.fail(path, f"epoch seconds (a number) or null, got {kind(v)}")
        f = float(v)
        if not math.isfinite(f) or not _MIN_EPOCH <= f <= _MAX_EPOCH:
            raise self.fail(path, f"epoch seconds within years 1-9999, got {v!r}")
        return round(f * 1_000_000)

    def ts_iso(self, v: object, path: str, conv: str | None) -> int | None:
        """ISO-8601 (``Z``, ``±HH:MM`` or naive = UTC, noted) to epoch microseconds."""
        if v is None or v == "":
            return None
        if not isinstance(v, str):
            raise self.fail(path, f"an ISO-8601 timestamp string or null, got {kind(v)}")
        return iso_to_us(v, self, path, conv)


def iso_to_us(v: str, ctx: Ctx, path: str, conv: str | None) -> int:
    """Parse an ISO-8601 string; naive values are taken as UTC and noted in ``ctx``."""
    try:
        dt = datetime.fromisoformat(v.strip())
    except ValueError:
        raise ctx.fail(path, f"an ISO-8601 timestamp, got {v[:40]!r}") from None
    if dt.tzinfo is None:
        ctx.note(conv, "naive_timestamp_assumed_utc", "ISO timestamp without offset")
        dt = dt.replace(tzinfo=UTC)
    return (dt - _EPOCH) // _US


_US = datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC) - _EPOCH

ROLE_ALIASES: dict[str, str] = {
    "user": "user",
    "human": "user",
    "prompter": "user",
    "you": "user",
    "me": "user",
    "assistant": "assistant",
    "gpt": "assistant",
    "chatgpt": "assistant",
    "bing": "assistant",
    "bard": "assistant",
    "claude": "assistant",
    "model": "assistant",
    "ai": "assistant",
    "bot": "assistant",
    "system": "system",
    "developer": "system",
    "tool": "tool",
    "function": "tool",
    "observation": "tool",
    "ipython": "tool",
}


def role_of(v: object, ctx: Ctx, path: str) -> str:
    """Map a speaker label to one of user/assistant/system/tool, else ParseError."""
    if isinstance(v, str):
        r = ROLE_ALIASES.get(v.strip().lower())
        if r is not None:
            return r
    raise ctx.fail(
        path, f"a speaker such as user/human/assistant/gpt/system/tool, got {v!r}"[:200]
    )


def tree_paths(
    children: dict[str, list[str]], roots: list[str]
) -> list[list[str]]:
    """Every root-to-leaf path of a forest, depth first, siblings in the given order."""
    out: list[list[str]] = []
    for root in roots:
        stack: list[tuple[str, list[str]]] = [(root, [root])]
        while stack:
            node, path = stack.pop()
            kids = [k for k in children.get(node, ()) if k not in path]
            if not kids:
                out.append(path)
                continue
            for k in reversed(kids):
                stack.append((k, [*path, k]))
    return out
