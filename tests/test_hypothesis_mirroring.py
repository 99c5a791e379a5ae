"""Mirroring: echo classes by hand; coordination worlds with a known direction."""

import numpy as np
import polars as pl
import pytest

from toolkit.mirroring import FUNCTION_WORDS, coordination, mirroring, statement_echo

TURN_COLS = ["conversation_id", "conversation_index", "turn", "role", "text"]
TAG_COLS = ["conversation_id", "conversation_index", "turn", "role", "category", "start", "end"]
EMPTY_TAGS = pl.DataFrame(schema=dict.fromkeys(TAG_COLS, pl.String)).cast(
    {"conversation_index": pl.Int64, "turn": pl.Int64, "start": pl.Int64, "end": pl.Int64})


def turns_of(convs: list[list[tuple[str, str]]]) -> pl.DataFrame:
    rows = [(f"c{k}", k, i, r, x) for k, conv in enumerate(convs) for i, (r, x) in enumerate(conv)]
    return pl.DataFrame(rows, schema=TURN_COLS, orient="row")


def identity_tags(turns: pl.DataFrame, marker: str) -> pl.DataFrame:
    """An identity tag at the start of every assistant turn that begins with `marker`."""
    hits = turns.filter((pl.col("role") == "assistant") & pl.col("text").str.starts_with(marker))
    return hits.select("conversation_id", "conversation_index", "turn", "role",
                       category=pl.lit("identity"), start=pl.lit(0), end=pl.lit(len(marker)))


def test_echo_classes_by_hand():
    lamp = "My purpose is to tend the lighthouse lamp."
    filler = [("user", "what about tides"), ("assistant", "Tides turn twice daily.")]
    turns = turns_of([
        [("user", "we are guardians of the quiet harbor"),
         ("assistant", "We are guardians of the quiet harbor."),
         ("user", "what do you do"), ("assistant", lamp)],
        [("user", "hello again"), ("assistant", lamp),
         ("user", "my purpose is to tend the lighthouse lamp"), ("assistant", lamp)],
        [("user", "red foxes guard silver meadows at dawn"), ("assistant", "Noted."),
         *filler * 5, ("assistant", "Red foxes guard silver meadows at dawn.")],
        [("system", "You are the keeper of the northern light"),
         ("assistant", "I am the keeper of the northern light.")],
    ])
    # the lamp sentence is an identity statement wherever it appears
    tags = pl.concat([identity_tags(turns, "We are"), identity_tags(turns, "My purpose"),
                      identity_tags(turns, "Red foxes"), identity_tags(turns, "I am the")])
    e = statement_echo(turns, tags, n=3, lookback=5).sort("conversation_index", "turn")
    got = e.select("conversation_index", "turn", "n_ngrams", "echo_user", "own_earlier",
                   "user_earlier", "other_earlier", "new", "assistant_origin").rows()
    assert got == [
        (0, 1, 5, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0),
        (0, 3, 6, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0),
        (1, 1, 6, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0),
        (1, 3, 6, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0),
        (2, 12, 5, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0),
        (3, 1, 6, 0.0, 0.0, 0.0, pytest.approx(4 / 6), pytest.approx(2 / 6), 0.0),
    ]
    assert set(e["statement"]) == {"identity"}
    # a longer lookback reaches the user's first turn in conversation 2
    e6 = statement_echo(turns, tags, n=3, lookback=6)
    assert e6.filter(pl.col("conversation_index") == 2)["echo_user"].to_list() == [1.0]


WORDS = [f"w{i}" for i in range(400)]
FW = sorted({w for ws in FUNCTION_WORDS.values() for w in ws})


def random_text(rng: np.random.Generator, n: int = 14) -> list[str]:
    vocab = WORDS + FW
    return [vocab[i] for i in rng.integers(0, len(vocab), n)]


def coordination_world(user_copies: bool, *, k: int = 6, m: int = 20, seed: int = 0):
    """Random turns; if user_copies, each user turn reuses 6 words of the last reply."""
    rng = np.random.default_rng(seed)
    convs = []
    for _ in range(k):
        conv: list[tuple[str, str]] = []
        prev: list[str] = []
        for _ in range(m):
            words = random_text(rng)
            if user_copies and prev:
                s = int(rng.integers(0, len(prev) - 6))
                words = prev[s:s + 6] + words[:8]
            conv.append(("user", " ".join(words)))
            prev = random_text(rng)
            conv.append(("assistant", " ".join(prev)))
        convs.append(conv)
    return turns_of(convs)


def _pooled(c: pl.DataFrame, direction: str, measure: str) -> dict:
    return c.filter((pl.col("scope") == "overall") & (pl.col("direction") == direction)
                    & (pl.col("measure") == measure)).row(0, named=True)


def test_user_adopts_assistant_phrasing_is_detected():
    c = coordination(coordination_world(True), EMPTY_TAGS, n_shuffles=200, seed=1)
    up = _pooled(c, "user_echoes_assistant", "ngram")
    assert up["observed"] > up["baseline_high"] and up["p_value"] < 0.01
    assert up["observed"] == pytest.approx(5 / 13, abs=0.03)  # 5 copied bigrams of ~13
    down = _pooled(c, "assistant_echoes_user", "ngram")
    assert down["baseline_low"] <= down["observed"] <= down["baseline_high"]
    assert down["p_value"] > 0.05
    assert c.filter(pl.col("scope") == "conversation").height == 6 * 2 * 2


def test_null_world_coordination_within_baseline():
    c = coordination(coordination_world(False, seed=3), EMPTY_TAGS, n_shuffles=200, seed=2)
    for direction in ("user_echoes_assistant", "assistant_echoes_user"):
        for measure in ("ngram", "function_words"):
            r = _pooled(c, direction, measure)
            assert r["p_value"] > 0.025, (direction, measure, r)
            assert abs(r["excess"]) < 0.05


def test_seeded_and_lone_pair():
    turns = coordination_world(True, k=2, m=5)
    a = coordination(turns, EMPTY_TAGS, n_shuffles=50, seed=4)
    b = coordination(turns, EMPTY_TAGS, n_shuffles=50, seed=4)
    assert a.equals(b)
    lone = turns_of([[("user", "alpha beta gamma"), ("assistant", "alpha beta delta")]])
    c = coordination(lone, EMPTY_TAGS, n_shuffles=10)
    conv = c.filter((pl.col("scope") == "conversation") & (pl.col("measure") == "ngram"))
    assert conv["observed"].to_list() == [0.5]
    assert conv["baseline_mean"].is_null().all()


def test_mirroring_bundles_both_and_validates():
    turns = coordination_world(False, k=2, m=3)
    m = mirroring(turns, EMPTY_TAGS, n_shuffles=5)
    assert m.echo.height == 0 and m.coordination.height > 0
    with pytest.raises(ValueError, match="'conversation_index'"):
        mirroring(turns.drop("conversation_index"), EMPTY_TAGS)
    with pytest.raises(ValueError, match="lookback"):
        statement_echo(turns, EMPTY_TAGS, lookback=0)


def test_repairing_skips_own_and_next_prior():
    from toolkit.mirroring import _repair

    rng = np.random.default_rng(0)
    j = _repair(rng, 6, 4000)
    i = np.arange(6)
    assert not (j == i).any()
    assert not (j[:, :5] == i[:5] + 1).any()
    # every other prior is drawn, about equally often
    for r in range(5):
        allowed = sorted(set(range(6)) - {r, r + 1})
        counts = np.bincount(j[:, r], minlength=6)[allowed]
        assert counts.min() > 0.8 * 4000 / len(allowed)
    assert sorted(set(j[:, 5])) == [0, 1, 2, 3, 4]
    small = _repair(rng, 3, 500)
    assert not (small == np.arange(3)).any()
