"""Calibration shown, not claimed: null worlds with regression to the mean.

The small checks run in CI (a few seconds): in null worlds where corrections follow
bursts, the ``matched`` estimator must keep its rejection rate inside a tolerance band and
its mean log rate ratio near 0. The same band is shown to reject the naive before/after
estimator, so swapping ``matched`` for ``naive_pre_post`` makes these tests fail.
"""

import math
import os

import polars as pl
import pytest

from toolkit.calibration import calibration, run_replicates, summarise

WORLD = {"n_conversations": 20, "n_sessions": 1, "n_turns": 400}
N_NULL = 40  # x 4 categories = 160 independent tests; MCSE of a 5 % rate = 1.7 pp
BAND = (0.005, 0.12)  # 0.05 +- about 4 MCSE: a calibrated test lands here, RTM does not
MAX_ABS_BIAS = 0.10


def calibrated(rows: pl.DataFrame, estimator: str) -> tuple[bool, float, float]:
    """Is the estimator's null rejection rate inside BAND and its mean log RR near 0?"""
    r = rows.filter((pl.col("estimator") == estimator) & pl.col("rate_ratio").is_not_nan())
    assert r.height >= 0.8 * N_NULL * 4, "too many empty rows to judge"
    rate = float((r["p_value"] < 0.05).mean())
    bias = float(r["log_rate_ratio"].mean())
    return BAND[0] <= rate <= BAND[1] and abs(bias) < MAX_ABS_BIAS, rate, bias


@pytest.fixture(scope="module")
def null_rows():
    return run_replicates(
        theta=1.0, n_replicates=N_NULL, seed=7, world=WORLD,
        estimators=("matched", "naive_pre_post"), n_permutations=200,
    )


def test_matched_is_calibrated_under_rtm_null(null_rows):
    ok, rate, bias = calibrated(null_rows, "matched")
    assert ok, f"matched: rejection {rate:.3f} (band {BAND}), mean log RR {bias:+.3f}"


def test_naive_estimator_fails_the_same_band(null_rows):
    ok, rate, bias = calibrated(null_rows, "naive_pre_post")
    assert not ok
    assert rate > 0.3 and bias < -0.2  # regression to the mean looks like a benefit


def test_band_rejects_naive_rows_relabelled_as_matched(null_rows):
    swapped = null_rows.filter(pl.col("estimator") == "naive_pre_post").with_columns(
        estimator=pl.lit("matched")
    )
    assert not calibrated(swapped, "matched")[0]


def test_coverage_and_bias_under_an_effect():
    rows = run_replicates(
        theta=0.5, n_replicates=20, seed=3, world=WORLD,
        estimators=("matched", "naive_pre_post"), n_permutations=100, truth_reps=100,
    )
    tab = summarise(rows.with_columns(scenario=pl.lit("theta=0.5")))
    m = tab.filter(pl.col("estimator") == "matched").row(0, named=True)
    n = tab.filter(pl.col("estimator") == "naive_pre_post").row(0, named=True)
    assert m["theta_itt"] < 0.95  # there is an effect to find
    assert m["coverage"] >= 0.82, m
    assert abs(m["bias"]) < 0.15, m
    assert n["coverage"] < 0.5 and n["bias"] < -0.3, n


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("TOOLKIT_RUN_SLOW"),
    reason="about 5 minutes; run with TOOLKIT_RUN_SLOW=1 pytest -m slow",
)
def test_full_calibration_meets_targets():
    tab = calibration(n_replicates=200, seed=1, power_conversations=())
    m = tab.filter(pl.col("estimator") == "matched")
    size = m.filter(pl.col("theta") == 1.0)["rejection"].item()
    assert 0.03 <= size <= 0.07
    for th in (0.8, 0.5):
        cov = m.filter(pl.col("theta") == th)["coverage"].item()
        assert 0.92 <= cov <= 0.97
    assert (m["bias"].abs() < 0.05).all()
    assert not math.isnan(m["bias_mcse"][0])
