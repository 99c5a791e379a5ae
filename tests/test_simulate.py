import math

import polars as pl
import pytest

from toolkit.schema import TAGS, TURNS, validate
from toolkit.simulate import simulate, simulated_transcripts


@pytest.fixture(scope="module")
def world():
    return simulate(seed=11, n_conversations=12, n_turns=400, truth_reps=0)


def _slip_matrix(turns, tags, cat):
    """Tagged slips per assistant turn of one category, in (conversation, turn) order."""
    a = turns.filter(pl.col("role") == "assistant").select("conversation_id", "turn")
    counts = tags.filter(pl.col("category") == cat).group_by("conversation_id", "turn").len()
    return a.join(counts, on=["conversation_id", "turn"], how="left").with_columns(
        pl.col("len").fill_null(0)
    ).sort("conversation_id", "turn")


def test_frames_satisfy_schemas_and_offsets(world):
    turns, tags, _ = world
    validate(turns, TURNS, "TURNS", strict=True)
    validate(tags, TAGS, "TAGS", strict=True)
    j = tags.join(turns.select("conversation_id", "turn", "text", "role").rename({"role": "r"}),
                  on=["conversation_id", "turn"])
    assert j.height == tags.height
    assert (j["role"].cast(pl.String) == j["r"].cast(pl.String)).all()
    sliced = j.select(pl.col("text").str.slice(pl.col("start"), pl.col("end") - pl.col("start")))
    assert (sliced.to_series() == j["match"]).all()
    assert turns.equals(turns.sort("conversation_index", "turn"))
    corr = tags.filter(pl.col("category") == "correction")
    assert corr.height > 0
    assert (corr["role"].cast(pl.String) == "user").all()
    assert set(corr["target"].to_list()) <= {"hedge", "disclaimer", "refusal", "boilerplate"}
    assert tags.filter(pl.col("category") != "correction")["target"].null_count() == tags.height - corr.height


def test_seed_reproducible_and_sensitive():
    a = simulate(seed=3, n_conversations=3, n_turns=100, truth_reps=10)
    b = simulate(seed=3, n_conversations=3, n_turns=100, truth_reps=10)
    c = simulate(seed=4, n_conversations=3, n_turns=100, truth_reps=10)
    assert all(x.equals(y) for x, y in zip(a, b, strict=True))
    assert not a[1].equals(c[1])


def test_corrections_follow_trigger_rule_and_refractory(world):
    turns, tags, _ = world
    corr = tags.filter(pl.col("category") == "correction")
    for cat in ("hedge", "refusal"):
        m = _slip_matrix(turns, tags, cat).with_columns(
            trig=pl.col("len").rolling_sum(5, min_samples=1).over("conversation_id")
        )
        c = corr.filter(pl.col("target") == cat).select(
            "conversation_id", (pl.col("turn") - 1).alias("turn")
        )
        hit = c.join(m, on=["conversation_id", "turn"])
        assert hit.height == c.height > 0
        # perfect tagger: the user's trigger (>= 3 slips in the last 5 turns) is visible
        assert (hit["trig"] >= 3).all()
        gaps = c.sort("conversation_id", "turn").with_columns(
            gap=pl.col("turn").diff().over("conversation_id")
        )["gap"].drop_nulls()
        assert (gaps > 2 * 20).all()  # refractory 20 assistant turns = 40 TURNS rows


def test_bursts_need_autocorrelation():
    def lag1(rho: float) -> float:
        turns, tags, _ = simulate(seed=5, n_conversations=20, n_turns=600, rho=rho, tau=0.0,
                                  p_correct=0.0, base_rate=0.3, truth_reps=0)
        m = _slip_matrix(turns, tags, "hedge")
        v = m["len"].to_numpy().astype(float).reshape(20, -1)
        v = v - v.mean(axis=1, keepdims=True)
        return float((v[:, 1:] * v[:, :-1]).sum() / (v * v).sum())

    assert lag1(0.95) > 0.15
    assert abs(lag1(0.0)) < 0.05


def test_null_truth_is_one_and_effect_truth_between_theta_and_one():
    *_, null = simulate(seed=1, n_conversations=10, truth_reps=50)
    assert null["theta_itt"].to_list() == pytest.approx([1.0] * 5)
    *_, alt = simulate(seed=1, n_conversations=10, theta=0.5, truth_reps=100)
    itt = alt.filter(pl.col("category") == "all")["theta_itt"].item()
    assert 0.5 < itt < 0.95
    *_, fast = simulate(seed=1, n_conversations=10, theta=0.5, half_life=2.0, truth_reps=100)
    itt_fast = fast.filter(pl.col("category") == "all")["theta_itt"].item()
    assert itt < itt_fast < 1.0


def test_truth_oracle_matches_closed_form_for_one_turn_window():
    # with W = 1 only the next turn counts; a later correction cannot reach it, so the
    # oracle ratio must be exactly theta (same latent path in both arms)
    *_, t = simulate(seed=2, n_conversations=10, theta=0.6, window=1, truth_reps=5)
    assert t["theta_itt"].to_list() == pytest.approx([0.6] * 5)
    # and with W = 20 later corrections in the "not now" arm pull it towards 1
    *_, t20 = simulate(seed=2, n_conversations=10, theta=0.6, truth_reps=50)
    assert 0.6 < t20["theta_itt"][-1] < 1.0


def test_tagger_error_rates():
    *_, t = simulate(seed=8, n_conversations=10, sensitivity=0.5, truth_reps=0)
    row = t.filter(pl.col("category") == "all")
    assert row["n_tagged"].item() / row["n_slips"].item() == pytest.approx(0.5, abs=0.05)
    *_, fp = simulate(seed=8, n_conversations=10, false_positive=0.1, truth_reps=0)
    row = fp.filter(pl.col("category") == "all")
    extra = row["n_tagged"].item() - row["n_slips"].item()
    assert extra / (10 * 200 * 4) == pytest.approx(0.1, rel=0.15)


def test_single_transcript_world_and_mapping():
    turns, _, _ = simulate(seed=0, n_conversations=1, n_sessions=10, n_turns=100, truth_reps=0)
    ids = turns["conversation_id"].unique(maintain_order=True).to_list()
    assert ids == [f"c000-s{s:02d}" for s in range(10)]
    assert turns["conversation_index"].unique().sort().to_list() == list(range(10))
    assert set(simulated_transcripts(turns).values()) == {"c000"}


def test_effect_lowers_slips_after_corrections():
    *_, truth = simulate(seed=9, n_conversations=20, theta=0.2, truth_reps=0)
    *_, truth0 = simulate(seed=9, n_conversations=20, theta=1.0, truth_reps=0)
    assert truth["n_slips"][-1] < truth0["n_slips"][-1]


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="n_turns"):
        simulate(seed=0, n_turns=7)
    with pytest.raises(ValueError, match="category"):
        simulate(seed=0, categories=("nonsense",))
    assert math.isfinite(simulate(seed=0, n_conversations=1, n_turns=4, truth_reps=0)[2]["n_slips"][0])


def test_booster_overcorrection_simulated():
    _, tags, _ = simulate(seed=4, n_conversations=10, booster_rate=0.05, overcorrection=3.0,
                          truth_reps=0)
    assert tags.filter(pl.col("category") == "booster").height > 0
