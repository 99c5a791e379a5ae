"""Split a large top-level JSON array into its elements without parsing it whole.

:func:`split_array` walks the bytes chunk by chunk and yields each element's bytes, so
a caller can parse one conversation at a time (``orjson.loads``) and drop it, instead
of holding the whole file and the whole parsed tree at once. The scan is vectorised
with numpy: per chunk it finds the backslashes (to cancel escaped quotes), the quotes
(their running parity says which bytes are inside strings) and the brackets and
commas outside strings; only the few commas at depth 1 (one per element) reach Python.
The state (string parity, a pending backslash, bracket depth) carries across chunks,
so the cost is linear in the file size whatever the chunk size or element size.

The splitter checks the array's own structure (the opening ``[``, the commas, the
closing ``]``, nothing but whitespace after it, no truncation); each element's
contents are checked by whoever parses it (:func:`array_values` uses orjson).
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Iterator
from typing import Any

import numpy as np
import orjson

from toolkit.readers._common import ParseError

__all__ = ["array_values", "split_array"]

# byte classes: 0 other, 1 quote, 2 backslash, 3 opener, 4 closer, 5 comma
_CLASSES = bytearray(256)
_CLASSES[ord('"')] = 1
_CLASSES[ord("\\")] = 2
for _b in b"[{":
    _CLASSES[_b] = 3
for _b in b"]}":
    _CLASSES[_b] = 4
_CLASSES[ord(",")] = 5
_LUT = np.frombuffer(bytes(_CLASSES), dtype=np.uint8)
_MASK = bytes(1 if c else 0 for c in _CLASSES)  # as numpy booleans: "an interesting byte"
_DELTA = np.array([0, 0, 0, 1, -1, 0], dtype=np.int64)
_WS = b" \t\r\n"


def split_array(chunks: Iterable[bytes], source: str) -> Iterator[tuple[int, bytes]]:
    """Yield ``(byte offset, bytes)`` of each element of a top-level JSON array.

    ``chunks`` are consecutive pieces of one document (any sizes); the document must
    start, after optional whitespace, with ``[``. Element bytes may keep surrounding
    whitespace. Offsets count from the start of the first chunk.

    Raises
    ------
    ParseError
        Naming ``source`` and a byte offset: no ``[`` at the start, an empty element
        (``[1,,2]``, trailing comma), data after the closing ``]``, or a truncated file.

    Examples
    --------
    >>> from toolkit.readers._split import split_array
    >>> doc = b'[{"a": "x, ]"}, [1, {"b": "\\\\""}], 3]'
    >>> [e for _, e in split_array([doc[:9], doc[9:]], "f.json")]
    [b'{"a": "x, ]"}', b' [1, {"b": "\\\\""}]', b' 3']
    """
    depth = 0  # bracket depth before the next structural byte
    in_str = 0  # 1 when the next byte is inside a string
    pending = False  # the previous chunk ended with an escaping backslash
    started = ended = False
    base = 0  # offset of the current chunk
    elem_start = -1  # offset where the current element's bytes begin
    pieces: list[bytes] = []  # earlier chunks' parts of the current element
    count = 0
    start_in_chunk = 0
    for chunk in chunks:
        n = len(chunk)
        if not n:
            continue
        if ended:
            _only_space(chunk, base, source)
            base += n
            continue
        # positions and classes of every quote, backslash, bracket and comma
        pos = np.flatnonzero(np.frombuffer(chunk.translate(_MASK), dtype=np.bool_))
        kinds = _LUT[np.frombuffer(chunk, dtype=np.uint8)[pos]]
        first_escaped, pending = pending, False
        bsi = np.flatnonzero(kinds == 2)
        if bsi.size:
            bpos = pos[bsi]
            active = _escaping(bpos, first_escaped)
            esc = bsi[active] + 1  # the entry after an escaping backslash...
            pending = bool(esc.size) and int(bpos[active][-1]) == n - 1
            esc = esc[esc < pos.size]
            esc = esc[pos[esc] == pos[esc - 1] + 1]  # ...if it is the very next byte
            kinds[esc] = 0
        if first_escaped and pos.size and pos[0] == 0:
            kinds[0] = 0
        # inside a string after entry i: parity of the quotes up to i (a quote's own
        # parity does not matter, only brackets and commas are looked at)
        inside = np.bitwise_xor.accumulate((kinds == 1).view(np.uint8))
        if in_str:
            inside ^= 1
        sel = np.flatnonzero((kinds >= 3) & (inside == 0))
        if inside.size:
            in_str = int(inside[-1])
        s = pos[sel]
        kinds = kinds[sel]
        if s.size:
            after = np.cumsum(_DELTA[kinds]) + depth
            before = after - _DELTA[kinds]
            if not started and (before[0] != 0 or kinds[0] != 3 or chunk[s[0]] != ord("[")):
                raise ParseError(source, f"byte {base + int(s[0])}", "a JSON array '[' at the top level")
            if int(after.min()) < 0:
                at = int(s[int(np.argmax(after < 0))])
                raise ParseError(source, f"byte {base + at}", "balanced brackets")
            top = np.flatnonzero(before <= 1)  # the '[', the separators and the ']'
            depth = int(after[-1])
            for t in top.tolist():
                at = int(s[t])
                kind = int(kinds[t])
                if int(before[t]) == 0:  # the opening '[' (or something after the ']')
                    if started:
                        raise ParseError(source, f"byte {base + at}",
                                         "nothing after the closing ']' of the array")
                    _only_space(chunk[:at], base, source)
                    started = True
                    elem_start = base + at + 1
                    start_in_chunk = at + 1
                    continue
                if kind == 3:
                    continue  # an element that is itself an array or object begins
                # a comma at depth 1, or the closing ']': the element before it is done
                if pieces:
                    pieces.append(chunk[:at])
                    part = b"".join(pieces)
                    pieces = []
                else:
                    part = chunk[start_in_chunk:at]
                last = kind == 4
                if part.strip(_WS):
                    yield elem_start, part
                    count += 1
                elif not (last and count == 0):  # only "[]" may be empty
                    sep = "]" if last else ","
                    raise ParseError(source, f"byte {base + at}",
                                     f"a value for element $[{count}] before this '{sep}'")
                if last:
                    if chunk[at] != ord("]"):
                        raise ParseError(source, f"byte {base + at}",
                                         "']' to close the top-level array")
                    ended = True
                    _only_space(chunk[at + 1 :], base + at + 1, source)
                    break
                elem_start = base + at + 1
                start_in_chunk = at + 1
        if not started:
            _only_space(chunk, base, source)
        elif not ended:
            # the rest of this chunk belongs to the current element
            if pieces:
                pieces.append(chunk)
            else:
                pieces = [chunk[start_in_chunk:]]
            start_in_chunk = 0
        base += n
    if not ended:
        tail = b"".join(pieces)
        if tail.strip(_WS):
            try:  # a syntax error inside the last element is the better place to name
                orjson.loads(tail)
            except orjson.JSONDecodeError as exc:
                raise ParseError(source, f"$[{count}], byte {elem_start + _byte_pos(tail, exc.pos)}",
                                 f"valid JSON: {exc.msg}") from None
        where = f"$[{count}]" if started else "$"
        raise ParseError(source, f"byte {base} (inside {where})",
                         "the rest of the JSON array (the file is truncated)")


def array_values(
    chunks: Iterable[bytes], source: str
) -> Generator[tuple[int, Any], None, None]:
    """Yield ``(index, value)`` for each element of a top-level JSON array, parsed one
    at a time with orjson; a syntax error names ``$[index]`` and its byte offset.

    Examples
    --------
    >>> from toolkit.readers._split import array_values
    >>> list(array_values([b'[{"a": 1}, ', b'"x", null]'], "f.json"))
    [(0, {'a': 1}), (1, 'x'), (2, None)]
    """
    for i, (offset, raw) in enumerate(split_array(chunks, source)):
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ParseError(source, f"$[{i}], byte {offset + _byte_pos(raw, exc.pos)}",
                             f"valid JSON: {exc.msg}") from None
        yield i, value


def _byte_pos(raw: bytes, char_pos: int) -> int:
    """Byte offset in ``raw`` of orjson's error position (which counts characters)."""
    return len(raw.decode("utf-8", "replace")[:char_pos].encode("utf-8"))


def _escaping(bs: np.ndarray, first_escaped: bool) -> np.ndarray:
    """Which backslashes (sorted positions ``bs``) escape the byte after them: in a
    run of consecutive backslashes every other one, starting with the first, unless
    the run starts at byte 0 and that byte is itself escaped."""
    k = np.arange(bs.size)
    new_run = np.ones(bs.size, dtype=bool)
    new_run[1:] = bs[1:] != bs[:-1] + 1
    run_start = np.maximum.accumulate(np.where(new_run, k, 0))
    active: np.ndarray = ((k - run_start) & 1) == 0
    if first_escaped and bs[0] == 0:
        active[run_start == 0] ^= True
    return active


def _only_space(b: bytes, base: int, source: str) -> None:
    rest = b.lstrip(_WS)
    if rest:
        at = base + len(b) - len(rest)
        raise ParseError(source, f"byte {at}", "only whitespace around the top-level JSON array")
