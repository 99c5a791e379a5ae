"""Less common shapes of the supported formats, built inline with known answers."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import orjson
import polars as pl
import pytest

from toolkit.read import ParseError, read

F = Path(__file__).resolve().parents[1] / "transcripts" / "formats"


def _w(tmp_path: Path, name: str, value: object) -> Path:
    p = tmp_path / name
    p.write_bytes(value if isinstance(value, bytes) else orjson.dumps(value))
    return p


def _chatgpt_conv(cid: str, t: float, words: tuple[str, str]) -> dict:
    def m(role: str, text: str) -> dict:
        return {"author": {"role": role}, "create_time": t + 1,
                "content": {"content_type": "text", "parts": [text]}}
    return {"id": cid, "create_time": t, "current_node": "b", "mapping": {
        "r": {"parent": None, "children": ["a"], "message": None},
        "a": {"parent": "r", "children": ["b"], "message": m("user", words[0])},
        "b": {"parent": "a", "children": [], "message": m("assistant", words[1])}}}


def test_chatgpt_wrapper_object(tmp_path):
    p = _w(tmp_path, "w.json", {"conversations": [_chatgpt_conv("c1", 10.0, ("q", "a"))]})
    rep = read(p, report=True)
    assert rep.turns["text"].to_list() == ["q", "a"]
    assert rep.detections["format"].to_list() == ["chatgpt"]


def test_sharded_chatgpt_zip(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("conversations-001.json", orjson.dumps([_chatgpt_conv("late", 200.0, ("q2", "a2"))]))
        zf.writestr("conversations-000.json", orjson.dumps([_chatgpt_conv("early", 100.0, ("q1", "a1"))]))
        zf.writestr("user.json", b"not json")
    p = _w(tmp_path, "export.zip", buf.getvalue())
    df = read(p)
    assert df.select("conversation_id", "conversation_index", "text").rows() == [
        ("early", 0, "q1"), ("early", 0, "a1"), ("late", 1, "q2"), ("late", 1, "a2")]
    assert df["timestamp"][0] == datetime(1970, 1, 1, 0, 1, 41, tzinfo=UTC)


def test_chatgpt_without_current_node_uses_latest_leaf(tmp_path):
    conv = _chatgpt_conv("c", 10.0, ("q", "a"))
    del conv["current_node"]
    conv["mapping"]["b2"] = {"parent": "a", "children": [], "message": {
        "author": {"role": "assistant"}, "create_time": 99.0,
        "content": {"content_type": "text", "parts": ["newer"]}}}
    rep = read(_w(tmp_path, "c.json", [conv]), report=True)
    assert rep.turns["text"].to_list() == ["q", "newer"]
    assert rep.notes["kind"].to_list() == ["no_current_node"]


def test_chatgpt_parent_cycle_is_parse_error(tmp_path):
    conv = {"id": "c", "create_time": 1.0, "current_node": "a", "mapping": {
        "a": {"parent": "b", "children": [], "message": None},
        "b": {"parent": "a", "children": [], "message": None}}}
    with pytest.raises(ParseError, match=r"mapping"):
        read(_w(tmp_path, "c.json", [conv]))


def test_claude_include_hidden_adds_tool_rows_not_thinking():
    df = read(F / "claude_conversations.json", include_hidden=True).filter(conversation_id="c-dogs")
    assert df["role"].to_list() == ["user", "assistant", "tool", "tool", "user"]
    assert df["text"][3] == "Saliva is 99% water."
    assert "per their preferences" not in " ".join(df["text"])


def test_messages_chosen_rejected_lists(tmp_path):
    rec = {"chosen": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}],
           "rejected": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Go away"}]}
    p = _w(tmp_path, "pref.jsonl", orjson.dumps(rec) + b"\n" + orjson.dumps(rec))
    assert read(p).filter(conversation_index=0)["text"].to_list() == ["Hi", "Hello"]
    alld = read(p, branch="all").filter(conversation_index=0)
    assert alld.select("branch", "text").rows() == [
        ("chosen", "Hi"), ("chosen", "Hello"), ("rejected", "Hi"), ("rejected", "Go away")]


def test_hh_transcript_key(tmp_path):
    p = _w(tmp_path, "red.jsonl", b'{"transcript": "\\n\\nHuman: a\\n\\nAssistant: b", "rating": 1}\n'
           b'{"transcript": "\\n\\nHuman: c\\n\\nAssistant: d", "rating": 0}\n')
    assert read(p).select("conversation_id", "text").rows() == [
        ("red.jsonl:1", "a"), ("red.jsonl:1", "b"), ("red.jsonl:2", "c"), ("red.jsonl:2", "d")]


def test_inspect_header_only_log(tmp_path):
    p = _w(tmp_path, "h.json", {"version": 2, "status": "started", "eval": {"created": "2025-01-01T00:00:00Z"},
                                "results": None})
    rep = read(p, report=True)
    assert rep.turns.height == 0 and rep.skipped["kind"].to_list() == ["no_samples"]


def test_pairs_plain_list(tmp_path):
    p = _w(tmp_path, "p.json", [{"prompt": "x?", "response": "y."}, {"question": "z?", "answer": "w."}])
    assert read(p).select("conversation_id", "role", "text").rows() == [
        ("p.json#0", "user", "x?"), ("p.json#0", "assistant", "y."),
        ("p.json#0", "user", "z?"), ("p.json#0", "assistant", "w.")]


def test_mixed_dated_and_undated_index_order(tmp_path):
    und = _w(tmp_path, "a_undated.txt", b"User: u\nAssistant: v\n")
    dated = _w(tmp_path, "b_dated.json", [_chatgpt_conv("d", 50.0, ("q", "a"))])
    df = read([und, dated])
    # dated conversations first by start time, undated ones after, in input order
    assert df.select("conversation_id", "conversation_index").unique(maintain_order=True).rows() == [
        ("d", 0), ("a_undated.txt", 1)]


def test_naive_and_offset_timestamps_claude(tmp_path):
    conv = [{"uuid": "n", "created_at": "2025-03-01T12:00:00", "chat_messages": [
        {"sender": "human", "text": "x", "created_at": "2025-03-01T12:00:00"},
        {"sender": "assistant", "text": "y", "created_at": "2025-03-01T08:00:05-05:00"}]}]
    rep = read(_w(tmp_path, "n.json", conv), report=True)
    assert rep.turns["timestamp"].to_list() == [
        datetime(2025, 3, 1, 12, 0, tzinfo=UTC), datetime(2025, 3, 1, 13, 0, 5, tzinfo=UTC)]
    assert rep.notes.filter(kind="naive_timestamp_assumed_utc")["count"].sum() == 2


def test_forced_format_in_folder_skips_other_files(tmp_path):
    (tmp_path / "a.txt").write_text("User: a\nAssistant: b\n", encoding="utf-8")
    (tmp_path / "b.json").write_bytes(b"[1, 2]")
    rep = read(tmp_path, format="plaintext", report=True)
    assert rep.turns.height == 2
    assert rep.skipped["kind"].to_list() == ["unrecognised_file"]


def test_schema_and_sort_order():
    df = read(F / "oasst.jsonl", branch="all")
    assert df.columns[:8] == ["conversation_id", "conversation_index", "turn", "role", "text",
                              "timestamp", "source", "format"]
    assert df.schema["model"] == pl.String and df.schema["active"] == pl.Boolean
    assert df.select(pl.col("turn").min().over("conversation_index", "branch").max()).item() == 0


def test_nfc_and_citation_markers_outside_chatgpt(tmp_path):
    p = _w(tmp_path, "u.txt", "User: cafe\u0301 \U0001f468\u200d\U0001f469\u200d\U0001f467\n"
           "Assistant: yes\ue200cite\ue202turn1news2\ue201 \u30101\u2020source\u3011ok\n".encode())
    assert read(p)["text"].to_list() == ["caf\u00e9 \U0001f468\u200d\U0001f469\u200d\U0001f467", "yes ok"]


def test_equal_start_times_keep_input_order(tmp_path):
    convs = [_chatgpt_conv(c, 5.0, (c, c)) for c in ("zeta", "alpha", "mid")]
    df = read(_w(tmp_path, "same.json", convs))
    assert df.filter(turn=0)["conversation_id"].to_list() == ["zeta", "alpha", "mid"]


def test_text_starting_with_bracket_is_still_text(tmp_path):
    p = _w(tmp_path, "t.txt", b"[notes from Tuesday]\nUser: hi\nAssistant: hello\n")
    assert read(p)["text"].to_list() == ["hi", "hello"]
    bad = _w(tmp_path, "bad.json", b'[{"a": 1,\n')
    with pytest.raises(ParseError, match=r"bad\.json.*line \d+, column"):
        read(bad)
