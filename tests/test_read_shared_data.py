"""Real third-party files in ../shared/data (development only); skipped when absent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from toolkit.read import read

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
pytestmark = pytest.mark.data


def _need(rel: str) -> Path:
    p = DATA / rel
    if not p.exists():
        pytest.skip(f"{p} not available")
    return p


def test_chatgpt_export_2023():
    rep = read(_need("chatgpt-export-2023/conversations.json"), report=True)
    df = rep.turns
    # 27 messages, 5 of them empty hidden system messages (one per conversation)
    assert df.height == 22
    assert df["conversation_id"].n_unique() == 5
    assert rep.skipped.filter(kind="hidden_scaffolding")["count"].sum() == 5
    # chronological by create_time: 0e6edda9 (1691482033) first, d86cc343 (1691494832) last
    firsts = df.filter(turn=0).sort("conversation_index")["conversation_id"].to_list()
    assert firsts[0].startswith("0e6edda9") and firsts[-1].startswith("d86cc343")
    assert set(df.filter(role="assistant")["model"]) == {"text-davinci-002-render-sha"}
    assert df["timestamp"].null_count() == 0


def test_oasst_100_trees():
    path = _need("oasst/en_100_tree.jsonl")
    trees = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]

    def leaves(node):
        kids = node.get("replies") or []
        return 1 if not kids else sum(leaves(k) for k in kids)

    df = read(path)
    assert df["conversation_id"].n_unique() == 100
    assert df.filter(turn=0)["role"].unique().to_list() == ["user"]
    first = df.filter(conversation_id=trees[0]["message_tree_id"])
    assert first["text"][1].startswith("The first step is to research")  # rank 0 reply
    alld = read(path, branch="all")
    n_branches = alld.select("conversation_id", "branch").unique().height
    assert n_branches == sum(leaves(t["prompt"]) for t in trees)


def test_openai_messages_toy():
    df = read(_need("openai-messages/toy_chat_fine_tuning.jsonl"))
    sizes = df.group_by("conversation_index", maintain_order=True).len()["len"].to_list()
    assert sizes == [3, 9, 2, 2, 3]
    assert df.filter(conversation_index=3)["role"].to_list() == ["system", "assistant"]
    assert df["text"].str.len_chars().max() == 26000
