"""Zip and gzip members read in memory under a total-size cap and a compression-ratio
cap, so that a zip bomb is refused before it is inflated; nothing touches the disk."""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass

from toolkit.readers._common import ParseError

__all__ = ["ACCOUNT_FILES", "Budget", "gunzip", "is_account_file", "open_zip", "read_member", "unsafe_name"]

ACCOUNT_FILES = frozenset({"user.json", "users.json"})
_SMALL = 1 << 20  # members below 1 MiB are never refused for their ratio alone


@dataclass
class Budget:
    """Uncompressed bytes still allowed in this ``read`` call, and the ratio cap."""

    remaining: int
    max_ratio: float

    def take(self, n: int, source: str) -> None:
        """Spend ``n`` bytes, or refuse."""
        if n > self.remaining:
            raise ParseError(source, "uncompressed size", "members within the "
                             "max_uncompressed cap (refused as a possible zip bomb)")
        self.remaining -= n


def is_account_file(name: str) -> bool:
    """True for ``user.json``/``users.json`` (account details; never opened)."""
    return name.replace("\\", "/").rsplit("/", 1)[-1].lower() in ACCOUNT_FILES


def unsafe_name(name: str) -> bool:
    """True for member names that are absolute or climb out with ``..``."""
    n = name.replace("\\", "/")
    return n.startswith("/") or (len(n) > 1 and n[1] == ":") or ".." in n.split("/")


def open_zip(data: bytes, source: str) -> zipfile.ZipFile:
    """A ZipFile over bytes in memory, or ParseError."""
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise ParseError(source, "byte 0", f"a readable zip archive ({exc})") from None


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, source: str, budget: Budget) -> bytes:
    """The bytes of one member, checked against the caps before and while inflating."""
    if info.file_size > _SMALL and info.file_size > budget.max_ratio * max(info.compress_size, 1):
        raise ParseError(
            source, "zip header",
            f"a compression ratio under {budget.max_ratio:g}:1, got "
            f"{info.file_size / max(info.compress_size, 1):.0f}:1 (refused as a possible zip bomb)",
        )
    budget.take(info.file_size, source)
    try:
        with zf.open(info) as fh:
            data = fh.read(info.file_size + 1)
    except (zipfile.BadZipFile, zlib.error, OSError, NotImplementedError, RuntimeError, EOFError) as exc:
        raise ParseError(source, "zip member data", f"an intact member ({exc})") from None
    if len(data) > info.file_size:
        raise ParseError(source, "zip member data", "the size its header declares")
    return data


def gunzip(data: bytes, source: str, budget: Budget) -> bytes:
    """Inflate gzip data in chunks, refusing it once it passes the caps."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out: list[bytes] = []
    total = 0
    pos = 0
    step = 1 << 16
    try:
        while pos < len(data) or d.unconsumed_tail:
            chunk = d.unconsumed_tail or data[pos : pos + step]
            if not d.unconsumed_tail:
                pos += step
            piece = d.decompress(chunk, 1 << 22)
            total += len(piece)
            if total > _SMALL and total > budget.max_ratio * max(min(pos, len(data)), 1):
                raise ParseError(source, f"byte {min(pos, len(data))}",
                                 f"a compression ratio under {budget.max_ratio:g}:1 "
                                 "(refused as a possible gzip bomb)")
            budget.take(len(piece), source)
            out.append(piece)
            if d.eof:
                break
    except zlib.error as exc:
        raise ParseError(source, f"byte {min(pos, len(data))}", f"intact gzip data ({exc})") from None
    if not d.eof:
        raise ParseError(source, f"byte {len(data)}", "complete gzip data (file is truncated)")
    return b"".join(out)
