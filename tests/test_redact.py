import polars as pl
import pytest

from toolkit.redact import pii_spans, redact, redact_tags, redact_text


def _turns(texts: list[str]) -> pl.DataFrame:
    n = len(texts)
    return pl.DataFrame(
        {
            "conversation_id": ["c"] * n,
            "conversation_index": [0] * n,
            "turn": list(range(n)),
            "role": ["user", "assistant"] * (n // 2) + ["user"] * (n % 2),
            "text": texts,
            "timestamp": [None] * n,
            "source": ["f.txt"] * n,
            "format": ["plain"] * n,
        }
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to ann.lee+work@mail.example.co.uk today", "write to [EMAIL] today"),
        ("Call 555-123-4567.", "Call [PHONE]."),
        ("Call (555) 123-4567 now", "Call [PHONE] now"),
        ("ring +44 20 7946 0958", "ring [PHONE]"),
        ("tel 555.123.4567", "tel [PHONE]"),
        ("office 020 7946 0958, ext", "office [PHONE], ext"),
        ("local 555-1234 only", "local [PHONE] only"),
        ("toll free 1-800-555-0100.", "toll free [PHONE]."),
        ("Paris 01 23 45 67 89", "Paris [PHONE]"),
        ("UK 01632 960983", "UK [PHONE]"),
        ("see https://example.com/a/b?x=1&y=2.", "see [URL]."),
        ("(docs at www.example.org/page)", "(docs at [URL])"),
        ("http://intranet:8080/x, then", "[URL], then"),
    ],
)
def test_redacts_each_kind(text, expected):
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Python 3.11.7 and polars 2.1.0",
        "build 10.0.19045.1234",
        "released 2024-01-15, again on 15.01.2024 and 01/15/2024",
        "at 2024-01-15 10:30 UTC, or 2024-01-15T10:30:00Z",
        "on 05 12 2023 we met",
        "scores 12 15 18 20 22",
        "ids 100-200-300 and ISBN 978-3-16-148410-0",
        "the date 2023 12 04 in a log",
        "server 192.168.100.12 is down",
        "pi is 3.14159265358",
        "between 1990-2000 prices rose",
        "unix time 1700000000 and order 5551234567",
        "at 12:30:45 sharp",
        "costs $1,234,567.89",
        "user@ handle and @someone",
    ],
)
def test_hard_negatives_are_left_alone(text):
    assert redact_text(text) == text
    assert pii_spans(text) == []


def test_names_whole_words_case_insensitive():
    text = "Ann said: ann's Annual report, by ANN and Joanna."
    out = redact_text(text, names=["Ann", "Jo"])
    assert out == "[NAME] said: [NAME]'s Annual report, by [NAME] and Joanna."


def test_kinds_can_be_switched_off():
    text = "mail a@b.org, call +1 415 555 0100, see https://x.org"
    assert redact_text(text, emails=False, phones=False, urls=False) == text
    assert (
        redact_text(text, phones=False)
        == "mail [EMAIL], call +1 415 555 0100, see [URL]"
    )


def test_url_wins_over_email_and_phone_inside_it():
    text = "go https://x.org/u?mail=a@b.org&tel=555-123-4567 ok"
    assert redact_text(text) == "go [URL] ok"


def test_redact_frame_changes_only_text():
    turns = _turns(["I'm Bo, bo@x.io", "Hello Bo, noted.", None])  # type: ignore[list-item]
    out = redact(turns, names=["Bo"])
    assert out["text"].to_list() == [
        "I'm [NAME], [EMAIL]",
        "Hello [NAME], noted.",
        None,
    ]
    assert out.drop("text").equals(turns.drop("text").with_columns(out["role"]))
    assert turns["text"][0] == "I'm Bo, bo@x.io"  # input untouched


def test_redact_names_missing_column():
    with pytest.raises(ValueError, match="'text'"):
        redact(_turns(["x"]).drop("text"))


def _tags(rows: list[tuple[int, int, int, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "conversation_id": ["c"] * len(rows),
            "conversation_index": [0] * len(rows),
            "turn": [r[0] for r in rows],
            "role": ["assistant"] * len(rows),
            "category": ["hedge"] * len(rows),
            "subtype": ["h"] * len(rows),
            "target": [None] * len(rows),
            "start": [r[1] for r in rows],
            "end": [r[2] for r in rows],
            "match": [r[3] for r in rows],
        }
    )


def test_redact_tags_realigns_offsets():
    text = "call +1 415 555 0100 now, perhaps later; mail a@b.org maybe"
    turns = _turns(["q", text])
    p = text.index("perhaps")
    m = text.index("maybe")
    ph = text.index("555 0100")
    tags = _tags(
        [
            (1, p, p + 7, "perhaps"),
            (1, m, m + 5, "maybe"),
            (1, ph, text.index(" now") + 4, "555 0100 now"),  # starts inside the phone
        ]
    )
    red_turns = redact(turns)
    red_text = red_turns["text"][1]
    assert red_text == "call [PHONE] now, perhaps later; mail [EMAIL] maybe"
    out = redact_tags(tags, turns)
    got = list(out.select("start", "end", "match").iter_rows())
    rp = red_text.index("perhaps")
    rm = red_text.index("maybe")
    assert got == [
        (rp, rp + 7, "perhaps"),
        (rm, rm + 5, "maybe"),
        (5, 16, "[PHONE] now"),
    ]
    for s, e, match in got:
        assert red_text[s:e] == match
