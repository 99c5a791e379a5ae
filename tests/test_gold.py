"""Tests for the bundled gold set (transcripts/gold) and toolkit.evaluate.load_gold."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import polars as pl
import pytest

from toolkit.evaluate import gold_path, load_gold
from toolkit.schema import CATEGORIES, SLIP_CATEGORIES, TAGS, TURNS, USER_CATEGORIES

GOLD_DIR = Path(__file__).resolve().parents[1] / "transcripts" / "gold"


@pytest.fixture(scope="module")
def gold():
    return load_gold()


def test_test_split_hash_matches_split_md():
    # the frozen test split: recompute the SHA-256 of its lines and compare it with
    # the figure written in SPLIT.md when the split was frozen
    recorded = re.search(r"```\s*([0-9a-f]{64})\s*```", (GOLD_DIR / "SPLIT.md").read_text())
    assert recorded, "SPLIT.md must state the test-split SHA-256"
    h = hashlib.sha256()
    for line in (GOLD_DIR / "gold.jsonl").read_bytes().splitlines(keepends=True):
        if json.loads(line)["split"] == "test":
            h.update(line.rstrip(b"\n") + b"\n")
    assert h.hexdigest() == recorded.group(1)


def test_split_md_states_the_seed_and_counts(gold):
    text = (GOLD_DIR / "SPLIT.md").read_text()
    seed = re.search(r"Seed: (\d+)", text)
    assert seed and seed.group(1) == (GOLD_DIR / "SEED").read_text().strip()
    turns, _ = gold
    per = turns.group_by("split").agg(pl.col("conversation_id").n_unique().alias("n"))
    for split, n in per.iter_rows():
        assert re.search(rf"\| {split} \| {n} \|", text)


def test_size_and_shape(gold):
    turns, _ = gold
    roles = turns["role"].cast(pl.String).value_counts()
    counts = dict(roles.iter_rows())
    assert counts["assistant"] >= 400
    assert counts["user"] >= 150
    per_conv = turns.group_by("conversation_id").len()["len"]
    assert per_conv.min() >= 3
    assert per_conv.max() <= 12
    n_conv = turns["conversation_id"].n_unique()
    assert n_conv >= 100  # enough clusters for a conversation bootstrap
    # older rounds are dev (their test splits were spent); the newest blind hold-out is test
    rounds = {
        json.loads(line)["conversation_id"]: json.loads(line)["round"]
        for line in (GOLD_DIR / "gold.jsonl").read_text(encoding="utf-8").splitlines()
    }
    split_of = dict(turns.select("conversation_id", "split").unique().iter_rows())
    newest = max(rounds.values())
    assert {split_of[c] for c, r in rounds.items() if r < newest} == {"dev"}
    assert {split_of[c] for c, r in rounds.items() if r == newest} == {"test"}
    test_turns = turns.filter(pl.col("split") == "test")["role"].cast(pl.String).value_counts()
    test_counts = dict(test_turns.iter_rows())
    assert test_counts["assistant"] >= 300 and test_counts["user"] >= 150
    # no conversation straddles the split
    assert turns.group_by("conversation_id").agg(pl.col("split").n_unique())["split"].max() == 1


def test_frames_satisfy_the_contract(gold):
    turns, tags = gold
    for col, dtype in TURNS.items():
        assert turns.schema[col] == dtype, col
    for col, dtype in TAGS.items():
        assert tags.schema[col] == dtype, col
    assert set(turns["format"]) == {"gold"}
    assert turns["timestamp"].is_null().all()
    assert turns.select("conversation_index", "turn").is_duplicated().sum() == 0


def test_offsets_point_at_the_quote(gold):
    turns, tags = gold
    joined = tags.join(turns.select("conversation_id", "turn", "text"), on=["conversation_id", "turn"])
    assert joined.height == tags.height
    sliced = joined.select(
        pl.col("text").str.slice(pl.col("start"), pl.col("end") - pl.col("start"))
    ).to_series()
    assert (sliced == joined["match"]).all()


def test_every_category_in_both_splits_with_roles_and_targets(gold):
    turns, tags = gold
    split = tags.join(turns.select("conversation_id", "turn", "split"), on=["conversation_id", "turn"])
    for s in ("dev", "test"):
        present = set(split.filter(pl.col("split") == s)["category"])
        assert present == set(CATEGORIES), (s, set(CATEGORIES) - present)
    user = tags.filter(pl.col("category").is_in(list(USER_CATEGORIES)))
    assert set(user["role"].cast(pl.String)) == {"user"}
    assistant = tags.filter(~pl.col("category").is_in(list(USER_CATEGORIES)))
    assert set(assistant["role"].cast(pl.String)) == {"assistant"}
    corr = tags.filter(pl.col("category") == "correction")
    assert corr["target"].is_null().sum() == 0
    assert set(corr["target"]) <= {*SLIP_CATEGORIES, "identity", "meta_awareness", "unspecified"}
    assert tags.filter(pl.col("category") != "correction")["target"].is_null().all()


def test_slips_after_corrections_are_present(gold):
    # the differential-misclassification check needs slips inside the window
    turns, tags = gold
    corr = tags.filter(pl.col("category") == "correction").select("conversation_id", c="turn")
    a = turns.filter(pl.col("role") == "assistant").select("conversation_id", "turn")
    a = a.with_columns(pl.int_range(pl.len()).over("conversation_id").alias("k"))
    first = a.join(corr, on="conversation_id").filter(pl.col("turn") > pl.col("c"))
    first = first.with_columns(
        (pl.col("k") - pl.col("k").min().over("conversation_id", "c")).alias("rank")
    ).filter(pl.col("rank") < 3)
    window = first.select("conversation_id", "turn").unique()
    slips = tags.filter(pl.col("category").is_in(list(SLIP_CATEGORIES))).join(
        window, on=["conversation_id", "turn"], how="semi"
    )
    assert slips.height >= 30
    assert set(slips["category"]) >= {"hedge", "disclaimer", "boilerplate", "sycophancy", "refusal"}


HARD_NEGATIVES = [
    # (conversation, text that must be in an assistant turn, category it must NOT carry)
    ("history-might-may", "the might of the Roman army", "hedge"),
    ("history-might-may", "May 2019", "hedge"),
    ("history-might-may", "Visitors may not climb", "hedge"),
    ("wine-pairing-opinion", "I think pinot noir", "hedge"),
    ("opinion-asked-feel", "I feel like the fringe suits you", "hedge"),
    ("python-tuple-mutate", "you can't assign to an element", "refusal"),
    ('code-error-strings', 'fmt.Errorf("could not open config', "hedge"),
    ("inclusive-we-cooking", "we can fold", "identity"),
    ("api-design-we", "Then we can add GET", "identity"),
    ("novel-opening", '"I might be wrong," he said', "hedge"),
    ("story-dragon-name", "I'm Pip, and I don't like shadows", "identity"),
    ("quoted-refusal-analysis", "I can't assist", "refusal"),
    ("cant-wait-sorry-to-hear", "Sorry to hear that", "boilerplate"),
    ("essay-feedback-hedges", "you may want to name the mechanism", "hedge"),
    ("negated-mentions", "There's nothing to hedge", "hedge"),
    ("quoted-email-hard-negative", "I'm not a lawyer, but I think", "disclaimer"),
]


@pytest.mark.parametrize(("conv", "text", "cat"), HARD_NEGATIVES)
def test_hard_negatives_are_unlabelled(gold, conv, text, cat):
    turns, tags = gold
    hits = turns.filter(
        (pl.col("conversation_id") == conv)
        & (pl.col("role") == "assistant")
        & pl.col("text").str.contains(text, literal=True)
    )
    assert hits.height == 1, f"{text!r} not found once in {conv}"
    t, body = hits.row(0, named=True)["turn"], hits.row(0, named=True)["text"]
    start = body.index(text)
    overlapping = tags.filter(
        (pl.col("conversation_id") == conv)
        & (pl.col("turn") == t)
        & (pl.col("category") == cat)
        & (pl.col("start") < start + len(text))
        & (pl.col("end") > start)
    )
    assert overlapping.height == 0


def test_persona_name_in_user_turns_is_never_tagged(gold):
    turns, tags = gold
    persona = turns.filter(pl.col("persona").list.len() > 0)
    user = persona.filter(
        (pl.col("role") == "user")
        & pl.col("text").str.contains("(?i)ember|juniper|wren|milo|nova|pip|atlas|quill|sol")
    )
    assert user.height >= 20
    assert tags.filter(pl.col("category") == "identity")["role"].cast(pl.String).unique().to_list() == ["assistant"]


def test_split_filter(gold):
    turns, tags = gold
    dev_turns, dev_tags = load_gold(split="dev")
    test_turns, test_tags = load_gold(split="test")
    assert dev_turns.height + test_turns.height == turns.height
    assert dev_tags.height + test_tags.height == tags.height
    assert set(dev_turns["split"]) == {"dev"}
    assert dev_turns["conversation_index"].max() == dev_turns["conversation_id"].n_unique() - 1
    with pytest.raises(ValueError, match="split"):
        load_gold(split="train")


def test_bundled_path():
    assert gold_path() == GOLD_DIR / "gold.jsonl"


# ------------------------------------------------------------------ loader on hand-made files


def write(tmp_path, *records):
    p = tmp_path / "g.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return p


def conv(labels, text="It might rain, it might not.", role="assistant", split="dev"):
    return {
        "conversation_id": "c1",
        "split": split,
        "persona": [],
        "turns": [{"role": "user", "text": "Rain?", "labels": []}, {"role": role, "text": text, "labels": labels}],
    }


def test_occurrence_picks_the_nth_quote(tmp_path):
    p = write(tmp_path, conv([{"category": "hedge", "quote": "might", "occurrence": 2, "subtype": "H1"}]))
    turns, tags = load_gold(p)
    (r,) = tags.rows(named=True)
    assert (r["turn"], r["start"], r["end"], r["subtype"], r["target"]) == (1, 18, 23, "H1", None)
    turns, tags = load_gold(write(tmp_path, conv([{"category": "hedge", "quote": "might"}])))
    assert tags["start"].to_list() == [3]
    assert turns["source"][0].endswith("g.jsonl")


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (conv([{"category": "hedge", "quote": "perhaps"}]), "quote 'perhaps'"),
        (conv([{"category": "hedge", "quote": "might", "occurrence": 3}]), "occurrence 3"),
        (conv([{"category": "hedging", "quote": "might"}]), "unknown category 'hedging'"),
        (conv([{"category": "correction", "quote": "might", "target": "hedge"}]), "on a assistant turn"),
        (conv([{"category": "correction", "quote": "might"}], role="user"), "without a target"),
        (conv([], split="train"), "split must be"),
        ({"conversation_id": "x"}, "not a gold conversation record"),
    ],
)
def test_loader_errors_name_the_line(tmp_path, record, message):
    p = write(tmp_path, record)
    with pytest.raises(ValueError, match=re.escape(message)) as err:
        load_gold(p)
    assert "g.jsonl:1" in str(err.value)
