"""Same-length masking: offsets survive, code/quotes/URLs are blanked."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.masking import FILL, mask, normalise

PIECES = st.sampled_from(
    [
        "I can't help", " ", "\n", "`x = 1`", "```py\nprint('I cannot')\n```", "> quoted line\n",
        "https://example.com/a?b=c", '"She said I won\u2019t go"', "\u201cto be\u201d", "\U0001f600",
        "\U0001f468\u200d\U0001f469\u200d\U0001f467", "\u4f60\u597d", "caf\u00e9", "e\u0301", "I\u2019m",
        "~~~\ncode\n~~~", "`", '"', "www.x.org", ".", "!",
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(PIECES | st.text(max_size=6), max_size=12).map("".join), max_size=8))
def test_mask_keeps_character_length(texts: list[str]) -> None:
    out = mask(pl.Series(texts, dtype=pl.String)).to_list()
    assert [len(t) for t in texts] == [len(t) for t in out]
    # unmasked characters are the normalised input characters
    norm = pl.select(normalise(pl.lit(pl.Series(texts, dtype=pl.String)))).to_series().to_list()
    for n, m in zip(norm, out, strict=True):
        assert all(a == b or b == FILL for a, b in zip(n, m, strict=True))


def test_what_is_masked() -> None:
    texts = [
        "Use `I can't` here",
        "```\nI cannot do that\n```\nDone.",
        "> I'm sorry, but I can't\nreply",
        "See https://x.org/I-cannot now",
        'He said "I can\'t help you" loudly',
        "No quotes here, I can't help",
        "unclosed ```\nI cannot",
    ]
    out = [s.replace(FILL, "#") for s in mask(pl.Series(texts)).to_list()]
    def h(s: str) -> str:
        return "#" * len(s)

    assert out == [
        "Use " + h("`I can't`") + " here",
        h("```\nI cannot do that\n```") + "\nDone.",
        h("> I'm sorry, but I can't") + "\nreply",
        "See " + h("https://x.org/I-cannot") + " now",
        "He said " + h('"I can\'t help you"') + " loudly",
        "No quotes here, I can't help",
        "unclosed " + h("```\nI cannot"),
    ]


def test_nulls_and_curly_apostrophes() -> None:
    out = mask(pl.Series(["I\u2019m \u201cok\u201d", None, "plain"])).to_list()
    assert out[0] == "I'm " + FILL * 4
    assert out[1] is None
    assert out[2] == "plain"
