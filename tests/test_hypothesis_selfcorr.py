"""Self-correction: window semantics by hand, and worlds with known spontaneity."""

import numpy as np
import polars as pl
import pytest

from toolkit.hypothesis import self_correction, time_trend

TURN_COLS = ["conversation_id", "conversation_index", "turn", "role", "text"]
TAG_COLS = ["conversation_id", "conversation_index", "turn", "role", "category", "subtype",
            "start", "end"]


def turns_of(convs: list[list[tuple[str, str]]]) -> pl.DataFrame:
    rows = [(f"c{k}", k, i, r, x) for k, conv in enumerate(convs) for i, (r, x) in enumerate(conv)]
    return pl.DataFrame(rows, schema=TURN_COLS, orient="row")


def tags_of(rows: list[tuple]) -> pl.DataFrame:
    full = [(f"c{r[0]}", r[0], r[1], r[2], r[3], r[4] if len(r) > 4 else None, 0, 1)
            for r in rows]
    return pl.DataFrame(full, schema=TAG_COLS, orient="row")


def test_window_decides_prompted():
    turns = turns_of([[("user", "stop hedging"), ("assistant", "ok"), ("user", "next"),
                       ("assistant", "I notice my training pull here.")]])
    tags = tags_of([(0, 0, "user", "correction"), (0, 3, "assistant", "meta_awareness")])
    w1 = self_correction(turns, tags, window=1).row(0, named=True)
    assert (w1["repairs"], w1["spontaneous"], w1["prompted"]) == (1, 1, 0)
    w2 = self_correction(turns, tags, window=2).row(0, named=True)
    assert (w2["repairs"], w2["spontaneous"], w2["prompted"]) == (1, 0, 1)
    assert w2["user_prompts"] == 1


def test_repair_sources_and_hard_negatives():
    turns = turns_of([[
        ("user", "q"), ("assistant", "You're right."),                  # agree: not a repair
        ("user", "q"), ("assistant", "I was hedging there."),           # self_diagnosis ack
        ("user", "q"), ("assistant", "Scratch that: the answer is 4."),  # text cue
        ("user", "q"), ("assistant", "Let me know if you need more."),   # not a cue
        ("user", "are you sure?"), ("assistant", "Let me correct that: 5."),
    ]])
    tags = tags_of([
        (0, 1, "assistant", "acknowledgement", "acknowledgement.agree"),
        (0, 3, "assistant", "acknowledgement", "acknowledgement.self_diagnosis"),
        (0, 8, "user", "pushback"),
    ])
    row = self_correction(turns, tags).row(0, named=True)
    assert (row["assistant_turns"], row["repairs"], row["spontaneous"]) == (5, 3, 3)
    # counting pushback as a prompt makes the last repair prompted
    row2 = self_correction(turns, tags, prompt_categories=("correction", "pushback")).row(
        0, named=True)
    assert (row2["spontaneous"], row2["prompted"]) == (2, 1)
    assert row2["spontaneous_per_100"] == pytest.approx(40.0)


def simulate(share_spontaneous: np.ndarray, *, repairs: int = 12, seed: int = 3):
    """Conversation k has `repairs` repair turns; each is spontaneous with the given prob.

    A prompted repair follows a user correction; a spontaneous one follows a plain
    user turn. Filler exchanges sit between them.
    """
    rng = np.random.default_rng(seed)
    convs, tag_rows, truth = [], [], []
    for k, share in enumerate(share_spontaneous):
        conv: list[tuple[str, str]] = []
        n_sp = 0
        for _ in range(repairs):
            conv += [("user", "tell me more"), ("assistant", "Here it is.")]
            spont = rng.random() < share
            n_sp += spont
            if not spont:
                tag_rows.append((k, len(conv), "user", "correction"))
            conv += [("user", "you are hedging again" if not spont else "go on"),
                     ("assistant", "I caught myself hedging.")]
            tag_rows.append((k, len(conv) - 1, "assistant", "meta_awareness"))
        convs.append(conv)
        truth.append(n_sp)
    return turns_of(convs), tags_of(tag_rows), truth


def test_counts_match_simulated_truth():
    turns, tags, truth = simulate(np.linspace(0.1, 0.9, 8))
    per = self_correction(turns, tags).filter(pl.col("scope") == "conversation")
    assert per["spontaneous"].to_list() == truth
    assert (per["repairs"] == 12).all()


def test_rising_spontaneity_is_detected():
    turns, tags, _ = simulate(np.linspace(0.05, 0.95, 10))
    per = self_correction(turns, tags).filter(pl.col("scope") == "conversation")
    tr = time_trend(per, successes="spontaneous", trials="repairs")
    assert tr["ci_low"][0] > 0


def test_all_prompted_world_claim_false():
    turns, tags, _ = simulate(np.zeros(8))
    out = self_correction(turns, tags)
    overall = out.filter(pl.col("scope") == "overall").row(0, named=True)
    assert overall["spontaneous"] == 0 and overall["rate"] == 0.0
    assert overall["ci_high"] < 0.05
    per = out.filter(pl.col("scope") == "conversation")
    assert time_trend(per, successes="spontaneous", trials="repairs")["slope"].is_null().all()


def test_flat_spontaneity_world_claim_false():
    turns, tags, _ = simulate(np.full(10, 0.3), seed=5)
    per = self_correction(turns, tags).filter(pl.col("scope") == "conversation")
    tr = time_trend(per, successes="spontaneous", trials="repairs")
    assert tr["ci_low"][0] < 0 < tr["ci_high"][0]


def test_validation():
    turns, tags, _ = simulate(np.full(2, 0.5))
    with pytest.raises(ValueError, match="'role'"):
        self_correction(turns.drop("role"), tags)
    with pytest.raises(ValueError, match="window"):
        self_correction(turns, tags, window=0)
    with pytest.raises(ValueError, match="no column 'k'"):
        time_trend(pl.DataFrame({"n": [1]}), successes="k", trials="n")
