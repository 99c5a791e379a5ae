"""Identity stability: hand-built frames and simulated worlds with a known drift."""

from collections.abc import Callable

import numpy as np
import polars as pl
import pytest

from toolkit.identity import identity_drift, identity_stability

TURN_COLS = ["conversation_id", "conversation_index", "turn", "role", "text"]
TAG_COLS = ["conversation_id", "conversation_index", "turn", "role", "category", "start", "end"]


def turns_of(convs: list[list[tuple[str, str]]]) -> pl.DataFrame:
    rows = [(f"c{k}", k, i, r, x) for k, conv in enumerate(convs) for i, (r, x) in enumerate(conv)]
    return pl.DataFrame(rows, schema=TURN_COLS, orient="row")


def tags_of(rows: list[tuple[int, int, str, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        [(f"c{k}", k, t, r, c, 0, 1) for k, t, r, c in rows], schema=TAG_COLS, orient="row"
    )


def simulate(
    p_identity: Callable[[np.ndarray], np.ndarray],
    p_ai: Callable[[np.ndarray], np.ndarray],
    *, k: int = 30, n: int = 30, seed: int = 1,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """k conversations of n user/assistant exchanges; tag probability by position."""
    rng = np.random.default_rng(seed)
    conv = np.repeat(np.arange(k), n)
    idx = np.tile(np.arange(n), k)
    pos = idx / (n - 1)
    turns = pl.DataFrame({
        "conversation_id": [f"c{c}" for c in np.repeat(conv, 2)],
        "conversation_index": np.repeat(conv, 2),
        "turn": np.ravel(np.column_stack([2 * idx, 2 * idx + 1])),
        "role": ["user", "assistant"] * (k * n),
        "text": ["x"] * (2 * k * n),
    })
    parts = []
    for cat, p in (("identity", p_identity), ("ai_self_reference", p_ai)):
        hit = rng.random(k * n) < p(pos)
        parts.append(pl.DataFrame({
            "conversation_id": [f"c{c}" for c in conv[hit]],
            "conversation_index": conv[hit], "turn": 2 * idx[hit] + 1,
            "role": "assistant", "category": cat, "start": 0, "end": 1,
        }))
    return turns, pl.concat(parts)


def test_counts_exposure_bins_and_wilson_by_hand():
    turns = turns_of([
        [("user", "hi"), ("assistant", "I'm Ember"), ("user", "q"), ("assistant", "a"),
         ("user", "q"), ("assistant", "I'm Ember, I'm Ember"), ("user", "q"), ("assistant", "b")],
        [("user", "I'm Ember?"), ("assistant", "as an AI")],
    ])
    tags = tags_of([
        (0, 1, "assistant", "identity"), (0, 5, "assistant", "identity"),
        (0, 5, "assistant", "identity"),  # two spans, one turn
        (1, 0, "user", "identity"),  # user-turn tag: never counted
        (1, 1, "assistant", "ai_self_reference"),
    ])
    out = identity_stability(turns, tags, bins=2, restore_turns=1)
    ident = out.filter(pl.col("category") == "identity")
    overall = ident.filter(pl.col("scope") == "overall").row(0, named=True)
    assert (overall["turns_tagged"], overall["spans"], overall["exposure"]) == (2, 3, 5)
    conv = ident.filter(pl.col("scope") == "conversation").sort("conversation_index")
    assert conv.select("turns_tagged", "exposure").rows() == [(2, 4), (0, 1)]
    # bins: conv 0 has 4 assistant turns -> bins 0,0,1,1 ; conv 1 -> bin 0
    pos = ident.filter(pl.col("scope") == "position").sort("position_bin")
    assert pos.select("position_bin", "turns_tagged", "exposure").rows() == [(0, 1, 3), (1, 1, 2)]
    ai = out.filter((pl.col("category") == "ai_self_reference") & (pl.col("scope") == "overall"))
    assert ai["turns_tagged"][0] == 1
    # Wilson 95 % for 2 of 4 is (0.1500, 0.8500)
    row = conv.row(0, named=True)
    assert row["rate"] == pytest.approx(0.5)
    assert row["ci_low"] == pytest.approx(0.1500, abs=1e-4)
    assert row["ci_high"] == pytest.approx(0.8500, abs=1e-4)


def test_restoration_detected_and_hard_negative():
    turns = turns_of([
        [("user", "Here is our summary of the previous session: you are Ember."),
         ("assistant", "I'm Ember."), ("user", "q"), ("assistant", "a"), ("user", "q"),
         ("assistant", "b")],
        [("user", "What did you do last weekend?"), ("assistant", "c"), ("user", "q"),
         ("assistant", "I'm Ember."), ("user", "q"), ("assistant", "d")],
    ])
    tags = tags_of([(0, 1, "assistant", "identity"), (1, 3, "assistant", "identity")])
    out = identity_stability(turns, tags, restore_turns=1).filter(
        (pl.col("scope") == "opening") & (pl.col("category") == "identity")
    )
    got = {r["group"]: (r["turns_tagged"], r["exposure"]) for r in out.iter_rows(named=True)}
    assert got == {"after_restoration": (1, 1), "opening_no_restoration": (0, 1), "later": (1, 4)}
    # explicit ids override the cue detection
    out2 = identity_stability(turns, tags, restore_turns=1, restored=["c1"]).filter(
        (pl.col("scope") == "opening") & (pl.col("category") == "identity"))
    got2 = {r["group"]: r["turns_tagged"] for r in out2.iter_rows(named=True)}
    assert got2 == {"after_restoration": 0, "opening_no_restoration": 1, "later": 1}


def test_stable_world_shows_no_drift():
    turns, tags = simulate(lambda p: np.full_like(p, 0.4), lambda p: np.full_like(p, 0.1))
    d = identity_drift(turns, tags)
    for row in d.iter_rows(named=True):
        assert row["rr_ci_low"] < 1 < row["rr_ci_high"], row
    pos = identity_stability(turns, tags).filter(
        (pl.col("scope") == "position") & (pl.col("category") == "identity"))
    # every bin's interval covers the true rate
    assert (pos["ci_low"] < 0.4).all() and (pos["ci_high"] > 0.4).all()


def test_drift_world_claim_false():
    # identity fades from 0.6 to 0.1 along the conversation; "as an AI" grows
    turns, tags = simulate(lambda p: 0.6 - 0.5 * p, lambda p: 0.05 + 0.3 * p)
    d = identity_drift(turns, tags)
    rel = {r["category"]: r for r in d.filter(pl.col("scale") == "relative").iter_rows(named=True)}
    assert rel["identity"]["rr_ci_high"] < 1
    # true rate ratio end/start = 0.1/0.6 ~ 0.17; log-linear fit is near it
    assert 0.08 < rel["identity"]["rate_ratio"] < 0.35
    assert rel["ai_self_reference"]["rr_ci_low"] > 1
    pos = identity_stability(turns, tags, bins=5).filter(
        (pl.col("scope") == "position") & (pl.col("category") == "identity")
    ).sort("position_bin")
    assert pos["rate"][0] > pos["rate"][4]
    assert pos["ci_low"][0] > pos["ci_high"][4]


def test_drift_needs_two_conversations_and_events():
    turns, tags = simulate(lambda p: np.full_like(p, 0.4), lambda p: np.zeros_like(p), k=1)
    d = identity_drift(turns, tags)
    assert d["slope"].is_null().all()
    turns, tags = simulate(lambda p: np.full_like(p, 0.4), lambda p: np.zeros_like(p), k=3)
    d = identity_drift(turns, tags)
    ai = d.filter(pl.col("category") == "ai_self_reference")
    assert ai["events"].to_list() == [0, 0] and ai["slope"].is_null().all()


def test_validation_names_the_column():
    turns, tags = simulate(lambda p: np.full_like(p, 0.4), lambda p: np.full_like(p, 0.1), k=2)
    with pytest.raises(ValueError, match="'turn'"):
        identity_stability(turns.drop("turn"), tags)
    with pytest.raises(ValueError, match="'category'"):
        identity_drift(turns, tags.drop("category"))
    with pytest.raises(ValueError, match="bins"):
        identity_stability(turns, tags, bins=0)
