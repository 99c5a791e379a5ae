"""toolkit: measure whether corrected assistant slips really recur less often.

The pipeline is read -> tag -> pair -> recurrence -> chart/view; every step takes and
returns polars DataFrames whose schemas are in :mod:`toolkit.schema`.
"""

from toolkit.schema import CATEGORIES, PAIRS, RESULT, SLIP_CATEGORIES, TAGS, TURNS

__version__ = "0.1.0"

__all__ = [
    "CATEGORIES",
    "PAIRS",
    "RESULT",
    "SLIP_CATEGORIES",
    "TAGS",
    "TURNS",
    "__version__",
]
