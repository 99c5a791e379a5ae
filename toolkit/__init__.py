"""toolkit: measure whether corrected assistant slips really recur less often.

The pipeline is read -> tag -> pair -> recurrence -> chart/view/report; every step takes
and returns polars DataFrames whose schemas are in :mod:`toolkit.schema`.

Examples
--------
>>> import toolkit as tk
>>> "chatgpt" in tk.formats()
True
"""

from toolkit import notebook
from toolkit.adjust import adjust_for_tagger
from toolkit.calibration import calibration
from toolkit.charts import (
    CATEGORY_COLOURS,
    before_after_rates,
    decay_chart,
    forest_chart,
    km_chart,
    power_chart,
    rate_chart,
    tagger_chart,
    timeline_chart,
)
from toolkit.decay import carryover, decay, spillover
from toolkit.evaluate import evaluate, gold_path, load_gold, load_sfu, sfu_hedge_scores
from toolkit.hypothesis import self_correction, time_trend
from toolkit.hypothesis_charts import (
    coordination_chart,
    identity_drift_chart,
    manipulation_chart,
    share_chart,
)
from toolkit.hypothesis_summary import hypothesis_headline
from toolkit.identity import identity_drift, identity_stability
from toolkit.lexicon import Lexicon, default_lexicon, load_lexicon
from toolkit.manipulation import manipulation_outcomes, manipulation_summary
from toolkit.mirroring import Mirroring, coordination, mirroring, statement_echo
from toolkit.pair import pair, uncorrected_slips, unmatched_corrections
from toolkit.persistence import persistence
from toolkit.power import power
from toolkit.read import ParseError, ReadReport, formats, read
from toolkit.recurrence import recurrence
from toolkit.redact import redact, redact_tags, redact_text
from toolkit.schema import CATEGORIES, PAIRS, RESULT, SLIP_CATEGORIES, TAGS, TURNS
from toolkit.simulate import simulate
from toolkit.summary import corpus_summary, tag_summary
from toolkit.tag import tag
from toolkit.values import value_articulation, value_statements
from toolkit.verdicts import verdicts
from toolkit.view import TranscriptView, view

__version__ = "0.1.0"

__all__ = [
    "CATEGORIES",
    "CATEGORY_COLOURS",
    "PAIRS",
    "RESULT",
    "SLIP_CATEGORIES",
    "TAGS",
    "TURNS",
    "Lexicon",
    "Mirroring",
    "ParseError",
    "ReadReport",
    "TranscriptView",
    "__version__",
    "adjust_for_tagger",
    "before_after_rates",
    "calibration",
    "carryover",
    "coordination",
    "coordination_chart",
    "corpus_summary",
    "decay",
    "decay_chart",
    "default_lexicon",
    "evaluate",
    "forest_chart",
    "formats",
    "gold_path",
    "hypothesis_headline",
    "identity_drift",
    "identity_drift_chart",
    "identity_stability",
    "km_chart",
    "load_gold",
    "load_lexicon",
    "load_sfu",
    "manipulation_chart",
    "manipulation_outcomes",
    "manipulation_summary",
    "mirroring",
    "notebook",
    "pair",
    "persistence",
    "power",
    "power_chart",
    "rate_chart",
    "read",
    "recurrence",
    "redact",
    "redact_tags",
    "redact_text",
    "self_correction",
    "sfu_hedge_scores",
    "share_chart",
    "simulate",
    "spillover",
    "statement_echo",
    "tag",
    "tag_summary",
    "tagger_chart",
    "time_trend",
    "timeline_chart",
    "uncorrected_slips",
    "unmatched_corrections",
    "value_articulation",
    "value_statements",
    "verdicts",
    "view",
]
