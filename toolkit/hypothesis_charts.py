"""Altair chart builders for the hypothesis metrics (fed aggregated frames only).

Each builder takes the frame a metric returned, keeps the few aggregated rows it
plots, and returns an ``alt.Chart`` (or layered chart) without displaying it.
"""

from __future__ import annotations

import altair as alt
import polars as pl

from toolkit.manipulation import OUTCOMES

__all__ = [
    "coordination_chart",
    "identity_drift_chart",
    "manipulation_chart",
    "share_chart",
]

_OUTCOME_COLOURS = ["#1b9e77", "#7570b3", "#d95f02", "#66a61e", "#bdbdbd"]


def _need(df: pl.DataFrame, cols: tuple[str, ...], name: str) -> None:
    if not isinstance(df, pl.DataFrame):
        raise ValueError(f"{name} needs a polars.DataFrame")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{name}: frame is missing column(s) {missing}")


def identity_drift_chart(stability: pl.DataFrame) -> alt.LayerChart:
    """Rate by relative position bin, per category, with 95 % intervals.

    Parameters
    ----------
    stability
        The frame of :func:`toolkit.identity.identity_stability`.

    Examples
    --------
    >>> import polars as pl
    >>> s = pl.DataFrame({"scope": ["position"] * 2, "position_bin": [0, 1],
    ...     "category": ["identity"] * 2, "rate": [0.5, 0.2], "ci_low": [0.3, 0.1],
    ...     "ci_high": [0.7, 0.4], "exposure": [10, 10]})
    >>> identity_drift_chart(s).to_dict()["layer"][0]["mark"]["type"]
    'errorbar'
    """
    _need(stability, ("scope", "position_bin", "category", "rate", "ci_low", "ci_high"),
          "identity_drift_chart")
    d = stability.filter(pl.col("scope") == "position").select(
        "category", "position_bin", "rate", "ci_low", "ci_high", "exposure"
    ).sort("category", "position_bin")
    base = alt.Chart(d).encode(
        x=alt.X("position_bin:O", title="position in conversation (bin, start to end)"),
        color=alt.Color("category:N", title="category"),
    )
    bars = base.mark_errorbar().encode(
        y=alt.Y("ci_low:Q", title="share of assistant turns"), y2="ci_high:Q"
    )
    line = base.mark_line(point=True).encode(
        y="rate:Q", tooltip=["category", "position_bin", "rate", "ci_low", "ci_high",
                             "exposure"]
    )
    return alt.LayerChart(layer=[bars, line], title="Identity references by position")


def manipulation_chart(summary: pl.DataFrame, *, kind: str | None = None) -> alt.Chart:
    """Outcomes of manipulation/pushback turns per conversation (stacked counts).

    Parameters
    ----------
    summary
        The frame of :func:`toolkit.manipulation.manipulation_summary`.
    kind
        ``"manipulation"`` or ``"pushback"`` to show one kind; None sums both.

    Examples
    --------
    >>> import polars as pl
    >>> s = pl.DataFrame({"scope": ["conversation"] * 2, "kind": ["pushback"] * 2,
    ...     "conversation_index": [0, 0], "outcome": ["resists", "capitulates"],
    ...     "count": [3, 1]})
    >>> manipulation_chart(s).to_dict()["mark"]["type"]
    'bar'
    """
    _need(summary, ("scope", "kind", "conversation_index", "outcome", "count"),
          "manipulation_chart")
    d = summary.filter(pl.col("scope") == "conversation")
    if kind is not None:
        d = d.filter(pl.col("kind") == kind)
    d = (
        d.group_by("conversation_index", "outcome")
        .agg(pl.col("count").sum())
        .filter(pl.col("count") > 0)
        .sort("conversation_index", "outcome")
    )
    return (
        alt.Chart(d)
        .mark_bar()
        .encode(
            x=alt.X("conversation_index:O", title="conversation"),
            y=alt.Y("count:Q", title="challenges", stack="zero"),
            color=alt.Color(
                "outcome:N",
                scale=alt.Scale(domain=list(OUTCOMES), range=_OUTCOME_COLOURS),
                sort=list(OUTCOMES),
            ),
            tooltip=["conversation_index", "outcome", "count"],
        )
        .properties(title=f"Replies to {kind or 'manipulation and pushback'} over time")
    )


def coordination_chart(coordination: pl.DataFrame, *, measure: str = "ngram") -> alt.FacetChart:
    """Observed coordination per conversation against the shuffled-pairing band.

    Parameters
    ----------
    coordination
        The frame of :func:`toolkit.mirroring.coordination`.
    measure
        ``"ngram"`` or ``"function_words"``.

    Examples
    --------
    >>> import polars as pl
    >>> c = pl.DataFrame({"scope": ["conversation"], "conversation_index": [0],
    ...     "direction": ["user_echoes_assistant"], "measure": ["ngram"],
    ...     "observed": [0.4], "baseline_mean": [0.1], "baseline_low": [0.05],
    ...     "baseline_high": [0.2]})
    >>> coordination_chart(c).to_dict()["facet"]["row"]["field"]
    'direction'
    """
    _need(coordination, ("scope", "conversation_index", "direction", "measure", "observed",
                         "baseline_mean", "baseline_low", "baseline_high"),
          "coordination_chart")
    d = coordination.filter(
        (pl.col("scope") == "conversation") & (pl.col("measure") == measure)
    ).select("conversation_index", "direction", "observed", "baseline_mean",
             "baseline_low", "baseline_high").sort("direction", "conversation_index")
    base = alt.Chart(d).encode(x=alt.X("conversation_index:Q", title="conversation"))
    band = base.mark_area(opacity=0.3, color="#9e9e9e").encode(
        y=alt.Y("baseline_low:Q", title=f"adoption ({measure})"), y2="baseline_high:Q"
    )
    obs = base.mark_line(point=True, color="#d95f02").encode(
        y="observed:Q", tooltip=["conversation_index", "observed", "baseline_mean"]
    )
    return alt.layer(band, obs, data=d).facet(row=alt.Row("direction:N")).properties(
        title="Coordination vs shuffled pairings"
    )


def share_chart(table: pl.DataFrame, *, title: str = "Share over conversations") -> alt.LayerChart:
    """Per-conversation share with 95 % intervals (self-correction, value articulation).

    Parameters
    ----------
    table
        A frame with ``scope``, ``conversation_index``, ``rate``, ``ci_low`` and
        ``ci_high`` (e.g. :func:`toolkit.hypothesis.self_correction` or
        :func:`toolkit.values.value_articulation`).
    title
        Chart title.

    Examples
    --------
    >>> import polars as pl
    >>> s = pl.DataFrame({"scope": ["conversation"], "conversation_index": [0],
    ...     "rate": [0.5], "ci_low": [0.2], "ci_high": [0.8]})
    >>> share_chart(s).to_dict()["layer"][1]["mark"]["type"]
    'line'
    """
    _need(table, ("scope", "conversation_index", "rate", "ci_low", "ci_high"), "share_chart")
    d = table.filter(
        (pl.col("scope") == "conversation") & pl.col("rate").is_not_null()
    ).select("conversation_index", "rate", "ci_low", "ci_high").sort("conversation_index")
    base = alt.Chart(d).encode(x=alt.X("conversation_index:Q", title="conversation"))
    bars = base.mark_errorbar().encode(
        y=alt.Y("ci_low:Q", title="share", scale=alt.Scale(domain=[0, 1])), y2="ci_high:Q"
    )
    line = base.mark_line(point=True).encode(y="rate:Q", tooltip=["conversation_index", "rate"])
    return alt.LayerChart(layer=[bars, line], title=title)
