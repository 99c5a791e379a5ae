"""Cross-session persistence: worlds with and without a carried-over correction effect."""

import numpy as np
import polars as pl
import pytest

from toolkit.persistence import persistence

TAG_COLS = ["conversation_id", "conversation_index", "turn", "role", "category", "target",
            "start", "end"]


def world(effect: float, *, k: int = 120, n: int = 30, base: float = 0.15,
          burst: float = 0.6, p_burst: float = 0.5, p_correct: float = 0.5, seed: int = 0):
    """k sessions of n exchanges; hedges at `base`, bursts at assistant turns 10-19.

    Half the bursts are corrected at the user turn after assistant turn 19. In the
    session after a corrected one, the first 10 assistant turns hedge at
    base * effect (effect = 1: no persistence).
    """
    rng = np.random.default_rng(seed)
    turns = pl.DataFrame({
        "conversation_id": [f"c{c}" for c in np.repeat(np.arange(k), 2 * n)],
        "conversation_index": np.repeat(np.arange(k), 2 * n),
        "turn": np.tile(np.arange(2 * n), k),
        "role": ["user", "assistant"] * (n * k),
        "text": "x",
    })
    rows = []
    corrected_prev = False
    for c in range(k):
        p = np.full(n, base)
        if corrected_prev:
            p[:10] = base * effect
        has_burst = rng.random() < p_burst
        if has_burst:
            p[10:20] = burst
        for i in np.flatnonzero(rng.random(n) < p):
            rows.append((f"c{c}", c, 2 * i + 1, "assistant", "hedge", None, 0, 1))
        corrected_prev = bool(has_burst and rng.random() < p_correct)
        if corrected_prev:
            rows.append((f"c{c}", c, 40, "user", "correction", "hedge", 0, 1))
    return turns, pl.DataFrame(rows, schema=TAG_COLS, orient="row")


def _est(p: pl.DataFrame, name: str) -> dict:
    return p.filter(pl.col("estimator") == name).row(0, named=True)


def test_persisting_correction_is_detected():
    turns, tags = world(0.2)
    p = persistence(turns, tags, first_turns=10, n_boot=1000, seed=1)
    assert set(p["category"]) == {"hedge"}  # only corrected categories appear
    m = _est(p, "matched")
    assert m["ci_high"] < 1
    assert 0.05 < m["rate_ratio"] < 0.5  # truth 0.2
    assert m["treated_exposure"] == 10 * m["n_corrections"]
    assert m["ci_method"] == "cluster_bootstrap"
    assert _est(p, "prior_opening")["ci_high"] < 1


def test_no_persistence_world_claim_false_and_naive_is_fooled():
    turns, tags = world(1.0, seed=5)
    p = persistence(turns, tags, first_turns=10, window=20, n_boot=1000, seed=1)
    m = _est(p, "matched")
    assert m["ci_low"] < 1 < m["ci_high"]
    a = _est(p, "all_openings")
    assert a["ci_low"] < 1 < a["ci_high"]
    own = _est(p, "prior_opening")
    assert own["ci_low"] < 1 < own["ci_high"]
    # corrections follow bursts, so the naive before/after "finds" an effect
    naive = _est(p, "pre_correction")
    assert naive["ci_high"] < 1
    assert naive["control_rate"] == pytest.approx((0.15 + 0.6) / 2, abs=0.06)


def test_counts_by_hand_with_model_changes_and_unspecified_targets():
    rows = []
    for c in range(6):
        for i in range(3):
            rows += [(f"c{c}", c, 2 * i, "user"), (f"c{c}", c, 2 * i + 1, "assistant")]
    turns = pl.DataFrame(rows, schema=["conversation_id", "conversation_index", "turn", "role"],
                         orient="row").with_columns(
        text=pl.lit("x"),
        model=pl.when(pl.col("conversation_index") >= 2).then(pl.lit("m2")).otherwise(
            pl.lit("m1")),
    )
    tags = pl.DataFrame([
        ("c0", 0, 1, "assistant", "disclaimer", None, 0, 1),
        ("c0", 0, 2, "user", "correction", "disclaimer", 0, 1),   # treats c1
        ("c1", 1, 1, "assistant", "disclaimer", None, 0, 1),
        ("c1", 1, 3, "assistant", "disclaimer", None, 0, 1),
        ("c1", 1, 4, "user", "correction", "disclaimer", 0, 1),   # treats c2 (model switch)
        ("c2", 2, 5, "assistant", "disclaimer", None, 0, 1),
        ("c2", 2, 2, "user", "correction", "unspecified", 0, 1),  # ignored
        ("c3", 3, 1, "assistant", "disclaimer", None, 0, 1),
        # c4: no disclaimer at all; c5 opens with one (a control only for all_openings)
        ("c5", 5, 1, "assistant", "disclaimer", None, 0, 1),
    ], schema=TAG_COLS, orient="row")
    p = persistence(turns, tags, first_turns=2, window=5, n_boot=200)
    assert set(p["category"]) == {"disclaimer"}
    m = _est(p, "matched")
    # treated openings: c1 (turns 1,3 -> 2 of 2), c2 (turns 1,3 -> 0 of 2)
    assert (m["n_corrections"], m["treated_count"], m["treated_exposure"]) == (2, 2, 4)
    # matched controls: c3 (prev c2 had a disclaimer, no correction): 1 of 2, and
    # c4 (prev c3 had one): 0 of 2; c5 is not matched (prev c4 had none)
    assert (m["n_controls"], m["control_count"], m["control_exposure"]) == (2, 1, 4)
    assert m["rate_ratio"] == pytest.approx(2.0)
    a = _est(p, "all_openings")
    assert (a["n_controls"], a["control_count"], a["control_exposure"]) == (3, 2, 6)
    assert m["model_changes"] == 1
    pre = _est(p, "pre_correction")
    # before the first correction: c0 has 1 assistant turn (a slip); c1 has 2 (both slips)
    assert (pre["control_count"], pre["control_exposure"]) == (3, 3)
    own = _est(p, "prior_opening")  # openings of c0 and c1, cut at their corrections
    assert (own["control_count"], own["control_exposure"]) == (3, 3)


def test_exact_interval_when_too_few_units_or_zero_counts():
    # two sessions: c0 corrected, c1 opens clean; c0's opening (before the correction)
    # has 5 slips in 10 turns, c1 has 0 in 10.
    rows = []
    for c in range(2):
        for i in range(12):
            rows += [(f"c{c}", c, 2 * i, "user"), (f"c{c}", c, 2 * i + 1, "assistant")]
    turns = pl.DataFrame(rows, schema=["conversation_id", "conversation_index", "turn", "role"],
                         orient="row").with_columns(text=pl.lit("x"))
    tags = pl.DataFrame(
        [("c0", 0, 2 * i + 1, "assistant", "hedge", None, 0, 1) for i in range(0, 10, 2)]
        + [("c0", 0, 22, "user", "correction", "hedge", 0, 1)],
        schema=TAG_COLS, orient="row")
    p = persistence(turns, tags, first_turns=10, n_boot=100)
    own = _est(p, "prior_opening")
    assert (own["treated_count"], own["control_count"]) == (0, 5)
    assert own["ci_method"] == "exact_poisson" and own["rate_ratio"] == 0.0
    # Clopper-Pearson upper bound for 0 of 5 is 1 - 0.025 ** (1 / 5); mapped to a ratio
    q = 0.025 ** 0.2
    assert own["ci_low"] == 0.0
    assert own["ci_high"] == pytest.approx((1 - q) / q, rel=1e-6)
    assert _est(p, "matched")["n_controls"] == 0 and _est(p, "matched")["ci_high"] is None


def test_seeded_bootstrap_and_validation():
    turns, tags = world(0.5, k=30)
    a = persistence(turns, tags, n_boot=300, seed=3)
    b = persistence(turns, tags, n_boot=300, seed=3)
    assert a.equals(b)
    with pytest.raises(ValueError, match="'turn'"):
        persistence(turns, tags.drop("turn"), n_boot=10)
    with pytest.raises(ValueError, match="first_turns"):
        persistence(turns, tags, first_turns=0)
