import datetime as dt

import polars as pl
import pytest

from toolkit.summary import corpus_summary, tag_summary

UTC = dt.UTC


def _turns() -> pl.DataFrame:
    ts = [dt.datetime(2026, 1, 1, 10, tzinfo=UTC), None, dt.datetime(2026, 1, 1, 12, 30, tzinfo=UTC)]
    return pl.DataFrame(
        {
            "conversation_id": ["b", "b", "b", "a", "a"],
            "conversation_index": [1, 1, 1, 0, 0],
            "turn": [0, 1, 2, 0, 1],
            "role": ["system", "user", "assistant", "user", "assistant"],
            "text": ["sys", "q", "four", "q", "héllo"],
            "timestamp": [*ts, None, None],
            "source": ["f"] * 5,
            "format": ["p"] * 5,
        }
    )


def _tags(rows: list[tuple[str, int, int, str, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "conversation_id": [r[0] for r in rows],
            "conversation_index": [r[1] for r in rows],
            "turn": [r[2] for r in rows],
            "role": [r[3] for r in rows],
            "category": [r[4] for r in rows],
            "subtype": [r[4] for r in rows],
            "target": [None] * len(rows),
            "start": [0] * len(rows),
            "end": [1] * len(rows),
            "match": ["x"] * len(rows),
        }
    )


def test_corpus_summary_counts_and_span():
    out = corpus_summary(_turns())
    assert out["conversation_id"].to_list() == ["a", "b"]
    b = out.row(1, named=True)
    assert (b["turns"], b["user"], b["assistant"], b["other"]) == (3, 1, 1, 1)
    assert b["assistant_chars"] == 4
    assert b["hours"] == pytest.approx(2.5)
    a = out.row(0, named=True)
    assert a["assistant_chars"] == 5  # characters, not bytes
    assert a["hours"] is None


def test_tag_summary_rates_per_scope():
    tags = _tags(
        [
            ("a", 0, 1, "assistant", "hedge"),
            ("a", 0, 1, "assistant", "hedge"),
            ("b", 1, 2, "assistant", "hedge"),
            ("b", 1, 1, "user", "correction"),
        ]
    )
    overall = tag_summary(_turns(), tags)
    hedge = overall.filter(pl.col("category") == "hedge").row(0, named=True)
    assert (hedge["spans"], hedge["turns_tagged"], hedge["role_turns"]) == (3, 2, 2)
    assert hedge["per_100_turns"] == pytest.approx(100.0)
    per_conv = tag_summary(_turns(), tags, by=("conversation_index", "category"))
    row = per_conv.filter(
        (pl.col("conversation_index") == 0) & (pl.col("category") == "hedge")
    ).row(0, named=True)
    assert (row["spans"], row["turns_tagged"], row["role_turns"]) == (2, 1, 1)


def test_tag_summary_rejects_bad_tags():
    with pytest.raises(ValueError, match="'category'"):
        tag_summary(_turns(), _tags([("a", 0, 1, "assistant", "hedge")]).drop("category"))
