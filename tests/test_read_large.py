"""Large-file path of ``read``: the top-level array splitter, the record-at-a-time
readers, batched TURNS assembly and the text-cleaning precheck all give exactly what
the whole-file path gives; bad input still ends in ParseError naming a place."""

from __future__ import annotations

import importlib
import json
import zipfile
from pathlib import Path

import orjson
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.readers._common import ParseError
from toolkit.readers._split import array_values, split_array

R = importlib.import_module("toolkit.read")  # the module (``toolkit.read`` is also a function)
F = Path(__file__).resolve().parents[1] / "transcripts" / "formats"

TRICKY = [
    b"[]",
    b" \r\n[ ]\n",
    b'[{"a": "x, ] } [ {"}, [1, [2, [3]], {"b": []}], 3, "s", null, true]',
    b'["quote \\" inside", "backslash \\\\", "both \\\\\\" end", "\\\\\\\\"]',
    b'["\\u005d\\u0022\\u005b", "\\ud83d\\ude00", "caf\\u00e9", "\\/\\b\\f\\n\\r\\t"]',
    '["caf\u00e9 \u4f60\u597d \U0001f600", {"k\u00e9y": ["\u3010\u2020\u3011"]}]'.encode(),
    b'[[[[[]]]], {"": {"": {"": ""}}}, ",", "]", "[", "{", "}", ":"]',
    b'[\n  {\n    "a": 1\n  },\n  {\n    "b": "\\\\"\n  }\n]\n',
    b'[1.5e3, -0, 12345678901234567890, "x"]',
]


def _chunks(doc: bytes, size: int) -> list[bytes]:
    return [doc[i : i + size] for i in range(0, len(doc), size)] or [b""]


def _values(doc: bytes, size: int) -> list[object]:
    return [v for _, v in array_values(_chunks(doc, size), "f.json")]


@pytest.mark.parametrize("doc", TRICKY)
def test_splitter_equals_whole_parse_at_every_chunk_size(doc):
    want = orjson.loads(doc)
    for size in [*range(1, 9), 13, len(doc) + 1]:
        assert _values(doc, size) == want, size


def test_split_offsets_point_at_the_elements():
    doc = b'[ {"a": 1},\n"b" ,[2]]'
    got = list(split_array(_chunks(doc, 4), "f.json"))
    assert [raw.strip() for _, raw in got] == [b'{"a": 1}', b'"b"', b"[2]"]
    assert [off for off, _ in got] == [1, 11, 17]
    assert [doc[off:].lstrip()[:1] for off, _ in got] == [b"{", b'"', b"["]


def test_backslash_at_every_chunk_boundary():
    # an escaped quote, an escaped backslash before a closing quote, and runs of 3 and 4
    doc = b'["a\\"]", "b\\\\", "c\\\\\\"]", "d\\\\\\\\", "e"]'
    want = ['a"]', "b\\", 'c\\"]', "d\\\\", "e"]
    for cut in range(1, len(doc)):
        assert [v for _, v in array_values([doc[:cut], doc[cut:]], "f")] == want, cut


def test_one_large_element_in_many_small_chunks():
    text = ('{"x": "]\\"[", "y": [1, {"z": "\\\\"}]} ' * 20_000).strip()
    doc = ('[{"big": "' + text.replace("\\", "\\\\").replace('"', '\\"') + '"}, 2]').encode()
    got = _values(doc, 4096)
    assert got == [{"big": text}, 2]


_text = st.text(alphabet=st.sampled_from(list('ab"\\[]{},: \n\u00e9\u4f60\U0001f600\u0301')), max_size=12)
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | _text,
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(_text, kids, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arr=st.lists(_json, max_size=6), ascii_only=st.booleans(), indent=st.sampled_from([None, 1]),
       size=st.integers(1, 40))
def test_splitter_property_equals_orjson(arr, ascii_only, indent, size):
    doc = json.dumps(arr, ensure_ascii=ascii_only, indent=indent).encode()
    assert _values(doc, size) == arr


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arr=st.lists(_json, min_size=1, max_size=4), data=st.data())
def test_broken_documents_raise_parse_error(arr, data):
    doc = json.dumps(arr).encode()
    cut = data.draw(st.integers(0, len(doc) - 1))
    with pytest.raises(ParseError) as err:
        _values(doc[:cut], data.draw(st.integers(1, 16)))  # every proper prefix is truncated
    assert err.value.source == "f.json"
    assert "byte" in err.value.place


@pytest.mark.parametrize(("doc", "place", "expected"), [
    (b'[{"a": 1}, {"b": ', "$[1], byte 17", "unexpected end of data"),
    (b"[1, 2", "byte 5 (inside $[1])", "truncated"),
    (b"[1,,2]", "byte 3", "a value for element $[1]"),
    (b"[1,]", "byte 3", "a value for element $[1]"),
    (b"[1 2]", "$[0], byte 3", "valid JSON"),
    (b"[1] x", "byte 4", "only whitespace"),
    (b"x [1]", "byte 0", "only whitespace"),
    (b'{"a": [1]}', "byte 0", "a JSON array"),
    (b'[{"a":}]', "$[0], byte 6", "valid JSON"),
    ('["\u00e9\u00e9", {"a": x}]'.encode(), "$[1], byte 15", "valid JSON"),
    (b"", "byte 0 (inside $)", "truncated"),
    (b"[", "byte 1 (inside $[0])", "truncated"),
    (b'["abc', "$[0], byte 5", "end of data"),
])
def test_bad_input_names_the_place(doc, place, expected):
    for size in (1, 3, 64):
        with pytest.raises(ParseError) as err:
            _values(doc, size)
        assert err.value.place == place
        assert expected in err.value.expected


# -- read(): the large-file path against the whole-file path ----------------------

def _both(monkeypatch, source, **kw):
    """``read`` through the large-file path (threshold 0, tiny batches) and the
    whole-file path, checking that the large path was really taken."""
    calls: list[bool] = []
    real = R._stream

    def spy(*a, **k):
        calls.append(real(*a, **k))
        return calls[-1]

    monkeypatch.setattr(R, "_stream", spy)
    monkeypatch.setattr(R, "_STREAM_MIN", 0)
    monkeypatch.setattr(R, "_BATCH_ROWS", 2)
    monkeypatch.setattr(R, "_PRECHECK_ROWS", 0)
    try:
        big = R.read(source, report=True, **kw)
    finally:
        monkeypatch.setattr(R, "_STREAM_MIN", 1 << 60)
        monkeypatch.setattr(R, "_BATCH_ROWS", 1 << 14)
        monkeypatch.setattr(R, "_PRECHECK_ROWS", 1 << 60)
    small = R.read(source, report=True, **kw)
    return big, small, calls


def _same(a, b):
    assert a.turns.equals(b.turns)
    assert a.skipped.equals(b.skipped)
    assert a.notes.equals(b.notes)
    assert a.detections.equals(b.detections)


def _conv(cid, t0, texts, *, current="n2"):
    """A ChatGPT conversation: null root, hidden system node, user/assistant chain,
    and an abandoned sibling of the first reply."""
    m = {"root": {"id": "root", "message": None, "parent": None, "children": ["sys"]},
         "sys": {"id": "sys", "parent": "root", "children": ["n0"], "message": {
             "author": {"role": "system"}, "content": {"content_type": "text", "parts": [""]},
             "metadata": {"is_visually_hidden_from_conversation": True}}}}
    parent = "sys"
    for i, text in enumerate(texts):
        nid = f"n{i}"
        m[nid] = {"id": nid, "parent": parent, "children": [], "message": {
            "author": {"role": "user" if i % 2 == 0 else "assistant"}, "create_time": t0 + i,
            "content": {"content_type": "text", "parts": [text]}, "metadata": {}}}
        m[parent]["children"].append(nid)
        parent = nid
    m["alt"] = {"id": "alt", "parent": "n0", "children": [], "message": {
        "author": {"role": "assistant"}, "create_time": t0 + 5,
        "content": {"content_type": "text", "parts": ["abandoned ] reply"]}, "metadata": {}}}
    m["n0"]["children"].append("alt")
    return {"id": cid, "create_time": t0, "current_node": current, "mapping": m}


TEXTS = ['He said "stop" [1]', "C:\\path\\ and {braces}, e\u0301 \u3010cite\u2020src\u3011 \U0001f600",
         "\u1100\u1161 ok \ue200cite\ue202x\ue201!"]


@pytest.fixture
def export(tmp_path):
    convs = [_conv("c-late", 1_700_000_000, TEXTS), _conv("c-early", 1_600_000_000, TEXTS[:2], current="n1")]
    p = tmp_path / "conversations.json"
    p.write_bytes(b"\xef\xbb\xbf" + json.dumps(convs, ensure_ascii=False, indent=1).encode())
    return p


def test_large_path_known_answer(monkeypatch, export):
    big, small, calls = _both(monkeypatch, export)
    assert calls == [True]
    _same(big, small)
    t = big.turns
    assert t.select("conversation_id", "conversation_index", "turn", "role").rows() == [
        ("c-early", 0, 0, "user"), ("c-early", 0, 1, "assistant"),
        ("c-late", 1, 0, "user"), ("c-late", 1, 1, "assistant"), ("c-late", 1, 2, "user")]
    assert t["text"].to_list()[2:] == ['He said "stop" [1]', "C:\\path\\ and {braces}, \u00e9  \U0001f600",
                                       "\uac00 ok !"]
    kinds = dict(big.skipped.group_by("kind").agg(pl.col("count").sum()).iter_rows())
    assert kinds == {"hidden_scaffolding": 2, "inactive_branch": 2}


def test_large_path_all_branches_and_hidden(monkeypatch, export):
    big, small, calls = _both(monkeypatch, export, branch="all", include_hidden=True)
    assert calls == [True]
    _same(big, small)
    assert big.turns.filter(conversation_id="c-late")["branch"].unique().sort().to_list() == ["alt", "n2"]


@pytest.mark.parametrize("name", ["chatgpt_conversations.json", "claude_conversations.json",
                                  "chatgpt_export.zip", "claude_export.zip", "sharegpt.json"])
def test_large_path_equals_whole_path_on_fixtures(monkeypatch, name):
    for branch in ("active", "all"):
        big, small, calls = _both(monkeypatch, F / name, branch=branch)
        _same(big, small)
        # sharegpt has no record reader: the large path declines and nothing differs
        assert calls == ([False] if name == "sharegpt.json" else [True])


def test_error_in_a_later_record_is_the_whole_path_error(monkeypatch, export):
    convs = json.loads(export.read_bytes().decode("utf-8-sig"))
    convs[1]["mapping"]["n1"]["message"]["author"] = "bot"
    export.write_text(json.dumps(convs))
    monkeypatch.setattr(R, "_STREAM_MIN", 0)
    with pytest.raises(ParseError) as err:
        R.read(export)
    assert err.value.place == '$[1].mapping["n1"].message.author'
    assert str(export) in str(err.value)


def test_truncated_large_file_raises_with_place(monkeypatch, export):
    data = export.read_bytes()
    export.write_bytes(data[: len(data) * 2 // 3])
    monkeypatch.setattr(R, "_STREAM_MIN", 0)
    with pytest.raises(ParseError) as err:
        R.read(export)
    assert err.value.source == str(export)
    assert "line" in err.value.place or "byte" in err.value.place


def test_failed_large_file_in_a_folder_rolls_back(monkeypatch, export, tmp_path):
    (tmp_path / "chat.txt").write_text("User: hi\nAssistant: hello\n")
    convs = json.loads(export.read_bytes().decode("utf-8-sig"))
    export.write_text(json.dumps(convs)[:-40])  # the first record reads, the second is cut
    big, small, calls = _both(monkeypatch, tmp_path, format="chatgpt")
    assert calls == [False]
    _same(big, small)  # nothing of the first record is left behind
    assert big.turns.height == 0
    assert big.skipped.filter(kind="unrecognised_file").height == 2


def test_big_zip_member(monkeypatch, tmp_path, export):
    z = tmp_path / "export.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(export, "conversations.json")
        zf.writestr("chat.html", "<html></html>")
    big, small, calls = _both(monkeypatch, z)
    assert calls == [True]
    _same(big, small)
    assert big.turns.height == 5


# -- text cleaning precheck ------------------------------------------------------

CLEAN_CASES = {
    "plain ascii": "plain ascii",
    "caf\u00e9 \u2713 \u4f60\u597d \U0001f600 \u200d": "caf\u00e9 \u2713 \u4f60\u597d \U0001f600 \u200d",
    "e\u0301": "\u00e9",
    "\u212b": "\u00c5",  # singleton decomposition
    "\u1100\u1161\u11a8": "\uac01",  # Hangul jamo compose
    "\uac00\u11a8": "\uac01",  # LV syllable + trailing jamo
    "q\u0307\u0323": "q\u0323\u0307",  # combining marks reordered
    "x \ue200cite\ue202turn0\ue201 y": "x  y",
    "a \u30101\u2020source\u3011 b": "a  b",
    "\u3010kept\u3011 \ue000": "\u3010kept\u3011 \ue000",
}


def test_clean_text_known_answers_with_and_without_precheck():
    s = pl.Series(list(CLEAN_CASES))
    want = list(CLEAN_CASES.values())
    assert R._clean_text(s, precheck=True).to_list() == want
    assert R._clean_text(s, precheck=False).to_list() == want


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(st.text(max_size=12) | st.text(
    alphabet=st.sampled_from(list("ae\u0301\u0323\u0307\u1100\u1161\u11a8\uac00\u212b\ue200\ue201"
                                  "\u3010\u3011\u2020\u00e9\u4f60 \U0001f600")), max_size=12),
    max_size=8))
def test_clean_text_precheck_changes_nothing(texts):
    s = pl.Series(texts, dtype=pl.String)
    assert R._clean_text(s, precheck=True).to_list() == R._clean_text(s, precheck=False).to_list()
