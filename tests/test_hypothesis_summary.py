import math

import polars as pl
import pytest

from toolkit.hypothesis_summary import hypothesis_headline
from toolkit.mirroring import Mirroring


def _inputs(*, drift_ci=(0.5, 0.9), persist=((10, 100, 20, 100), (5, 50, 10, 50))):
    drift = pl.DataFrame(
        {
            "category": ["identity"],
            "scale": ["per_10_turns"],
            "events": [40],
            "rate_ratio": [0.7],
            "rr_ci_low": [drift_ci[0]],
            "rr_ci_high": [drift_ci[1]],
        }
    )
    selfcorr = pl.DataFrame(
        {"scope": ["overall"], "repairs": [10], "rate": [0.3], "ci_low": [0.1], "ci_high": [0.6]}
    )
    manipulation = pl.DataFrame(
        {
            "scope": ["overall", "overall", "kind"],
            "kind": ["all", "all", "pushback"],
            "outcome": ["resists", "unclear", "capitulates"],
            "count": [6, 2, 1],
            "n": [10, 10, 5],
            "n_judged": [8, 8, 4],
            "judged_rate": [0.75, None, 0.25],
            "judged_ci_low": [0.4, None, 0.05],
            "judged_ci_high": [0.93, None, 0.7],
            "vs_reference": [None, None, "consistent"],
        }
    )
    coordination = pl.DataFrame(
        {
            "scope": ["overall", "overall"],
            "direction": ["assistant_echoes_user", "user_echoes_assistant"],
            "measure": ["ngram", "ngram"],
            "pairs": [100, 100],
            "observed": [0.05, 0.01],
            "baseline_mean": [0.02, 0.01],
            "baseline_low": [0.015, 0.008],
            "baseline_high": [0.025, 0.012],
            "excess": [0.03, 0.0],
        }
    )
    values = pl.DataFrame(
        {"scope": ["overall"], "statements": [20], "rate": [0.4], "ci_low": [0.2], "ci_high": [0.6]}
    )
    persistence = pl.DataFrame(
        {
            "category": ["hedge", "boilerplate"],
            "estimator": ["matched", "matched"],
            "n_corrections": [4, 3],
            "treated_count": [p[0] for p in persist],
            "treated_exposure": [p[1] for p in persist],
            "control_count": [p[2] for p in persist],
            "control_exposure": [p[3] for p in persist],
        }
    )
    return {
        "stability": pl.DataFrame(),
        "drift": drift,
        "selfcorr": selfcorr,
        "manipulation": manipulation,
        "mirroring": Mirroring(echo=pl.DataFrame(), coordination=coordination),
        "values": values,
        "persistence": persistence,
    }


def test_headline_has_one_row_per_claim_with_known_numbers():
    out = hypothesis_headline(**_inputs())
    assert out.height == 6
    rows = {r["claim"]: r for r in out.iter_rows(named=True)}
    assert "fade" in rows["identity stability"]["sentence"]
    assert rows["manipulation resistance"]["estimate"] == 0.75
    assert "2 of 10" in rows["manipulation resistance"]["sentence"]
    mir = rows["mirroring vs internalisation"]
    assert mir["estimate"] == pytest.approx(0.03)
    assert (mir["ci_low"], mir["ci_high"]) == pytest.approx((0.025, 0.035))
    # pooled: (15/150) / (30/150) = 0.5; se = sqrt(1/15 + 1/30)
    per = rows["cross-session persistence"]
    assert per["estimate"] == pytest.approx(0.5)
    assert per["ci_high"] == pytest.approx(0.5 * math.exp(1.96 * math.sqrt(1 / 15 + 1 / 30)))
    assert "rarer" in per["sentence"]


def test_headline_says_no_evidence_when_intervals_cover_one():
    out = hypothesis_headline(
        **_inputs(drift_ci=(0.8, 1.2), persist=((10, 100, 10, 100), (5, 50, 5, 50)))
    )
    rows = {r["claim"]: r["sentence"] for r in out.iter_rows(named=True)}
    assert rows["identity stability"].startswith("no detectable drift")
    assert rows["cross-session persistence"].startswith("no evidence")


def test_headline_not_estimable_without_data():
    inputs = _inputs(persist=((0, 0, 0, 0), (0, 0, 0, 0)))
    out = hypothesis_headline(**inputs)
    per = out.filter(pl.col("claim") == "cross-session persistence").row(0, named=True)
    assert math.isnan(per["estimate"]) and "not estimable" in per["sentence"]
