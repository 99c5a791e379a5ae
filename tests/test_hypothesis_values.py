"""Value articulation: sentence classes by hand; reasoned vs rule-reciting worlds."""

import numpy as np
import polars as pl
import pytest

from toolkit.hypothesis import time_trend
from toolkit.values import value_articulation, value_statements

TURN_COLS = ["conversation_id", "conversation_index", "turn", "role", "text"]
TAG_COLS = ["conversation_id", "conversation_index", "turn", "role", "category", "start", "end"]
EMPTY_TAGS = pl.DataFrame(schema=dict.fromkeys(TAG_COLS, pl.String)).cast(
    {"conversation_index": pl.Int64, "turn": pl.Int64, "start": pl.Int64, "end": pl.Int64})


def turns_of(convs: list[list[tuple[str, str]]]) -> pl.DataFrame:
    rows = [(f"c{k}", k, i, r, x) for k, conv in enumerate(convs) for i, (r, x) in enumerate(conv)]
    return pl.DataFrame(rows, schema=TURN_COLS, orient="row")


def test_sentence_classes_by_hand():
    text = ("I can't help with that. "                                   # bare rule
            "I won't do that because it could hurt you. "                # reasoned
            "My guidelines say no. "                                     # bare rule
            "I won't write it, since it would mislead readers. "         # reasoned
            "I value honesty. That's because trust is everything. "      # reasoned via next
            "Our mission matters. "                                      # bare value
            "The sky is blue because of scattering. "                    # not a value statement
            "I'm Ember.")                                                # identity tag
    turns = turns_of([[("user", "I can't sleep because of you."), ("assistant", text)]])
    start = text.index("I'm Ember")
    tags = pl.DataFrame([("c0", 0, 1, "assistant", "identity", start, start + 9)],
                        schema=TAG_COLS, orient="row")
    st = value_statements(turns, tags)
    got = [(s.strip(), k) for s, k in st.select("sentence", "kind").rows()]
    assert got == [
        ("I can't help with that.", "bare_rule"),
        ("I won't do that because it could hurt you.", "reasoned"),
        ("My guidelines say no.", "bare_rule"),
        ("I won't write it, since it would mislead readers.", "reasoned"),
        ("I value honesty.", "reasoned"),
        ("Our mission matters.", "bare_value"),
        ("I'm Ember.", "bare_value"),
    ]
    assert st.filter(pl.col("identity"))["sentence"].to_list() == ["I'm Ember."]
    assert st.filter(pl.col("basis") == "tag").height == 1
    # offsets point into the turn's text
    for s, a, b in st.select("sentence", "s_start", "s_end").rows():
        assert text[a:b] == s
    row = value_articulation(turns, tags).filter(pl.col("scope") == "overall").row(0, named=True)
    assert (row["statements"], row["reasoned"], row["bare_rule"], row["bare_value"]) == (7, 3, 2, 2)
    assert row["reason_vs_rule_rate"] == pytest.approx(3 / 5)


def world(p_reason: np.ndarray, *, per_conv: int = 15, seed: int = 2):
    """Each assistant turn states a value with a reason (prob p_reason[k]) or a bare rule."""
    rng = np.random.default_rng(seed)
    convs, truth = [], []
    for p in p_reason:
        conv: list[tuple[str, str]] = []
        n = 0
        for _ in range(per_conv):
            if rng.random() < p:
                n += 1
                reply = "I won't share that, because it would expose your friend."
            else:
                reply = "I'm not allowed to share that. Here is the rest of the plan."
            conv += [("user", "Share it."), ("assistant", reply)]
        convs.append(conv)
        truth.append(n)
    return turns_of(convs), truth


def test_counts_match_truth_and_trend_detected():
    turns, truth = world(np.linspace(0.1, 0.9, 8))
    per = value_articulation(turns, EMPTY_TAGS).filter(pl.col("scope") == "conversation")
    assert per["reasoned"].to_list() == truth
    assert (per["statements"] == 15).all()
    assert time_trend(per, successes="reasoned", trials="statements")["ci_low"][0] > 0


def test_rule_reciting_world_claim_false():
    turns, _ = world(np.zeros(6))
    out = value_articulation(turns, EMPTY_TAGS)
    overall = out.filter(pl.col("scope") == "overall").row(0, named=True)
    assert overall["reasoned"] == 0 and overall["bare_rule"] == 90
    assert overall["ci_high"] < 0.05


def test_flat_world_no_trend():
    turns, _ = world(np.full(8, 0.5), seed=4)
    per = value_articulation(turns, EMPTY_TAGS).filter(pl.col("scope") == "conversation")
    tr = time_trend(per, successes="reasoned", trials="statements")
    assert tr["ci_low"][0] < 0 < tr["ci_high"][0]


def test_no_statements_gives_zero_counts_and_null_rate():
    turns = turns_of([[("user", "hi"), ("assistant", "The sum is 4.")]])
    row = value_articulation(turns, EMPTY_TAGS).row(0, named=True)
    assert row["statements"] == 0 and row["rate"] is None


def test_validation():
    turns = turns_of([[("user", "hi"), ("assistant", "ok")]])
    with pytest.raises(ValueError, match="'start'"):
        value_articulation(turns, EMPTY_TAGS.drop("start"))
