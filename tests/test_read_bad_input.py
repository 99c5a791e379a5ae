"""Bad input ends in ParseError (naming file and place), never a deep traceback;
zip/gzip bombs are refused quickly; unsafe member names and account files are never
opened; large messages parse in linear time."""

from __future__ import annotations

import gzip
import io
import time
import zipfile
from pathlib import Path

import orjson
import polars as pl
import pytest

from toolkit.read import ParseError, read

F = Path(__file__).resolve().parents[1] / "transcripts" / "formats"


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


@pytest.mark.parametrize(
    ("name", "data", "place"),
    [
        ("empty.json", b"", "byte 0"),
        ("blank.txt", b"  \n\t\n", "byte 0"),
        ("trunc.json", b'[{"id": "x", "mapping": {"a": {"parent": nu', "line 1, column"),
        ("binary.bin", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "byte 8"),
        ("latin1.txt", "User: caf\u00e9\nAssistant: ok\n".encode("latin-1"), "byte 9"),
        ("latin1.json", '[{"id": "caf\u00e9"}]'.encode("latin-1"), "byte 12"),
        ("utf16.txt", "User: hi\nAssistant: yo\n".encode("utf-16"), "byte 0"),
        ("number.json", b"42", "line 1"),
        ("string.json", b"[\"a\", 1]", "$[0]"),
        ("emptylist.json", b"[]", "$"),
        ("prose.txt", b"Just some notes with no speakers at all.\n", "line 1"),
    ],
)
def test_bad_files_raise_parse_error_naming_file_and_place(tmp_path, name, data, place):
    p = _write(tmp_path, name, data)
    with pytest.raises(ParseError) as info:
        read(p)
    msg = str(info.value)
    assert name in msg and place in msg
    assert isinstance(info.value, ValueError)


def test_truncated_jsonl_names_the_line(tmp_path):
    good = (F / "sharegpt.jsonl").read_bytes().splitlines()
    p = _write(tmp_path, "s.jsonl", good[0] + b"\n" + good[1][:30] + b"\n")
    with pytest.raises(ParseError, match=r"s\.jsonl.*line 2"):
        read(p)


@pytest.mark.parametrize(
    ("doc", "path"),
    [
        ([{"id": "c", "current_node": "a", "mapping": {"a": {"parent": None, "message": {
            "author": {"role": "user"}, "content": 5}}}}], '$[0].mapping["a"].message.content'),
        ([{"id": "c", "current_node": "a", "mapping": {"a": {"parent": None, "message": {
            "author": {"role": "robot"}, "content": {"parts": ["x"]}}}}}], '$[0].mapping["a"].message.author.role'),
        ([{"id": "c", "current_node": "a", "mapping": {"a": {"parent": None, "message": {
            "author": {"role": "user"}, "create_time": "yesterday", "content": {"parts": ["x"]}}}}}],
         '$[0].mapping["a"].message.create_time'),
        ([{"uuid": "u", "chat_messages": [{"sender": "human", "content": [{"type": "text"}]},
                                          {"sender": "wizard"}]}], "$[0].chat_messages[1].sender"),
        ([{"conversations": [{"from": "human", "value": ["not", "a", "string"]}]}], "$[0].conversations[0].value"),
    ],
)
def test_wrong_shape_names_the_json_path(tmp_path, doc, path):
    p = _write(tmp_path, "x.json", orjson.dumps(doc))
    with pytest.raises(ParseError) as info:
        read(p)
    assert path in str(info.value) and "x.json" in str(info.value)


def test_two_matching_probes_refuse_to_guess(tmp_path):
    rec = {"uuid": "u", "chat_messages": [], "mapping": {}, "current_node": None}
    p = _write(tmp_path, "both.json", orjson.dumps([rec]))
    with pytest.raises(ParseError, match=r"chatgpt.*claude"):
        read(p)
    assert read(p, format="claude").height == 0  # forcing one reader is allowed


def test_bom_and_crlf_in_json(tmp_path):
    raw = (F / "sharegpt.json").read_bytes().replace(b"\n", b"\r\n")
    p = _write(tmp_path, "bom.json", b"\xef\xbb\xbf" + raw)
    assert read(p).height == 5


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for n, b in members.items():
            zf.writestr(n, b)
    return buf.getvalue()


def test_zip_bomb_is_refused_quickly(tmp_path):
    # 300 MB of zeros compresses ~1000:1; built here, never committed
    buf = io.BytesIO()
    chunk = b"\x00" * (1 << 20)
    with (
        zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf,
        zf.open("conversations.json", "w", force_zip64=True) as fh,
    ):
        for _ in range(300):
            fh.write(chunk)
    p = _write(tmp_path, "bomb.zip", buf.getvalue())
    t0 = time.perf_counter()
    with pytest.raises(ParseError, match="zip bomb"):
        read(p)
    assert time.perf_counter() - t0 < 5


def test_total_uncompressed_cap(tmp_path):
    text = (F / "plaintext_human_ai.txt").read_bytes()
    p = _write(tmp_path, "two.zip", _zip_bytes({"a.txt": text, "b.txt": text}))
    assert read(p).height == 8
    with pytest.raises(ParseError, match="max_uncompressed"):
        read(p, max_uncompressed=len(text) + 10)


def test_gzip_bomb_is_refused(tmp_path):
    p = _write(tmp_path, "bomb.jsonl.gz", gzip.compress(b" " * (50 << 20), compresslevel=9))
    t0 = time.perf_counter()
    with pytest.raises(ParseError, match="gzip bomb"):
        read(p)
    assert time.perf_counter() - t0 < 5


def test_unsafe_member_names_are_not_opened(tmp_path):
    text = (F / "plaintext_human_ai.txt").read_bytes()
    p = _write(tmp_path, "evil.zip", _zip_bytes({
        "../escape.txt": text, "/abs/path.txt": text, "ok/fine.txt": text}))
    rep = read(p, report=True)
    assert rep.turns["source"].unique().to_list() == [f"{p}:ok/fine.txt"]
    unsafe = rep.skipped.filter(kind="unsafe_member_name")["source"].to_list()
    assert sorted(unsafe) == sorted([f"{p}:../escape.txt", f"{p}:/abs/path.txt"])
    assert not (tmp_path.parent / "escape.txt").exists()


def test_account_files_never_opened_in_folder_or_zip(tmp_path, monkeypatch):
    (tmp_path / "export").mkdir()
    d = tmp_path / "export"
    (d / "conversations.json").write_bytes((F / "chatgpt_conversations.json").read_bytes())
    (d / "user.json").write_bytes(b"{ invalid json that would raise")
    (d / "chat.html").write_bytes((F / "chatgpt_chat.html").read_bytes())
    opened: list[str] = []
    real = Path.read_bytes

    def spy(self: Path) -> bytes:
        opened.append(self.name)
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", spy)
    rep = read(d, report=True)
    assert "user.json" not in opened and "chat.html" not in opened
    assert rep.turns["conversation_id"].unique().len() == 2  # chat.html not double counted
    assert set(rep.skipped.filter(pl.col("conversation_id").is_null())["kind"]) == {
        "account_file_not_opened", "duplicate_view"}
    with pytest.raises(ParseError):  # opened directly it is still never parsed as data
        read(F / "chatgpt_export.zip", format="pairs")


def test_folder_skips_unrecognised_but_counts_them(tmp_path):
    (tmp_path / "a.txt").write_text("User: hi\nAssistant: hello\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("no speakers here\n", encoding="utf-8")
    (tmp_path / "img.png").write_bytes(b"\x89PNG\x00\x00")
    rep = read(tmp_path, report=True)
    assert rep.turns.height == 2
    assert sorted(Path(s).name for s in rep.skipped.filter(kind="unrecognised_file")["source"]) == [
        "img.png", "notes.txt"]


def test_list_of_sources_and_missing_path(tmp_path):
    df = read([F / "plaintext_human_ai.txt", str(F / "sharegpt.jsonl")])
    assert df["conversation_id"].unique(maintain_order=True).to_list() == [
        "plaintext_human_ai.txt", "xyz_2", "sharegpt.jsonl:2"]
    with pytest.raises(FileNotFoundError):
        read(tmp_path / "nope.json")
    with pytest.raises(ValueError, match="branch"):
        read(F / "pairs.json", branch="some")


def _big_message(n: int) -> bytes:
    return orjson.dumps({"messages": [{"role": "user", "content": "hi"},
                                      {"role": "assistant", "content": "word " * (n // 5)}]})


def test_one_huge_message_parses_in_linear_time(tmp_path):
    small = _write(tmp_path, "s.jsonl", _big_message(5_000_000))
    big = _write(tmp_path, "b.jsonl", _big_message(20_000_000))
    t0 = time.perf_counter()
    assert read(small).height == 2
    t1 = time.perf_counter()
    df = read(big)
    t2 = time.perf_counter()
    assert df["text"].str.len_chars()[1] == 20_000_000
    assert t2 - t1 < 10
    assert (t2 - t1) < 4 * 4 * max(t1 - t0, 0.02)  # 4x the size, far from quadratic


def test_huge_plaintext_turn_linear(tmp_path):
    body = ("a line of text\n" * 700_000).encode()
    p = _write(tmp_path, "big.txt", b"User: go\nAssistant: " + body)
    t0 = time.perf_counter()
    assert read(p).height == 2
    assert time.perf_counter() - t0 < 10
