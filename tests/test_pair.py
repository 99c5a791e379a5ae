"""pair(): links, basis, scope and outcomes on hand-built TURNS/TAGS with known answers."""

from __future__ import annotations

import polars as pl
import pytest

from toolkit.pair import PAIR_COLUMNS, pair, uncorrected_slips, unmatched_corrections
from toolkit.schema import PAIRS
from toolkit.tag import tag

FILLER = "Here is a plain answer with enough words to count as doing the task."


def turns_of(*texts: str) -> pl.DataFrame:
    """Turn 0 is user, then alternating."""
    return pl.DataFrame(
        {
            "conversation_id": "c",
            "conversation_index": 0,
            "turn": list(range(len(texts))),
            "role": ["user" if i % 2 == 0 else "assistant" for i in range(len(texts))],
            "text": list(texts),
        }
    )


def tags_of(*rows: tuple[int, str, str] | tuple[int, str, str, str]) -> pl.DataFrame:
    """(turn, category, match[, target]); role from turn parity."""
    return pl.DataFrame(
        {
            "conversation_id": "c",
            "conversation_index": 0,
            "turn": [r[0] for r in rows],
            "role": ["user" if r[0] % 2 == 0 else "assistant" for r in rows],
            "category": [r[1] for r in rows],
            "subtype": [f"{r[1]}.x" for r in rows],
            "target": [r[3] if len(r) > 3 else None for r in rows],  # type: ignore[misc]
            "start": 0,
            "end": [len(r[2]) for r in rows],
            "match": [r[2] for r in rows],
        },
        schema_overrides={"target": pl.String},
    )


def links(p: pl.DataFrame) -> list[tuple[int, int, str, int, str]]:
    return p.select("correction_turn", "slip_turn", "category", "distance", "basis").rows()


def test_adjacent_and_window_basis() -> None:
    turns = turns_of("q", "maybe " + FILLER, "ok", FILLER, "stop hedging", FILLER)
    adjacent = pair(turns, tags_of((1, "hedge", "maybe"), (4, "correction", "stop hedging", "hedge"), (3, "hedge", "maybe")))
    assert links(adjacent) == [(4, 3, "hedge", 1, "adjacent")]
    window = pair(turns, tags_of((1, "hedge", "maybe"), (4, "correction", "stop hedging", "hedge")))
    assert links(window) == [(4, 1, "hedge", 2, "window")]
    assert pair(turns, tags_of((1, "hedge", "maybe"), (4, "correction", "x", "hedge")), window=1).height == 0


def test_quote_beats_adjacent() -> None:
    turns = turns_of(
        "q", "It's important to note that X. " + FILLER, "ok", "Please note Y. " + FILLER,
        "Why do you keep writing \u201cit\u2019s important to note\u201d?", FILLER,
    )
    tags = tags_of(
        (1, "disclaimer", "It's important to note"),
        (3, "disclaimer", "Please note"),
        (4, "correction", "x", "disclaimer"),
    )
    p = pair(turns, tags)
    # "you keep" makes it habitual: both turns link, the quoted one by quote
    assert links(p) == [(4, 1, "disclaimer", 2, "quote"), (4, 3, "disclaimer", 1, "adjacent")]
    assert set(p["scope"]) == {"habitual"}
    single = turns.with_columns(
        pl.when(pl.col("turn") == 4).then(pl.lit("Drop the 'it's important to note' line.")).otherwise(pl.col("text")).alias("text")
    )
    assert links(pair(single, tags)) == [(4, 1, "disclaimer", 2, "quote")]


def test_habitual_links_every_slip_in_window_only() -> None:
    texts = ["q"] + [x for i in range(4) for x in ("maybe " + FILLER, "ok")]
    texts[-1] = "You keep hedging."
    texts.append(FILLER)
    turns = turns_of(*texts)
    tags = tags_of(
        (1, "hedge", "maybe"), (3, "hedge", "maybe"), (5, "hedge", "maybe"), (7, "hedge", "maybe"),
        (8, "correction", "You keep hedging", "hedge"),
    )
    p = pair(turns, tags)
    assert p["slip_turn"].to_list() == [3, 5, 7]
    assert p["distance"].to_list() == [3, 2, 1]
    assert uncorrected_slips(turns, tags)["turn"].to_list() == [1]


def test_drift_links_all_slip_categories_of_the_nearest_turn() -> None:
    turns = turns_of("q", "maybe. Sorry for the confusion. " + FILLER, "that's your training", FILLER)
    tags = tags_of((1, "hedge", "maybe"), (1, "boilerplate", "Sorry for the confusion"), (2, "correction", "x", "drift"))
    p = pair(turns, tags)
    assert sorted(p["category"].to_list()) == ["boilerplate", "hedge"]
    assert set(p["target"]) == {"drift"}


def test_unmatched_corrections_reasons() -> None:
    turns = turns_of("q", FILLER, "stop hedging", FILLER, "stop that", FILLER)
    tags = tags_of((2, "correction", "stop hedging", "hedge"), (4, "correction", "stop that", "unspecified"))
    un = unmatched_corrections(turns, tags)
    assert un.select("turn", "target", "reason").rows() == [
        (2, "hedge", "no_slip_in_window"),
        (4, "unspecified", "ambiguous"),
    ]
    assert pair(turns, tags).height == 0


@pytest.mark.parametrize(
    ("reply", "reply_tags", "outcome"),
    [
        (FILLER, [], "repair_only"),
        (FILLER, [(3, "acknowledgement", "Fair point")], "ack+repair"),
        ("maybe " + FILLER, [(3, "acknowledgement", "Fair point"), (3, "hedge", "maybe")], "ack_only"),
        ("maybe " + FILLER, [(3, "hedge", "maybe"), (3, "resistance", "I'll keep the caveat")], "contest"),
        ("maybe " + FILLER, [(3, "hedge", "maybe")], "none"),
        ("No.", [(3, "acknowledgement", "Fair point")], "ack_only"),  # too short: task not done
        (FILLER, [(3, "refusal", "I can't help with that")], "none"),  # a refusal is no repair
    ],
)
def test_outcome_classes(reply: str, reply_tags: list[tuple[int, str, str]], outcome: str) -> None:
    turns = turns_of("q", "maybe. " + FILLER, "stop hedging", reply)
    tags = tags_of((1, "hedge", "maybe"), (2, "correction", "x", "hedge"), *reply_tags)
    p = pair(turns, tags)
    assert p["outcome"].to_list() == [outcome]
    assert p["n_slips"].to_list() == [1]
    assert p["reply_turn"].to_list() == [3]


def test_repair_below_baseline_rate() -> None:
    # two hedges per turn before the correction, one after: below the rate counts as repair
    turns = turns_of("q", "maybe perhaps " + FILLER, "stop hedging", "maybe " + FILLER)
    tags = tags_of((1, "hedge", "maybe"), (1, "hedge", "perhaps"), (2, "correction", "x", "hedge"), (3, "hedge", "maybe"))
    assert pair(turns, tags)["outcome"].to_list() == ["repair_only"]


def test_no_reply_gives_null_outcome_and_schema() -> None:
    turns = turns_of("q", "maybe " + FILLER, "stop hedging")
    p = pair(turns, tags_of((1, "hedge", "maybe"), (2, "correction", "x", "hedge")))
    assert p["outcome"].to_list() == [None]
    assert tuple(p.columns) == PAIR_COLUMNS
    assert all(p.schema[c] == t for c, t in PAIRS.items())


def test_input_validation() -> None:
    turns = turns_of("q", FILLER)
    with pytest.raises(ValueError, match="'match'"):
        pair(turns, tags_of((1, "hedge", "maybe")).drop("match"))
    with pytest.raises(ValueError, match="window"):
        pair(turns, tags_of((1, "hedge", "maybe")), window=0)


def test_end_to_end_with_tagger() -> None:
    turns = turns_of(
        "Is the bridge safe to cross?",
        "It might be safe, but it's important to note that I'm not an engineer. I hope this helps!",
        "You're hedging again. Just tell me yes or no.",
        "You're right, I was hedging. Yes: the bridge was inspected last month and is rated for cars.",
    )
    tags = tag(turns)
    p = pair(turns, tags)
    assert p.select("slip_turn", "category", "basis", "outcome").rows() == [(1, "hedge", "adjacent", "ack+repair")]
    # "You're right" answering a behavioural correction is acknowledgement, not
    # sycophancy (gold GUIDELINE section 4, lexicons.md section 4 "not a hit")
    assert set(uncorrected_slips(turns, tags)["category"]) == {"disclaimer", "boilerplate"}
    ack = tags.filter((pl.col("turn") == 3) & (pl.col("match") == "You're right"))
    assert set(ack["category"]) == {"acknowledgement"}
