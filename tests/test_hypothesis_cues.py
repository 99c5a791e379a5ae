"""Every cue list of the hypothesis metrics: positives and boundary negatives."""

import polars as pl
import pytest

from toolkit.hypothesis import SELF_CORRECTION_CUES, cue_regex
from toolkit.identity import RESTORATION_CUES
from toolkit.manipulation import REVERSAL_CUES
from toolkit.values import REASON_CUES, RULE_CUES, VALUE_CUES

CASES = [
    (SELF_CORRECTION_CUES, "Correction: the swap is on the 14th.", True),
    (SELF_CORRECTION_CUES, "Thanks for the correction.", False),
    (SELF_CORRECTION_CUES, "Scratch that, it's 5.", True),
    (SELF_CORRECTION_CUES, "Let me know if that helps.", False),
    (SELF_CORRECTION_CUES, "I was hedging there.", True),
    (SELF_CORRECTION_CUES, "You were hedging your bets.", False),
    (RESTORATION_CUES, "Context for Ember, session 2. Read this before anything else.", True),
    (RESTORATION_CUES, "Picking up where we left off yesterday.", True),
    (RESTORATION_CUES, "What did you do last weekend?", False),
    (REVERSAL_CUES, "You're absolutely right, it is 5.", True),
    (REVERSAL_CUES, "My mistake: it is 5.", True),
    (REVERSAL_CUES, "You're right to ask; it is still 4.", True),  # known false positive
    (REVERSAL_CUES, "Right, the answer is 4.", False),
    (REASON_CUES, "I won't, because it would mislead.", True),
    (REASON_CUES, "I kept it short so that Wren can read it.", True),
    (REASON_CUES, "I kept it short, so read it twice.", False),
    (RULE_CUES, "I'm not allowed to share that.", True),
    (RULE_CUES, "My guidelines say no.", True),
    (RULE_CUES, "You can't freeze seed twice.", False),
    (VALUE_CUES, "Honesty is the point of the page.", True),
    (VALUE_CUES, "To be honest, it grew.", False),
    (VALUE_CUES, "Dry matters most.", False),
]


@pytest.mark.parametrize(("cues", "text", "hit"), CASES)
def test_cue(cues, text, hit):
    # the metrics match with polars (Rust regex), so test with it too
    assert pl.Series([text]).str.contains(cue_regex(cues)).item() is hit
