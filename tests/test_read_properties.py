"""Property tests: arbitrary bytes, arbitrary JSON and mutated fixtures give either a
valid TURNS frame or ParseError, nothing else."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import orjson
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.read import ParseError, read
from toolkit.schema import TURNS

F = Path(__file__).resolve().parents[1] / "transcripts" / "formats"
_DIR = Path(tempfile.mkdtemp(prefix="tk-read-prop-"))
atexit.register(shutil.rmtree, _DIR, True)

_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(
        st.sampled_from(["mapping", "current_node", "create_time", "chat_messages", "uuid",
                         "conversations", "from", "value", "messages", "role", "content",
                         "chosen", "rejected", "eval", "version", "samples", "message_tree_id",
                         "replies", "text", "parent", "children", "message", "author", "parts",
                         "sender", "input", "output", "id"]) | st.text(max_size=5),
        kids, max_size=5),
    max_leaves=25,
)


def _check(data: bytes, name: str) -> None:
    p = _DIR / name
    p.write_bytes(data)
    try:
        df = read(p)
    except ParseError:
        return
    assert isinstance(df, pl.DataFrame)
    for col, dtype in TURNS.items():
        assert df.schema[col] == dtype
    assert df["turn"].min() in (0, None)


_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(st.binary(max_size=300))
def test_arbitrary_bytes(data):
    _check(data, "any.bin")


@_SETTINGS
@given(_json)
def test_arbitrary_json(value):
    _check(orjson.dumps(value), "any.json")


@_SETTINGS
@given(st.lists(_json, min_size=1, max_size=3))
def test_arbitrary_jsonl(values):
    _check(b"\n".join(orjson.dumps(v) for v in values), "any.jsonl")


_FIXTURES = sorted(p for p in F.iterdir() if p.suffix in (".json", ".jsonl", ".md", ".txt", ".html"))


@settings(max_examples=120, deadline=None)
@given(st.sampled_from(_FIXTURES), st.integers(0, 10_000), st.integers(0, 255),
       st.sampled_from(["cut", "flip", "insert"]))
def test_mutated_fixtures(path, at, byte, how):
    raw = path.read_bytes()
    i = at % (len(raw) + 1)
    if how == "cut":
        data = raw[:i]
    elif how == "flip":
        data = raw[:i] + bytes([byte]) + raw[i + 1 :]
    else:
        data = raw[:i] + bytes([byte]) + raw[i:]
    _check(data, "mut" + path.suffix)


_JSON_FIXTURES = sorted(p for p in F.iterdir() if p.suffix in (".json", ".jsonl"))


def _nodes(v: object, out: list[tuple[object, object]]) -> list[tuple[object, object]]:
    if isinstance(v, dict):
        for k, x in v.items():
            out.append((v, k))
            _nodes(x, out)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            out.append((v, i))
            _nodes(x, out)
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_JSON_FIXTURES), st.lists(st.tuples(st.integers(0, 10**6), _json), min_size=1, max_size=3))
def test_fixtures_with_values_replaced(path, edits):
    """Replace values deep inside real-shaped records: still TURNS or ParseError."""
    raw = path.read_bytes()
    docs = [orjson.loads(raw)] if path.suffix == ".json" else [orjson.loads(x) for x in raw.splitlines() if x.strip()]
    for at, value in edits:
        spots = _nodes(docs, [])
        parent, k = spots[at % len(spots)]
        parent[k] = value  # type: ignore[index]
    body = orjson.dumps(docs[0]) if path.suffix == ".json" else b"\n".join(orjson.dumps(d) for d in docs)
    _check(body, "edit" + path.suffix)
