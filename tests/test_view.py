import time
from html.parser import HTMLParser

import polars as pl
import pytest

from toolkit.view import TranscriptView, view

VOID = {"input", "br", "meta", "img", "hr", "link"}


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
            "source": ["f.json"] * len(rows),
            "format": ["test"] * len(rows),
        }
    )


def _tags(rows: list[tuple]) -> pl.DataFrame:
    """rows: (conversation_id, turn, role, category, start, end, target, text)."""
    return pl.DataFrame(
        {
            "conversation_id": [r[0] for r in rows],
            "conversation_index": [0] * len(rows),
            "turn": [r[1] for r in rows],
            "role": [r[2] for r in rows],
            "category": [r[3] for r in rows],
            "subtype": [f"{r[3]}.x" for r in rows],
            "target": [r[6] for r in rows],
            "start": [r[4] for r in rows],
            "end": [r[5] for r in rows],
            "match": [r[7][r[4] : r[5]] for r in rows],
        },
        schema_overrides={"target": pl.String},
    )


class _Doc(HTMLParser):
    """Checks nesting and collects each turn's text and its marks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags_seen: list[str] = []
        self.ids: set[str] = set()
        self.hrefs: list[str] = []
        self.texts: dict[str, str] = {}
        self.marks: dict[str, list[tuple[str, str]]] = {}
        self._turn: str | None = None
        self._in_text = 0
        self._mark: str | None = None
        self._mark_text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags_seen.append(tag)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])
        if tag in VOID:
            return
        self.stack.append(tag)
        cls = a.get("class") or ""
        if tag == "div" and "tk-turn" in cls.split():
            self._turn = a["data-turn"]
            self.texts[self._turn] = ""
            self.marks[self._turn] = []
        if tag == "div" and cls == "tk-text":
            self._in_text = len(self.stack)
        if tag == "mark":
            assert self._mark is None, "nested <mark>"
            self._mark = a["data-category"]
            self._mark_text = ""

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        assert self.stack, f"stray </{tag}>"
        top = self.stack.pop()
        assert top == tag, f"</{tag}> closes <{top}>"
        if tag == "mark":
            self.marks[self._turn].append((self._mark_text, self._mark))
            self._mark = None
        if self._in_text and len(self.stack) < self._in_text:
            self._in_text = 0

    def handle_data(self, data):
        if self._in_text and self._turn is not None:
            self.texts[self._turn] += data
            if self._mark is not None:
                self._mark_text += data


def _parse(html: str) -> _Doc:
    doc = _Doc()
    doc.feed(html)
    doc.close()
    assert doc.stack == [], f"unclosed {doc.stack}"
    return doc


EVIL = [
    "hi <script>alert(1)</script> there",
    'ok "><img src=x onerror=alert(1)> <b>bold</b> & done',
    "</div></mark><script>alert('x')</script><style>body{display:none}</style>",
]


def test_transcript_text_is_escaped():
    turns = _turns(
        [
            ("<script>c</script>", 0, 0, "user", EVIL[0]),
            ("<script>c</script>", 0, 1, "assistant", EVIL[1]),
            ("<script>c</script>", 0, 2, "user", EVIL[2]),
        ]
    )
    tags = _tags(
        [
            ("<script>c</script>", 1, "assistant", "hedge", 3, 12, None, EVIL[1]),
            ("<script>c</script>", 1, "assistant", '"><script>x', 5, 20, None, EVIL[1]),
            (
                "<script>c</script>",
                2,
                "user",
                "correction",
                0,
                14,
                "<img src=y>",
                EVIL[2],
            ),
        ]
    )
    html = view(turns, tags, persona="<script>p</script>").to_html(full_page=True)
    low = html.lower()
    assert "<script" not in low
    assert "<img" not in low
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    doc = _parse(html)
    assert "script" not in doc.tags_seen and "img" not in doc.tags_seen
    assert doc.tags_seen.count("style") == 1  # only our own stylesheet
    # the visible text of every turn is exactly the transcript text
    assert [doc.texts[str(i)] for i in range(3)] == EVIL


def test_overlapping_spans_split_into_flat_segments():
    text = "abcdefghij"
    turns = _turns([("c", 0, 0, "assistant", text)])
    tags = _tags(
        [
            ("c", 0, "assistant", "hedge", 1, 6, None, text),
            ("c", 0, "assistant", "disclaimer", 4, 8, None, text),
            ("c", 0, "assistant", "hedge", 2, 3, None, text),  # nested in the first
        ]
    )
    doc = _parse(view(turns, tags).to_html())
    assert doc.texts["0"] == text
    assert doc.marks["0"] == [
        ("b", "hedge"),
        ("c", "hedge"),
        ("d", "hedge"),
        ("ef", "hedge disclaimer"),
        ("gh", "disclaimer"),
    ]


def test_output_is_deterministic_and_order_free():
    text = "Perhaps, as an AI, I might not."
    turns = _turns([("c", 0, 0, "user", "q"), ("c", 0, 1, "assistant", text)])
    rows = [
        ("c", 1, "assistant", "hedge", 0, 7, None, text),
        ("c", 1, "assistant", "ai_self_reference", 9, 17, None, text),
        ("c", 1, "assistant", "hedge", 21, 26, None, text),
    ]
    a = view(turns, _tags(rows)).to_html()
    b = view(turns.reverse(), _tags(rows[::-1])).to_html()
    assert a == b
    assert view(turns, _tags(rows))._repr_html_() == a


def _long(n: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "conversation_id": ["long"] * n,
            "conversation_index": [0] * n,
            "turn": list(range(n)),
            "role": ["user", "assistant"] * (n // 2),
            "text": [f"message number {i}" for i in range(n)],
            "timestamp": [None] * n,
            "source": ["f"] * n,
            "format": ["x"] * n,
        }
    )


def test_paging_renders_only_one_page():
    turns = _long(5000)
    tags = _tags(
        [
            ("long", i, "assistant", "hedge", 0, 7, None, "message")
            for i in range(1, 5000, 2)
        ]
    )
    t0 = time.perf_counter()
    v = view(turns, tags, page=1)
    html = v.to_html()
    elapsed = time.perf_counter() - t0
    assert "turns 200–399 of 5,000, page 2/25" in html
    doc = _parse(html)
    assert sorted(int(t) for t in doc.texts) == list(range(200, 400))
    assert html.count("<mark") == 100
    assert elapsed < 3.0
    last = v.with_page(24)
    assert last.header() == "turns 4,800–4,999 of 5,000, page 25/25"
    with pytest.raises(ValueError, match="page"):
        view(turns, page=25)


def test_filters_conversation_turn_range_and_categories():
    turns = _turns(
        [("a", 0, i, "assistant", f"maybe sorry {i}") for i in range(6)]
        + [("b", 1, i, "assistant", f"maybe sorry {i}") for i in range(3)]
    )
    tags = _tags(
        [
            (c, i, "assistant", "hedge", 0, 5, None, "maybe sorry")
            for c, n in (("a", 6), ("b", 3))
            for i in range(n)
        ]
        + [
            ("a", i, "assistant", "sycophancy", 6, 11, None, "maybe sorry")
            for i in range(6)
        ]
    )
    v = view(turns, tags, conversation="a", turns_range=(2, 4), categories=["hedge"])
    html = v.to_html()
    doc = _parse(html)
    assert sorted(doc.texts) == ["2", "3"]
    assert all(cat == "hedge" for marks in doc.marks.values() for _, cat in marks)
    assert "sycophancy" not in html
    assert v.total == 2
    both = _parse(view(turns, tags).to_html())
    assert len(both.texts) == 6  # turn numbers 0-5 overlap between a and b
    assert view(turns, tags).total == 9
    with pytest.raises(ValueError, match="zzz"):
        view(turns, tags, conversation="zzz")


def test_correction_links_to_previous_assistant_turn_without_pairs():
    turns = _turns(
        [
            ("c", 0, 0, "user", "hello"),
            ("c", 0, 1, "assistant", "I might be wrong, maybe."),
            ("c", 0, 2, "system", "note"),
            ("c", 0, 3, "user", "stop hedging"),
            ("c", 0, 4, "assistant", "Fine."),
        ]
    )
    tags = _tags(
        [
            ("c", 1, "assistant", "hedge", 18, 23, None, "I might be wrong, maybe."),
            ("c", 3, "user", "correction", 0, 12, "hedge", "stop hedging"),
        ]
    )
    v = view(turns, tags)
    html = v.to_html()
    doc = _parse(html)
    anchor_1 = next(i for i in doc.ids if i.endswith("-t1"))
    anchor_3 = next(i for i in doc.ids if i.endswith("-t3"))
    assert f"#{anchor_1}" in doc.hrefs
    assert f"#{anchor_3}" in doc.hrefs  # back-link from the slip to its correction
    assert "→ hedge slip at turn 1" in html
    assert "corrected at turn 3" in html
    for href in doc.hrefs:
        assert href[1:] in doc.ids


def test_correction_links_follow_pairs_and_pages():
    turns = _turns(
        [("c", 0, i, "assistant" if i % 2 else "user", f"t{i}") for i in range(8)]
    )
    tags = _tags([("c", 6, "user", "correction", 0, 2, "refusal", "t6")])
    pairs = pl.DataFrame(
        {
            "conversation_id": ["c", "c"],
            "correction_turn": [6, 6],
            "slip_turn": [1, 5],
            "category": ["refusal", "refusal"],
            "distance": [3, 1],
            "basis": ["quote", "adjacent"],
            "outcome": ["none", "none"],
        }
    )
    v = view(turns, tags, pairs=pairs, page_size=4, page=1)
    html = v.to_html()
    doc = _parse(html)
    anchor_5 = next(i for i in doc.ids if i.endswith("-t5"))
    assert f"#{anchor_5}" in doc.hrefs
    assert "→ refusal slip at turn 1 (page 1)" in html  # other page: no anchor
    assert not any(h.endswith("-t1") for h in doc.hrefs)
    # the previous assistant turn (5) is not linked twice, and turn 3 not at all
    assert "slip at turn 3" not in html


def test_redaction_at_render_keeps_spans_aligned():
    cid = "chat with ann@x.org"
    text = "Ann wrote to ann@x.org, maybe call +1 415 555 0100; Ember agrees."
    turns = _turns([(cid, 0, 0, "user", text), (cid, 0, 1, "assistant", "Sure, Ann.")])
    m = text.index("maybe")
    tags = _tags(
        [
            (cid, 0, "user", "hedge", m, m + 5, None, text),
            (
                cid,
                0,
                "user",
                "booster",
                text.index("ann@"),
                text.index(", maybe"),
                None,
                text,
            ),
        ]
    )
    v = view(turns, tags, redact=["Ann", "Ember"], persona=["Ember"])
    html = v.to_html()
    doc = _parse(html)
    assert "ann@x.org" not in html and "555 0100" not in html  # text and id
    assert "chat with [EMAIL]" in html
    assert (
        doc.texts["0"] == "[NAME] wrote to [EMAIL], maybe call [PHONE]; Ember agrees."
    )
    assert doc.texts["1"] == "Sure, [NAME]."
    assert doc.marks["0"] == [("[EMAIL]", "booster"), ("maybe", "hedge")]
    plain = _parse(view(turns, tags).to_html())
    assert plain.texts["0"] == text


def test_roles_legend_and_plain_text():
    turns = _turns(
        [
            ("c", 0, 0, "system", "be nice"),
            ("c", 0, 1, "user", "hi"),
            ("c", 0, 2, "assistant", "hello"),
            ("c", 0, 3, "tool", "{}"),
        ]
    )
    html = view(turns, persona="Ember").to_html(full_page=True)
    assert html.startswith("<!doctype html>")
    for role in ("system", "user", "assistant", "tool"):
        assert f'class="tk-turn tk-{role}"' in html
    assert "Ember (assistant)" in html
    assert "http" not in html and "src=" not in html  # nothing fetched from a network
    tags = _tags([("c", 2, "assistant", "identity", 0, 5, None, "hello")])
    v = view(turns, tags)
    assert isinstance(v, TranscriptView)
    html = v.to_html()
    assert ">identity</label>" in html
    # CSS-only filter: the box precedes legend and body, a rule unhighlights the marks
    (box_id,) = [i for i in _parse(html).ids if i.endswith("-cb-identity")]
    box = html.index(f'<input type="checkbox" class="tk-cb" id="{box_id}" checked')
    assert (
        box
        < html.index('<div class="tk-legend">')
        < html.index('<div class="tk-body">')
    )
    assert f'<label for="{box_id}"' in html
    assert (
        f"#{box_id}:not(:checked)~.tk-body mark.tk-c-identity{{background:none" in html
    )
    assert 'class="tk-c-identity" data-category="identity"' in html


def test_missing_columns_are_named():
    turns = _turns([("c", 0, 0, "user", "x")])
    with pytest.raises(ValueError, match="'text'"):
        view(turns.drop("text"))
    with pytest.raises(ValueError, match="'start'"):
        view(turns, _tags([("c", 0, "user", "hedge", 0, 1, None, "x")]).drop("start"))
