"""Tests for toolkit.evaluate: evaluate() on hand-built frames, load_sfu on a fixture.

Every expected figure below was computed by hand from the frames built in the test.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from toolkit.evaluate import evaluate, load_gold, load_sfu
from toolkit.schema import TAGS

DATA = Path(__file__).parent / "data"
SFU_REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "sfu-review-speculation"


def tag(conv, turn, cat="hedge", start=0, end=5, role="assistant", target=None):
    return {
        "conversation_id": conv,
        "conversation_index": 0,
        "turn": turn,
        "role": role,
        "category": cat,
        "subtype": None,
        "target": target,
        "start": start,
        "end": end,
        "match": "x" * (end - start),
    }


def tags(*rows):
    if not rows:
        return pl.DataFrame(schema=TAGS)
    return pl.DataFrame(list(rows), schema_overrides={"subtype": pl.String, "target": pl.String})


def turns_frame(spec):
    """spec: {conversation_id: "uauaua..."} -> TURNS with dummy texts."""
    rows = []
    for i, (conv, roles) in enumerate(spec.items()):
        for t, r in enumerate(roles):
            rows.append(
                {
                    "conversation_id": conv,
                    "conversation_index": i,
                    "turn": t,
                    "role": {"u": "user", "a": "assistant"}[r],
                    "text": "some text here",
                    "source": "hand",
                    "format": "gold",
                }
            )
    return pl.DataFrame(rows).with_columns(
        pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("timestamp")
    )


def row(out, cat="hedge"):
    return out.filter(pl.col("category") == cat).row(0, named=True)


# ------------------------------------------------------------------ point estimates


def test_three_tp_one_fp_two_fn_turn_level():
    # gold hedges in 5 turns over 3 conversations; the tagger finds 3, misses 2,
    # and fires once on a gold-negative turn -> P = 3/4, R = 3/5, F1 = 2/3
    gold = tags(tag("a", 1), tag("a", 3), tag("b", 1), tag("b", 3), tag("c", 1))
    pred = tags(tag("a", 1), tag("a", 3), tag("b", 1), tag("c", 3))
    out = evaluate(pred, gold, categories=["hedge"], n_boot=0)
    r = row(out)
    assert (r["tp"], r["fp"], r["fn"]) == (3, 1, 2)
    assert r["precision"] == pytest.approx(0.75)
    assert r["recall"] == pytest.approx(0.6)
    assert r["f1"] == pytest.approx(2 * 0.75 * 0.6 / 1.35)
    assert r["precision_low"] is None  # n_boot=0


def test_turn_level_counts_a_turn_once_span_level_counts_spans():
    # one turn with two gold hedge spans; the tagger finds one of them plus a
    # second, non-overlapping span elsewhere in the same turn
    gold = tags(tag("a", 1, start=0, end=5), tag("a", 1, start=20, end=26))
    pred = tags(tag("a", 1, start=2, end=4), tag("a", 1, start=10, end=14))
    turn = row(evaluate(pred, gold, categories=["hedge"], n_boot=0))
    assert (turn["tp"], turn["fp"], turn["fn"]) == (1, 0, 0)
    span = row(evaluate(pred, gold, categories=["hedge"], n_boot=0, level="span"))
    assert (span["tp"], span["tp_pred"], span["fp"], span["fn"]) == (1, 1, 1, 1)
    assert span["precision"] == pytest.approx(0.5)
    assert span["recall"] == pytest.approx(0.5)


def test_span_overlap_needs_a_shared_character():
    # [0, 5) and [5, 9) touch but share no character: no match
    gold = tags(tag("a", 1, start=0, end=5))
    pred = tags(tag("a", 1, start=5, end=9))
    span = row(evaluate(pred, gold, categories=["hedge"], n_boot=0, level="span"))
    assert (span["tp"], span["fp"], span["fn"]) == (0, 1, 1)
    assert span["f1"] == 0.0


def test_wrong_category_or_turn_is_not_a_match():
    gold = tags(tag("a", 1, "hedge"))
    pred = tags(tag("a", 1, "disclaimer"), tag("a", 3, "hedge"))
    out = evaluate(pred, gold, categories=["hedge", "disclaimer"], n_boot=0)
    h, d = row(out, "hedge"), row(out, "disclaimer")
    assert (h["tp"], h["fp"], h["fn"]) == (0, 1, 1)
    assert (d["tp"], d["fp"], d["fn"], d["n_gold"]) == (0, 1, 0, 0)
    assert d["recall"] is None  # no gold units: recall undefined
    assert d["precision"] == 0.0


def test_no_predictions_gives_recall_zero_and_null_precision():
    gold = tags(tag("a", 1), tag("b", 1))
    out = evaluate(tags(tag("a", 1, "booster")), gold, categories=["hedge"], n_boot=0)
    r = row(out)
    assert r["precision"] is None
    assert r["recall"] == 0.0
    assert r["f1"] == 0.0


def test_predictions_outside_the_universe_are_ignored():
    gold = tags(tag("a", 1))
    pred = tags(tag("a", 1), tag("zzz", 1))  # conversation zzz is not in gold
    r = row(evaluate(pred, gold, categories=["hedge"], n_boot=0))
    assert (r["tp"], r["fp"]) == (1, 0)
    # with TURNS, the universe is the turns' conversations: a tag on a gold-negative
    # conversation that is in TURNS counts as a false positive
    turns = turns_frame({"a": "uaua", "b": "uaua"})
    pred = tags(tag("a", 1), tag("b", 3), tag("zzz", 1))
    r = row(evaluate(pred, gold, turns=turns, categories=["hedge"], n_boot=0))
    assert (r["tp"], r["fp"], r["fn"]) == (1, 1, 0)


def test_every_category_gets_a_row_by_default():
    out = evaluate(tags(tag("a", 1)), tags(tag("a", 1)), n_boot=0)
    from toolkit.schema import CATEGORIES

    assert out["category"].to_list() == list(CATEGORIES)
    assert row(out)["f1"] == 1.0
    assert row(out, "refusal")["n_gold"] == 0


# ------------------------------------------------------------------ after correction


def test_recall_after_correction_vs_elsewhere():
    # roles:   0u 1a 2u 3a 4u 5a 6u 7a 8u 9a ; correction at user turn 2
    # window 3: assistant turns 3, 5, 7 are "after"; 1 and 9 are "elsewhere"
    turns = turns_frame({"a": "uauauauaua"})
    gold = tags(
        tag("a", 2, "correction", role="user", target="hedge"),
        tag("a", 1),
        tag("a", 3),
        tag("a", 5),
        tag("a", 9),
    )
    pred = tags(tag("a", 1), tag("a", 9), tag("a", 2, "correction", role="user"))
    r = row(evaluate(pred, (turns, gold), categories=["hedge"], n_boot=0))
    assert (r["n_after"], r["n_elsewhere"]) == (2, 2)
    assert r["recall_after_correction"] == 0.0
    assert r["recall_elsewhere"] == 1.0
    assert r["recall_gap"] == -1.0
    assert r["recall"] == pytest.approx(0.5)
    # window 1: only turn 3 is "after"; 5 (missed) moves to elsewhere -> 2/3
    r = row(evaluate(pred, (turns, gold), categories=["hedge"], n_boot=0, after_window=1))
    assert (r["n_after"], r["n_elsewhere"]) == (1, 3)
    assert r["recall_elsewhere"] == pytest.approx(2 / 3)
    # user-turn categories never fall in the window
    c = row(evaluate(pred, (turns, gold), categories=["correction"], n_boot=0), "correction")
    assert (c["n_after"], c["n_elsewhere"], c["recall_after_correction"]) == (0, 1, None)


def test_window_restarts_at_a_later_correction_and_not_across_conversations():
    # conversation a: corrections at 2 and 8; assistant turns 3 5 7 9 11 13 15
    # after = 3,5,7 (first) and 9,11,13 (second); 15 is elsewhere
    turns = turns_frame({"a": "uauauauauauauaua", "b": "uaua"})
    gold = tags(
        tag("a", 2, "correction", role="user", target="hedge"),
        tag("a", 8, "correction", role="user", target="hedge"),
        *[tag("a", t) for t in (3, 5, 7, 9, 11, 13, 15)],
        tag("b", 1),
        tag("b", 3),
    )
    r = row(evaluate(tags(), (turns, gold), categories=["hedge"], n_boot=0))
    assert (r["n_after"], r["n_elsewhere"]) == (6, 3)


def test_after_columns_are_null_without_turns():
    gold = tags(tag("a", 2, "correction", role="user", target="hedge"), tag("a", 3))
    r = row(evaluate(tags(tag("a", 3)), gold, categories=["hedge"], n_boot=0))
    assert r["recall_after_correction"] is None
    assert r["n_after"] is None
    assert r["recall"] == 1.0


# ------------------------------------------------------------------ bootstrap


def replicated(k):
    """k copies of a 4-conversation world with P = 2/3 and R = 1/2 at turn level."""
    gold, pred = [], []
    for i in range(k):
        a, b, c, d = (f"{x}{i}" for x in "abcd")
        gold += [tag(a, 1), tag(b, 1), tag(c, 1), tag(d, 1)]
        pred += [tag(a, 1), tag(b, 1), tag(c, 3)]
    return tags(*pred), tags(*gold)


def test_ci_contains_point_and_narrows_with_more_data():
    small = row(evaluate(*replicated(2), categories=["hedge"], n_boot=400, seed=1))
    large = row(evaluate(*replicated(20), categories=["hedge"], n_boot=400, seed=1))
    for r in (small, large):
        assert r["precision"] == pytest.approx(2 / 3)
        assert r["recall"] == pytest.approx(0.5)
        for m in ("precision", "recall", "f1"):
            assert r[f"{m}_low"] <= r[m] <= r[f"{m}_high"]
    for m in ("precision", "recall", "f1"):
        assert (large[f"{m}_high"] - large[f"{m}_low"]) < (
            small[f"{m}_high"] - small[f"{m}_low"]
        ) / 2


def test_bootstrap_resamples_conversations_not_turns():
    # all errors sit in one of two conversations: resampling conversations gives a
    # wide recall interval, which resampling turns within a pooled set would not
    gold = tags(*[tag("good", t) for t in range(1, 20, 2)], *[tag("bad", t) for t in range(1, 20, 2)])
    pred = tags(*[tag("good", t) for t in range(1, 20, 2)])
    r = row(evaluate(pred, gold, categories=["hedge"], n_boot=500, seed=3))
    assert r["recall"] == 0.5
    assert r["recall_low"] == 0.0
    assert r["recall_high"] == 1.0


def test_bootstrap_is_seeded():
    a = evaluate(*replicated(3), categories=["hedge"], n_boot=200, seed=7)
    b = evaluate(*replicated(3), categories=["hedge"], n_boot=200, seed=7)
    assert a.equals(b)


# ------------------------------------------------------------------ validation


def test_bad_input_names_the_column():
    bad = tags(tag("a", 1)).drop("start")
    with pytest.raises(ValueError, match="'start'"):
        evaluate(bad, tags(tag("a", 1)))
    with pytest.raises(ValueError, match="level"):
        evaluate(tags(tag("a", 1)), tags(tag("a", 1)), level="sentence")


def test_perfect_and_empty_tagger_on_bundled_dev_split():
    turns, gold = load_gold(split="dev")
    perfect = evaluate(gold, (turns, gold), n_boot=50)
    present = perfect.filter(pl.col("n_gold") > 0)
    assert present.height == 14
    assert (present["f1"] == 1.0).all()
    empty = evaluate(gold.clear(), (turns, gold), n_boot=0)
    assert (empty["recall"] == 0.0).all()
    assert empty["n_gold"].to_list() == perfect["n_gold"].to_list()


def test_gold_against_itself_shifted_by_one_character_span_level():
    # shrinking every gold span by one character keeps the overlap (spans >= 2 chars)
    turns, gold = load_gold(split="dev")
    shrunk = gold.with_columns(pl.col("start") + 1)
    out = evaluate(shrunk, (turns, gold), level="span", n_boot=0)
    present = out.filter(pl.col("n_gold") > 0)
    assert (present["recall"] == 1.0).all()
    assert (present["precision"] == 1.0).all()


# ------------------------------------------------------------------ SFU


def test_load_sfu_fixture_offsets_entities_and_empty_words():
    turns, gold = load_sfu(DATA / "sfu_mini.xml")
    assert turns["text"].to_list() == [
        "The pan might warp .",
        "I don't think it 's not \" non-stick \" !",
        "Perhaps it could be …",
    ]
    assert turns["conversation_id"].unique().to_list() == ["sfu_mini"]
    assert turns["role"].cast(pl.String).unique().to_list() == ["assistant"]
    got = gold.select("turn", "start", "end", "match").rows()
    assert got == [
        (0, 8, 13, "might"),
        (1, 2, 13, "don't think"),
        (2, 0, 7, "Perhaps"),
        (2, 11, 16, "could"),
    ]
    assert set(gold["category"]) == {"hedge"}  # the negation cue "not" is not a hedge


def test_load_sfu_review_unit_shifts_offsets():
    turns, gold = load_sfu(DATA / "sfu_mini.xml", unit="review")
    (text,) = turns["text"].to_list()
    starts = gold["start"].to_list()
    # sentence 2 starts after "The pan might warp ." plus one space (21 chars)
    assert starts == [8, 21 + 2, 21 + 40 + 0, 21 + 40 + 11]
    for s, e, m in gold.select("start", "end", "match").rows():
        assert text[s:e] == m


def test_load_sfu_folder_and_errors(tmp_path):
    sub = tmp_path / "BOOKS"
    sub.mkdir()
    (sub / "r1.xml").write_text((DATA / "sfu_mini.xml").read_text(encoding="utf-8"), encoding="utf-8")
    (sub / "r2.xml").write_text(
        "<DOCUMENT><P><SENTENCE><W>Fine</W><W>.</W></SENTENCE></P></DOCUMENT>", encoding="utf-8"
    )
    turns, gold = load_sfu(tmp_path)
    assert turns["conversation_id"].unique(maintain_order=True).to_list() == ["BOOKS/r1", "BOOKS/r2"]
    assert gold.height == 4
    (sub / "r3.xml").write_text("<DOCUMENT><P><SENTENCE><W>oops</SENTENCE>", encoding="utf-8")
    with pytest.raises(ValueError, match=r"r3\.xml.*line 1"):
        load_sfu(tmp_path)
    with pytest.raises(ValueError, match=r"no \.xml files"):
        load_sfu(_empty_dir(tmp_path))
    with pytest.raises(ValueError, match="unit"):
        load_sfu(DATA / "sfu_mini.xml", unit="word")


def _empty_dir(tmp_path):
    d = tmp_path / "empty"
    d.mkdir()
    return d


@pytest.mark.data
@pytest.mark.skipif(not SFU_REAL.is_dir(), reason="SFU corpus not present")
def test_real_sfu_counts():
    # README: 400 reviews, 17,263 sentences, 5,363 speculation cues
    turns, gold = load_sfu(SFU_REAL)
    assert turns["conversation_id"].n_unique() == 400
    assert turns.height == 17_263
    assert gold.height == 5_363
    joined = gold.join(turns, on=["conversation_id", "turn"])
    sliced = joined.select(
        pl.col("text").str.slice(pl.col("start"), pl.col("end") - pl.col("start"))
    ).to_series()
    assert (sliced == joined["match"]).all()
