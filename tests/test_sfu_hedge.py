"""The hedge tagger on the real SFU Review speculation corpus (skips when absent)."""

import re
from pathlib import Path

import pytest

from toolkit.evaluate import SFU_NON_EPISTEMIC, sfu_hedge_scores

SFU = Path(__file__).resolve().parents[2] / "shared" / "data" / "sfu-review-speculation"


@pytest.mark.parametrize(
    ("cue", "dropped"),
    [
        ("if", True),
        ("or", True),
        ("can", True),
        ("could n't", True),
        ("would n’t", True),
        ("'d", True),
        ("must not", True),
        ("may", False),
        ("might", False),
        ("seems", False),
        ("probably", False),
        ("not sure", False),
        ("ifs", False),  # whole-cue match only
    ],
)
def test_non_epistemic_cues(cue: str, dropped: bool) -> None:
    assert bool(re.match(SFU_NON_EPISTEMIC, cue)) is dropped


@pytest.mark.data
@pytest.mark.skipif(not SFU.is_dir(), reason="../shared/data/sfu-review-speculation absent")
def test_sfu_hedge_scores_on_the_real_corpus() -> None:
    scores = {r["subset"]: r for r in sfu_hedge_scores(SFU, n_boot=50).iter_rows(named=True)}
    assert scores["all"]["gold_cues"] == 5363  # the corpus README's count
    epi = scores["epistemic"]
    assert 0 < epi["gold_cues"] < 5363
    for row in scores.values():
        assert row["tp"] + row["fn"] == row["n_gold"]
        assert row["f1_low"] <= row["f1"] <= row["f1_high"]
    # a regression floor, far below the CoNLL-2010 biological figures (~0.8): the
    # epistemic subset is what a chat hedge lexicon is meant to find
    assert epi["recall"] >= 0.4
    assert epi["precision"] >= 0.4
