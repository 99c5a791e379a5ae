import math

import numpy as np
import polars as pl
import pytest

from toolkit.adjust import adjust_for_tagger
from toolkit.decay import bh, carryover, decay, spillover
from toolkit.power import corpus_shape, power
from toolkit.simulate import simulate, simulated_gold, simulated_transcripts

BINS = ((1, 5), (6, 20), (21, 60))
GRID = (1, 2, 4, 8, 16, 32, 64, math.inf)


def _log(df: pl.DataFrame, col: str = "rate_ratio") -> np.ndarray:
    v = np.log(df[col].to_numpy())
    return v[np.isfinite(v)]


def test_bh_matches_statsmodels():
    from statsmodels.stats.multitest import multipletests

    p = np.array([0.001, 0.2, 0.03, 0.04, 0.5, 0.012])
    assert bh(p) == pytest.approx(multipletests(p, method="fdr_bh")[1])


def test_decay_finds_short_half_life_and_fading_bins():
    turns, tags, _ = simulate(seed=3, theta=0.3, half_life=4, n_conversations=40, n_turns=600,
                              truth_reps=0)
    d = decay(turns, tags, bins=BINS, half_life_grid=GRID)
    early = _log(d.filter(pl.col("term") == "d 1-5"))
    late = _log(d.filter(pl.col("term") == "d 21-60"))
    assert early.mean() < -0.4
    assert abs(late.mean()) < 0.2
    hl = d.filter(pl.col("term") == "half-life")["half_life"].to_numpy()
    assert np.median(hl) <= 8
    assert (d["p_bh"].drop_nans() >= d["p_value"].drop_nans()).all()


def test_decay_sees_a_lasting_effect_as_long_half_life():
    turns, tags, _ = simulate(seed=3, theta=0.3, n_conversations=40, n_turns=600, truth_reps=0)
    d = decay(turns, tags, bins=BINS, half_life_grid=GRID)
    assert _log(d.filter(pl.col("term") == "d 21-60")).mean() < -0.2
    hl = d.filter(pl.col("term") == "half-life")["half_life"].to_numpy()
    assert np.median(hl) >= 32


@pytest.mark.parametrize(("kappa", "lo", "hi"), [(1.0, -np.inf, -0.2), (0.0, -0.25, 0.25)])
def test_carryover_follows_the_session_factor(kappa, lo, hi):
    turns, tags, _ = simulate(seed=72, theta=0.2, carryover=kappa, n_conversations=40,
                              n_sessions=4, n_turns=300, truth_reps=0)
    c = carryover(turns, tags, transcript=simulated_transcripts(turns))
    v = _log(c, "theta_next")
    assert v.size >= 3
    assert lo < v.mean() < hi
    assert (_log(c, "theta_same") < 0).all()  # the same-session effect is there either way


def test_carryover_without_next_sessions_says_why():
    turns, tags, _ = simulate(seed=1, n_conversations=10, n_turns=200, truth_reps=0)
    c = carryover(turns, tags, transcript=None)
    assert c["theta_next"].is_nan().all()
    assert c["note"].str.contains("too few").all()


@pytest.mark.parametrize(("spill", "lo", "hi"), [(1.0, -0.2, 0.2), (0.5, -np.inf, -0.1)])
def test_spillover_and_overcorrection(spill, lo, hi):
    turns, tags, _ = simulate(seed=80, theta=0.5, booster_rate=0.05, overcorrection=3.0,
                              spillover=spill, n_conversations=40, n_turns=600, truth_reps=0)
    s = spillover(turns, tags)
    assert set(s["outcome"].to_list()) == {"hedge", "disclaimer", "refusal", "boilerplate", "booster"}
    assert _log(s.filter(pl.col("outcome") == "booster")).mean() > 0.1  # boosters rise
    others = s.filter((pl.col("outcome") != "booster") & (pl.col("outcome") != pl.col("category")))
    assert lo < _log(others).mean() < hi


@pytest.fixture(scope="module")
def noisy_tagger_world():
    return simulate(seed=31, theta=0.4, sensitivity=0.8, false_positive=0.03,
                    n_conversations=60, n_turns=600, truth_reps=100)


def test_adjust_for_tagger_recovers_error_rates_and_moves_towards_truth(noisy_tagger_world):
    turns, tags, truth = noisy_tagger_world
    val = simulated_gold(turns).sample(fraction=0.3, seed=1)
    out = adjust_for_tagger(turns, tags, val, n_boot=300)
    assert out["sensitivity"].to_numpy() == pytest.approx(0.8, abs=0.05)
    assert out["false_positive_rate"].to_numpy() == pytest.approx(0.03 / 60, rel=0.25)
    t = np.log(truth.filter(pl.col("category") != "all")["theta_itt"].to_numpy())
    tagged = np.log(out["rate_ratio_tagged"].to_numpy())
    adjusted = np.log(out["rate_ratio"].to_numpy())
    assert (np.abs(adjusted) > np.abs(tagged)).all()  # removing false positives: away from 1
    assert abs((adjusted - t).mean()) < abs((tagged - t).mean())
    covered = (out["ci_low"].to_numpy() <= np.exp(t)) & (np.exp(t) <= out["ci_high"].to_numpy())
    assert covered.sum() >= 3
    ppv = adjust_for_tagger(turns, tags, val, n_boot=50, method="ppv")
    # one precision and one recall for both arms cancel in the ratio
    assert ppv["rate_ratio"].to_numpy() == pytest.approx(ppv["rate_ratio_tagged"].to_numpy())


def test_adjust_for_differential_sensitivity():
    # no effect, but slips after a correction are tagged half as often: tagged ratio < 1
    turns, tags, _ = simulate(seed=5, theta=1.0, sensitivity=0.9, sensitivity_after=0.45,
                              n_conversations=60, n_turns=600, truth_reps=0)
    gold = simulated_gold(turns)
    corr = tags.filter(pl.col("category") == "correction").select(
        "conversation_id", pl.col("target").alias("category"), pl.col("turn").alias("c_turn")
    )
    post = (
        gold.join(corr, on=["conversation_id", "category"], how="left")
        .with_columns(inside=(pl.col("turn") > pl.col("c_turn")) & (pl.col("turn") < pl.col("c_turn") + 40))
        .group_by("conversation_id", "turn", "category", "gold_count")
        .agg(pl.col("inside").any())
    )
    val = post.with_columns(
        stratum=pl.when(pl.col("inside")).then(pl.lit("post-correction")).otherwise(pl.lit("control"))
    ).drop("inside")
    out = adjust_for_tagger(turns, tags, val, n_boot=200)
    assert out["differential"].all()
    tagged = np.log(out["rate_ratio_tagged"].to_numpy())
    adjusted = np.log(out["rate_ratio"].to_numpy())
    assert tagged.mean() < -0.2
    assert abs(adjusted.mean()) < 0.25


def test_adjust_validation_errors_name_the_column(noisy_tagger_world):
    turns, tags, _ = noisy_tagger_world
    val = simulated_gold(turns).head(100)
    with pytest.raises(ValueError, match="'gold_count'"):
        adjust_for_tagger(turns, tags, val.drop("gold_count"))
    with pytest.raises(ValueError, match="'turn'"):
        adjust_for_tagger(turns, tags, val.with_columns(pl.lit("x").alias("turn")))
    with pytest.raises(ValueError, match="not assistant turns"):
        adjust_for_tagger(turns, tags, val.with_columns(pl.lit(0).alias("turn")))


def test_power_rises_with_effect_and_matches_corpus_shape():
    turns, tags, truth = simulate(seed=0, n_conversations=20, n_turns=400, truth_reps=0,
                                  base_rate=0.1, p_correct=0.15)
    shape = corpus_shape(turns, tags)
    assert shape["n_conversations"] == 20 and shape["n_turns"] == 400
    assert shape["base_rate"]["hedge"] == pytest.approx(0.1, rel=0.3)
    pw = power(turns, tags, thetas=(0.9, 0.2), n_replicates=6, n_permutations=100, truth_reps=20)
    assert pw["theta"].to_list() == [0.9, 0.2]
    assert pw["power"][1] > pw["power"][0] + 0.2
    observed = truth.filter(pl.col("category") == "all")["n_corrections"].item() / 4
    assert pw["mean_corrections"][0] == pytest.approx(observed, rel=0.5)
    md = pw["minimum_detectable"][0]
    assert math.isnan(md) or 0.2 <= md <= 0.9
