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
from toolkit.evaluate import evaluate, gold_path, load_gold, load_sfu
from toolkit.hypothesis import self_correction, time_trend
from toolkit.hypothesis_charts import (
    coordination_chart,
    identity_drift_chart,
    manipulation_chart,
    share_chart,
)
from toolkit.identity import identity_drift, identity_stability
from toolkit.manipulation import manipulation_outcomes, manipulation_summary
from toolkit.mirroring import Mirroring, coordination, mirroring, statement_echo
from toolkit.persistence import persistence
from toolkit.read import ParseError, ReadReport, formats, read
from toolkit.redact import redact, redact_tags, redact_text
from toolkit.schema import CATEGORIES, PAIRS, RESULT, SLIP_CATEGORIES, TAGS, TURNS
from toolkit.summary import corpus_summary, tag_summary
from toolkit.values import value_articulation, value_statements
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
    "Mirroring",
    "ParseError",
    "ReadReport",
    "TranscriptView",
    "__version__",
    "before_after_rates",
    "coordination",
    "coordination_chart",
    "corpus_summary",
    "decay_chart",
    "evaluate",
    "forest_chart",
    "formats",
    "gold_path",
    "identity_drift",
    "identity_drift_chart",
    "identity_stability",
    "km_chart",
    "load_gold",
    "load_sfu",
    "manipulation_chart",
    "manipulation_outcomes",
    "manipulation_summary",
    "mirroring",
    "notebook",
    "persistence",
    "power_chart",
    "rate_chart",
    "read",
    "redact",
    "redact_tags",
    "redact_text",
    "self_correction",
    "share_chart",
    "statement_echo",
    "tag_summary",
    "tagger_chart",
    "time_trend",
    "timeline_chart",
    "value_articulation",
    "value_statements",
    "view",
]
