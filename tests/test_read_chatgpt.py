"""ChatGPT export rules: active branch by current_node, branch="all", hidden nodes,
tool-addressed payloads, reasoning, citations, Unicode, node ids per conversation."""

from __future__ import annotations

import random
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import orjson
import polars as pl

from toolkit.read import read

F = Path(__file__).resolve().parents[1] / "transcripts" / "formats" / "chatgpt_conversations.json"


def _ts(*a):
    return datetime(*a, tzinfo=UTC)


def test_active_branch_visible_text_only():
    rep = read(F, report=True)
    g = rep.turns.filter(conversation_id="conv-garden")
    assert g.select("turn", "role", "text", "model").rows() == [
        (0, "user", "Can you help me plan a small garden?", None),
        (1, "assistant", "Sure, start with beans and peas.", "gpt-4o"),
        (2, "user", "Thanks \U0001f469\u200d\U0001f33e! Remember that I grow beans.", None),
        (3, "assistant", "Variant two: plant in a square.", "gpt-4o"),
        (4, "assistant", "Noted. Beans first, then peas.", "o3"),
    ]
    assert g["timestamp"].to_list() == [
        _ts(2024, 4, 5, 19, 33, 21, 500000), _ts(2024, 4, 5, 19, 33, 30),
        _ts(2024, 4, 5, 19, 33, 50, 250000), _ts(2024, 4, 5, 19, 34, 0, 13000),
        _ts(2024, 4, 5, 19, 34, 20),
    ]
    text = " ".join(rep.turns["text"])
    for leaked in ("User grows beans", "Model set context", "keep it short", "Thought for",
                   "Variant one", "\ue200", "\u3010", "I am a gardener"):
        assert leaked not in text
    sk = rep.skipped.filter(conversation_id="conv-garden")
    counts = dict(sk.group_by("kind").agg(pl.col("count").sum()).iter_rows())
    assert counts == {"hidden_scaffolding": 1, "tool_addressed": 1, "tool_message": 1,
                      "reasoning": 2, "inactive_branch": 1}


def test_earlier_conversation_gets_index_zero_and_null_ts_stays_null():
    df = read(F)
    assert df.select("conversation_id", "conversation_index").unique(maintain_order=True).rows() == [
        ("conv-picture", 0), ("conv-garden", 1)]
    pic = df.filter(conversation_id="conv-picture")
    assert pic["text"].to_list() == ["What is in this picture?", "A watering can.\nIt is green."]
    assert pic["timestamp"].to_list() == [_ts(2024, 4, 1, 19, 33, 25), None]
    assert pic["model"].to_list() == [None, "text-davinci-002-render-sha"]


def test_mapping_key_order_does_not_matter():
    data = orjson.loads(F.read_bytes())
    base = read(F).drop("source")
    rng = random.Random(0)
    for conv in data:
        items = list(conv["mapping"].items())
        rng.shuffle(items)
        conv["mapping"] = dict(reversed(items))
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "conversations.json"
        out.write_bytes(orjson.dumps(data))
        assert read(out).drop("source").equals(base)


def test_current_node_decides_the_branch(tmp_path):
    data = orjson.loads(F.read_bytes())
    data[0]["current_node"] = "a2-old"
    out = tmp_path / "c.json"
    out.write_bytes(orjson.dumps(data))
    g = read(out).filter(conversation_id="conv-garden")
    assert g["text"].to_list()[-1] == "Variant one: plant in rows."
    assert g.height == 4


def test_branch_all():
    df = read(F, branch="all").filter(conversation_id="conv-garden")
    assert df.group_by("branch", maintain_order=True).agg(
        pl.len(), pl.col("active").first(), pl.col("turn").max()).rows() == [
        ("a2-old", 4, False, 3), ("a4", 5, True, 4)]
    assert df.filter(branch="a2-old")["text"].to_list()[-1] == "Variant one: plant in rows."
    assert df.schema["branch"] == pl.String


def test_include_hidden_keeps_tool_rows_but_never_reasoning():
    df = read(F, include_hidden=True).filter(conversation_id="conv-garden")
    assert df["role"].to_list() == ["user", "assistant", "user", "assistant", "tool", "tool", "assistant"]
    assert df["text"][4] == "User grows beans in a small garden."
    assert "keep it short" not in " ".join(df["text"])
    pic = read(F, include_hidden=True).filter(conversation_id="conv-picture")
    assert pic["role"].to_list()[0] == "system"  # custom instructions as a system row


def test_node_ids_are_per_conversation(tmp_path):
    # two conversations whose node ids are all identical must not mix
    def conv(cid, word, t):
        return {"id": cid, "create_time": t, "current_node": "b", "mapping": {
            "client-created-root": {"parent": None, "children": ["a"], "message": None},
            "a": {"parent": "client-created-root", "children": ["b"], "message": {
                "author": {"role": "user"}, "content": {"content_type": "text", "parts": [f"{word}?"]}}},
            "b": {"parent": "a", "children": [], "message": {
                "author": {"role": "assistant"}, "content": {"content_type": "text", "parts": [f"{word}!"]}}}}}
    p = tmp_path / "conversations.json"
    p.write_bytes(orjson.dumps([conv("x", "one", 2.0), conv("y", "two", 1.0)]))
    df = read(p)
    assert df.select("conversation_id", "text").rows() == [
        ("y", "two?"), ("y", "two!"), ("x", "one?"), ("x", "one!")]
    assert df["timestamp"].null_count() == 4
