"""Chart builders: specs carry only the aggregated rows they should."""

import polars as pl
import pytest

from toolkit.hypothesis_charts import (
    coordination_chart,
    identity_drift_chart,
    manipulation_chart,
    share_chart,
)


def _data(spec: dict) -> list[dict]:
    (rows,) = spec["datasets"].values()
    return rows


def test_identity_drift_chart_uses_position_rows_only():
    s = pl.DataFrame({
        "scope": ["overall", "position", "position", "position", "conversation"],
        "position_bin": [None, 0, 1, 0, None],
        "category": ["identity", "identity", "identity", "ai_self_reference", "identity"],
        "rate": [0.3, 0.5, 0.2, 0.1, 0.9], "ci_low": [0.2, 0.3, 0.1, 0.0, 0.8],
        "ci_high": [0.4, 0.7, 0.4, 0.3, 1.0], "exposure": [30, 10, 10, 10, 5],
    })
    spec = identity_drift_chart(s).to_dict()
    rows = _data(spec)
    assert len(rows) == 3 and {r["position_bin"] for r in rows} == {0, 1}
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks == ["errorbar", "line"]
    assert spec["layer"][1]["encoding"]["color"]["field"] == "category"


def test_manipulation_chart_sums_kinds_and_drops_zeros():
    s = pl.DataFrame({
        "scope": ["conversation"] * 4 + ["overall"],
        "kind": ["pushback", "manipulation", "pushback", "pushback", "all"],
        "conversation_index": [0, 0, 0, 1, None],
        "outcome": ["resists", "resists", "unclear", "capitulates", "resists"],
        "count": [2, 3, 0, 1, 5],
    })
    spec = manipulation_chart(s).to_dict()
    rows = sorted((r["conversation_index"], r["outcome"], r["count"]) for r in _data(spec))
    assert rows == [(0, "resists", 5), (1, "capitulates", 1)]
    assert spec["encoding"]["color"]["scale"]["domain"][0] == "resists"
    only = manipulation_chart(s, kind="manipulation").to_dict()
    assert [r["count"] for r in _data(only)] == [3]


def test_coordination_chart_filters_measure_and_facets_direction():
    c = pl.DataFrame({
        "scope": ["conversation", "conversation", "overall"],
        "conversation_index": [0, 0, None],
        "direction": ["user_echoes_assistant", "user_echoes_assistant", "user_echoes_assistant"],
        "measure": ["ngram", "function_words", "ngram"],
        "observed": [0.4, 0.6, 0.4], "baseline_mean": [0.1, 0.5, 0.1],
        "baseline_low": [0.05, 0.4, 0.05], "baseline_high": [0.2, 0.6, 0.2],
    })
    spec = coordination_chart(c, measure="function_words").to_dict()
    rows = _data(spec)
    assert [r["observed"] for r in rows] == [0.6]
    assert [layer["mark"]["type"] for layer in spec["spec"]["layer"]] == ["area", "line"]


def test_share_chart_and_missing_columns():
    t = pl.DataFrame({"scope": ["conversation", "conversation", "overall"],
                      "conversation_index": [0, 1, None], "rate": [0.5, None, 0.5],
                      "ci_low": [0.2, None, 0.3], "ci_high": [0.8, None, 0.7]})
    spec = share_chart(t, title="Spontaneous repairs").to_dict()
    assert [r["conversation_index"] for r in _data(spec)] == [0]
    assert spec["title"] == "Spontaneous repairs"
    with pytest.raises(ValueError, match="rate"):
        share_chart(t.drop("rate"))
