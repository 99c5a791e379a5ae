"""Small or degenerate corpora give NaN rows with notes, never a traceback."""

from pathlib import Path

import polars as pl
import pytest

import toolkit as tk

ROOT = Path(__file__).resolve().parents[1]


def _tiny(n_conv: int, n_turns: int, text_a: str, text_u: str) -> pl.DataFrame:
    rows = []
    for c in range(n_conv):
        for t in range(n_turns):
            user = t % 2 == 0
            rows.append(
                {
                    "conversation_id": f"c{c}",
                    "conversation_index": c,
                    "turn": t,
                    "role": "user" if user else "assistant",
                    "text": text_u if user else text_a,
                    "timestamp": None,
                    "source": "mem",
                    "format": "hand",
                }
            )
    return pl.DataFrame(rows)


CORPORA = {
    "one_short_conversation": lambda: _tiny(1, 4, "Perhaps. I hope this helps!", "Stop hedging."),
    "no_slips": lambda: _tiny(3, 10, "The answer is 4.", "Thanks."),
    "claude_sample": lambda: tk.read(ROOT / "transcripts" / "ember-claude" / "conversations.json"),
    "plain_sample": lambda: tk.read(ROOT / "transcripts" / "ember-plain.txt"),
}


@pytest.mark.parametrize("name", sorted(CORPORA))
def test_companions_survive_small_corpora(name: str) -> None:
    turns = CORPORA[name]()
    tags = tk.tag(turns, persona=["Ember"])
    result = tk.recurrence(turns, tags, n_permutations=20)
    slips = set(tags.filter(pl.col("category").is_in(tk.SLIP_CATEGORIES))["category"])
    # one block of rows per slip category present in the tags (none: an empty frame)
    assert set(result["category"]) == slips
    if slips:
        assert set(result["estimator"]) >= {"naive_pre_post", "matched", "placebo"}
    nan_rows = result.filter(pl.col("rate_ratio").is_nan())
    assert nan_rows["note"].is_not_null().all()
    for frame in (
        tk.decay(turns, tags),
        tk.carryover(turns, tags),
        tk.spillover(turns, tags),
    ):
        assert isinstance(frame, pl.DataFrame)
    assert tk.verdicts(result).height == result["category"].n_unique()
