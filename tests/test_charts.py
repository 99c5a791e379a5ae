import json
import math

import polars as pl
import pytest

from toolkit.charts import (
    before_after_rates,
    decay_chart,
    forest_chart,
    km_chart,
    power_chart,
    rate_chart,
    tagger_chart,
    timeline_chart,
)


def _turns(rows: list[tuple[str, int, int, str, str]]) -> pl.DataFrame:
    """rows: (conversation_id, conversation_index, turn, role, text)."""
    return pl.DataFrame(
        {
            "conversation_id": [r[0] for r in rows],
            "conversation_index": [r[1] for r in rows],
            "turn": [r[2] for r in rows],
            "role": [r[3] for r in rows],
            "text": [r[4] for r in rows],
            "timestamp": [None] * len(rows),
            "source": ["f"] * len(rows),
            "format": ["x"] * len(rows),
        }
    )


def _tags(rows: list[tuple]) -> pl.DataFrame:
    """rows: (conversation_id, turn, role, category, target, start, match)."""
    return pl.DataFrame(
        {
            "conversation_id": [r[0] for r in rows],
            "conversation_index": [0] * len(rows),
            "turn": [r[1] for r in rows],
            "role": [r[2] for r in rows],
            "category": [r[3] for r in rows],
            "subtype": [r[3] + ".x" for r in rows],
            "target": [r[4] for r in rows],
            "start": [r[5] for r in rows],
            "end": [r[5] + len(r[6]) for r in rows],
            "match": [r[6] for r in rows],
        },
        schema_overrides={"target": pl.String},
    )


def _spec(chart) -> dict:
    spec = chart.to_dict()  # validates against the Vega-Lite schema
    json.dumps(spec, allow_nan=False)  # no NaN reaches the JSON
    return spec


def _rows(spec: dict, layer: dict | None = None) -> list[dict]:
    name = (layer or {}).get("data", {}).get("name") or spec["data"]["name"]
    return spec["datasets"][name]


LONG = "x" * 120

TIMELINE_TURNS = _turns(
    [("a", 0, i, "user" if i % 2 == 0 else "assistant", f"text {i}") for i in range(6)]
    + [
        ("b", 1, i, "user" if i % 2 == 0 else "assistant", f"text {i}")
        for i in range(4)
    ]
)
TIMELINE_TAGS = _tags(
    [
        ("a", 1, "assistant", "hedge", None, 5, "I think"),
        ("a", 1, "assistant", "hedge", None, 0, "perhaps"),
        ("a", 1, "assistant", "disclaimer", None, 20, "not a doctor"),
        ("a", 2, "user", "correction", "hedge", 0, "stop hedging"),
        ("a", 3, "assistant", "hedge", None, 0, LONG),
        ("a", 3, "assistant", "booster", None, 0, "definitely"),  # not a slip row
        ("a", 4, "user", "correction", None, 0, "no, wrong"),
        ("b", 1, "assistant", "refusal", None, 0, "I can't help"),
    ]
)


def test_timeline_one_conversation_aggregates_per_turn_and_category():
    spec = _spec(timeline_chart(TIMELINE_TURNS, TIMELINE_TAGS, conversation="a"))
    ticks, rules = spec["layer"]
    assert ticks["mark"]["type"] == "tick"
    assert rules["mark"]["type"] == "rule"
    assert ticks["encoding"]["x"]["field"] == "turn"
    slips = _rows(spec, ticks)
    assert [(r["turn"], r["category"], r["spans"]) for r in slips] == [
        (1, "hedge", 2),
        (1, "disclaimer", 1),
        (3, "hedge", 1),
    ]
    # matched text in start order, joined, and truncated when long
    assert slips[0]["match"] == "perhaps | I think"
    assert slips[2]["match"] == "x" * 79 + "…"
    tooltip_fields = [t["field"] for t in ticks["encoding"]["tooltip"]]
    assert "match" in tooltip_fields and "turn" in tooltip_fields
    corrections = _rows(spec, rules)
    assert [(r["turn"], r["target"], r["match"]) for r in corrections] == [
        (2, "hedge", "stop hedging"),
        (4, "unspecified", "no, wrong"),
    ]
    assert rules["encoding"]["color"]["field"] == "target"
    colour = rules["encoding"]["color"]["scale"]
    assert "unspecified" in colour["domain"]
    assert colour["range"][colour["domain"].index("hedge")] == "#E69F00"
    assert "match" in [t["field"] for t in rules["encoding"]["tooltip"]]
    (param,) = [p for layer in spec["layer"] for p in layer.get("params", [])] or spec[
        "params"
    ]
    assert param["select"] == {"type": "interval", "encodings": ["x"]}
    assert param["bind"] == "scales"
    assert spec["title"]["text"]


def test_timeline_across_conversations_uses_global_index():
    spec = _spec(timeline_chart(TIMELINE_TURNS, TIMELINE_TAGS, categories=["refusal"]))
    ticks = spec["layer"][0]
    assert ticks["encoding"]["x"]["field"] == "global_turn"
    assert ticks["encoding"]["y"]["sort"] == ["refusal"]
    # conversation b starts after the 6 turns of a: its turn 1 is global turn 7
    assert [(r["conversation_id"], r["global_turn"]) for r in _rows(spec, ticks)] == [
        ("b", 7)
    ]
    starts = spec["layer"][2]
    assert starts["mark"]["type"] == "rule"
    assert [(r["conversation_id"], r["global_turn"]) for r in _rows(spec, starts)] == [
        ("a", 0),
        ("b", 6),
    ]
    # targets outside the known categories still get distinct colours
    odd = TIMELINE_TAGS.with_columns(
        pl.when(pl.col("target") == "hedge").then(pl.lit("drift")).alias("target")
    )
    scale = timeline_chart(TIMELINE_TURNS, odd).to_dict()["layer"][1]["encoding"][
        "color"
    ]["scale"]
    colours = dict(zip(scale["domain"], scale["range"], strict=True))
    assert colours["drift"] not in {colours["boilerplate"], colours["unspecified"]}


def test_timeline_validates_and_limits_rows():
    with pytest.raises(ValueError, match="'start'"):
        timeline_chart(TIMELINE_TURNS, TIMELINE_TAGS.drop("start"))
    with pytest.raises(ValueError, match="'role'"):
        timeline_chart(TIMELINE_TURNS.drop("role"), TIMELINE_TAGS)
    with pytest.raises(ValueError, match="nope"):
        timeline_chart(TIMELINE_TURNS, TIMELINE_TAGS, conversation="nope")
    n = 5001
    turns = _turns([("c", 0, i, "assistant", "maybe") for i in range(n)])
    tags = _tags([("c", i, "assistant", "hedge", None, 0, "maybe") for i in range(n)])
    with pytest.raises(ValueError, match="5,001 rows"):
        timeline_chart(turns, tags)


def _rate_world() -> tuple[pl.DataFrame, pl.DataFrame]:
    turns = _turns(
        [
            ("a", 0, 0, "user", "question"),
            ("a", 0, 1, "assistant", "maybe maybe it is"),  # 4 tokens, 2 hedges
            ("a", 0, 2, "assistant", "perhaps so"),  # 2 tokens, 1 hedge
            ("a", 0, 3, "user", "stop hedging please"),  # correction of hedge
            ("a", 0, 4, "assistant", "it is so and so"),  # 5 tokens
            ("a", 0, 5, "assistant", "it might be so too"),  # 5 tokens, 1 hedge
            ("a", 0, 6, "user", "thanks"),
            ("b", 1, 0, "assistant", "maybe hello there"),  # 3 tokens, 1 hedge
            ("b", 1, 1, "user", "no hedging"),  # correction at the start
            ("b", 1, 2, "assistant", "hello there friend"),  # 3 tokens
        ]
    )
    tags = _tags(
        [
            ("a", 1, "assistant", "hedge", None, 0, "maybe"),
            ("a", 1, "assistant", "hedge", None, 6, "maybe"),
            ("a", 2, "assistant", "hedge", None, 0, "perhaps"),
            ("a", 3, "user", "correction", "hedge", 0, "stop hedging"),
            ("a", 3, "user", "correction", "hedge", 5, "hedging"),  # same turn: one
            ("a", 3, "user", "correction", None, 0, "stop"),  # unspecified: left out
            ("a", 5, "assistant", "hedge", None, 3, "might"),
            ("a", 5, "assistant", "disclaimer", None, 0, "it"),  # other category
            ("b", 0, "assistant", "hedge", None, 0, "maybe"),
            ("b", 1, "user", "correction", "hedge", 0, "no hedging"),
        ]
    )
    return turns, tags


def test_before_after_rates_known_answer():
    turns, tags = _rate_world()
    out = before_after_rates(turns, tags, window=2, categories=["hedge"])
    assert out.select(
        "category", "period", "n_corrections", "slips", "tokens", "assistant_turns"
    ).rows() == [
        ("hedge", "before", 2, 4, 9, 3),
        ("hedge", "after", 2, 1, 13, 3),
    ]
    assert out["rate"].to_list() == pytest.approx([4 / 9 * 1000, 1 / 13 * 1000])
    one = before_after_rates(turns, tags, window=1, categories=["hedge"])
    # a: before = turn 2 (1 hedge, 2 tokens), after = turn 4 (0, 5); b: 1/3 and 0/3
    assert one.select("slips", "tokens").rows() == [(2, 5), (0, 8)]


def test_rate_chart_spec():
    turns, tags = _rate_world()
    rates = before_after_rates(turns, tags, window=2)
    spec = _spec(rate_chart(rates))
    bars = spec["layer"][0]
    assert bars["mark"]["type"] == "bar"
    assert bars["encoding"]["xOffset"]["field"] == "period"
    assert bars["encoding"]["x"]["field"] == "category"
    rows = _rows(spec, bars)
    assert [(r["category"], r["period"]) for r in rows] == [
        ("hedge", "before"),
        ("hedge", "after"),
    ]
    title = spec["title"]
    assert "naive" in title["text"] and "descriptive" in title["text"]
    assert "regression to the mean" in " ".join(title["subtitle"])
    assert spec["layer"][1]["mark"]["type"] == "text"
    with pytest.raises(ValueError, match="period"):
        rate_chart(rates.with_columns(pl.lit("during").alias("period")))
    with pytest.raises(ValueError, match="'rate'"):
        rate_chart(rates.drop("rate"))


RESULT = pl.DataFrame(
    {
        "category": ["refusal", "hedge", "hedge", "hedge"],
        "estimator": ["matched", "matched", "naive_pre_post", "survival"],
        "n_corrections": [5, 12, 12, 12],
        "n_controls": [20, 40, 0, 40],
        "rate_ratio": [1.3, 0.8, float("nan"), 0.0],
        "ci_low": [0.0, 0.6, float("nan"), 0.0],
        "ci_high": [2.5, 1.1, float("nan"), 0.0],
        "p_value": [0.5, 0.2, float("nan"), float("nan")],
        "p_holm": [0.5, 0.4, None, None],
        "note": [None, None, "too few corrections", None],
    }
)


def test_forest_chart_spec():
    spec = _spec(forest_chart(RESULT))
    ref, cis, points, absent = spec["layer"]
    rows = _rows(spec)
    # sorted by category order (hedge before refusal), then estimator order
    assert [(r["category"], r["estimator"]) for r in rows] == [
        ("hedge", "naive_pre_post"),
        ("hedge", "matched"),
        ("hedge", "survival"),
        ("refusal", "matched"),
    ]
    assert [r["estimable"] for r in rows] == [False, True, False, True]
    assert rows[0]["rate_ratio"] is None and rows[0]["note"] == "too few corrections"
    assert rows[2]["note"] == "no estimate"
    assert rows[3]["ci_low"] is None and rows[3]["ci_high"] == 2.5  # 0 off the log axis
    assert rows[3]["note"] == "95% CI not drawn (missing or not positive)"
    assert rows[1]["note"] == ""
    assert points["mark"]["type"] == "point"
    assert points["encoding"]["x"]["scale"]["type"] == "log"
    assert cis["encoding"]["x"]["scale"]["type"] == "log"
    assert cis["encoding"]["x2"]["field"] == "ci_high"
    assert ref["mark"]["type"] == "rule" and {r["reference"] for r in rows} == {1.0}
    assert absent["mark"]["type"] == "text"
    assert "note" in [t["field"] for t in absent["encoding"]["tooltip"]]
    assert absent["transform"] == [{"filter": "!datum.estimable"}]
    assert points["transform"] == [{"filter": "datum.estimable"}]
    with pytest.raises(ValueError, match="'ci_high'"):
        forest_chart(RESULT.drop("ci_high"))


def test_km_chart_spec():
    curves = pl.DataFrame(
        {
            "category": ["hedge"] * 4 + ["refusal"] * 2,
            "group": [
                "matched uncorrected",
                "matched uncorrected",
                "corrected",
                "corrected",
            ]
            + ["corrected"] * 2,
            "time": [5, 0, 4, 0, 0, 2],
            "survival": [0.6, 1.0, 0.5, 1.0, 1.0, 0.7],
            "ci_low": [0.4, 1.0, 0.3, 1.0, 1.0, 0.5],
            "ci_high": [0.8, 1.0, 0.7, 1.0, 1.0, 0.9],
        }
    )
    spec = _spec(km_chart(curves))
    assert spec["facet"]["field"] == "category"
    band, line = spec["spec"]["layer"]
    assert band["mark"] == {"type": "area", "interpolate": "step-after", "opacity": 0.2}
    assert band["encoding"]["y"]["field"] == "ci_low"
    assert band["encoding"]["y2"]["field"] == "ci_high"
    assert line["mark"]["interpolate"] == "step-after"
    assert line["encoding"]["y"]["field"] == "survival"
    rows = _rows(spec)
    assert [(r["category"], r["group"], r["time"]) for r in rows] == [
        ("hedge", "corrected", 0),
        ("hedge", "corrected", 4),
        ("hedge", "matched uncorrected", 0),
        ("hedge", "matched uncorrected", 5),
        ("refusal", "corrected", 0),
        ("refusal", "corrected", 2),
    ]
    with pytest.raises(ValueError, match="'ci_low'"):
        km_chart(curves.drop("ci_low"))
    with pytest.raises(ValueError, match="survival"):
        km_chart(curves.with_columns(pl.col("survival") * 2))


def test_decay_chart_recovers_known_curve():
    beta, h = math.log(0.5), 10.0
    d = [2.0, 8.0, 20.0, 60.0]
    theta = [math.exp(beta * 2 ** (-x / h)) for x in d]
    frame = pl.DataFrame(
        {
            "category": ["hedge"] * 4,
            "distance": d,
            "bin": ["1–5", "6–10", "11–30", "31–100"],
            "rate_ratio": theta,
            "ci_low": [t * 0.8 for t in theta],
            "ci_high": [t * 1.25 for t in theta],
            "half_life": [h] * 4,
        }
    )
    spec = _spec(decay_chart(frame))
    ref, cis, points, curve = spec["layer"]
    assert _rows(spec, ref) == [{"reference": 1.0}]
    assert cis["encoding"]["y2"]["field"] == "ci_high"
    assert points["encoding"]["y"]["scale"]["type"] == "log"
    assert points["encoding"]["x"]["scale"]["type"] == "log"
    assert len(_rows(spec, points)) == 4
    fitted = _rows(spec, curve)
    assert len(fitted) == 80
    assert fitted[0]["log_effect"] == pytest.approx(beta, abs=1e-5)
    for r in fitted:
        assert r["fitted"] == pytest.approx(
            math.exp(beta * 2 ** (-r["distance"] / h)), rel=1e-4
        )
    assert curve["mark"]["type"] == "line"
    assert "bin" in [t["field"] for t in points["encoding"]["tooltip"]]
    # without a half-life there is no curve; a zero distance switches x to symlog
    spec0 = _spec(
        decay_chart(frame.drop("half_life").with_columns(pl.lit(0.0).alias("distance")))
    )
    assert len(spec0["layer"]) == 3
    assert spec0["layer"][2]["encoding"]["x"]["scale"]["type"] == "symlog"
    with pytest.raises(ValueError, match="'distance'"):
        decay_chart(frame.drop("distance"))


def test_power_chart_spec():
    pw = pl.DataFrame(
        {
            "n_corrections": [40, 10, 20, 10, 20, 40],
            "rate_ratio": [0.5, 0.5, 0.5, 0.8, 0.8, 0.8],
            "power": [0.95, 0.4, 0.7, 0.1, 0.2, 0.35],
            "power_low": [0.9, 0.3, 0.6, 0.05, 0.15, 0.3],
            "power_high": [0.99, 0.5, 0.8, 0.15, 0.25, 0.4],
        }
    )
    spec = _spec(power_chart(pw))
    target, band, line = spec["layer"]
    assert _rows(spec, target) == [{"target": 0.8}]
    assert line["encoding"]["x"]["field"] == "n_corrections"
    rows = _rows(spec, line)
    assert [(r["series"], r["n_corrections"]) for r in rows] == [
        ("θ = 0.5", 10),
        ("θ = 0.5", 20),
        ("θ = 0.5", 40),
        ("θ = 0.8", 10),
        ("θ = 0.8", 20),
        ("θ = 0.8", 40),
    ]
    assert band["encoding"]["y2"]["field"] == "power_high"
    by_rr = _spec(power_chart(pw, x="rate_ratio"))
    assert by_rr["layer"][2]["encoding"]["x"]["scale"]["type"] == "log"
    with pytest.raises(ValueError, match="x must be"):
        power_chart(pw, x="power")
    with pytest.raises(ValueError, match="'power'"):
        power_chart(pw.drop("power"))
    with pytest.raises(ValueError, match="power"):
        power_chart(pw.with_columns(pl.col("power") + 1))


def test_tagger_chart_spec():
    ev = pl.DataFrame(
        {
            "category": ["refusal", "hedge"],
            "precision": [0.9, 0.8],
            "precision_low": [0.8, 0.7],
            "precision_high": [0.95, 0.9],
            "recall": [0.6, float("nan")],
            "recall_low": [0.5, None],
            "recall_high": [0.7, None],
            "f1": [0.72, 0.75],
            "f1_low": [0.6, 0.65],
            "f1_high": [0.8, 0.85],
        }
    )
    spec = _spec(tagger_chart(ev))
    bars, errors = spec["layer"]
    assert bars["mark"]["type"] == "bar"
    assert errors["mark"]["type"] == "rule"
    assert errors["encoding"]["y"]["field"] == "low"
    assert errors["encoding"]["y2"]["field"] == "high"
    rows = _rows(spec)
    assert [(r["category"], r["metric"], r["value"]) for r in rows] == [
        ("hedge", "precision", 0.8),
        ("hedge", "recall", None),
        ("hedge", "f1", 0.75),
        ("refusal", "precision", 0.9),
        ("refusal", "recall", 0.6),
        ("refusal", "f1", 0.72),
    ]
    with pytest.raises(ValueError, match="'f1_high'"):
        tagger_chart(ev.drop("f1_high"))
