import polars as pl
import pytest

from toolkit.schema import TAGS, TURNS, validate


def _turns(**over: object) -> pl.DataFrame:
    base = {
        "conversation_id": ["c"],
        "conversation_index": [0],
        "turn": [0],
        "role": ["user"],
        "text": ["hi"],
        "timestamp": [None],
        "source": ["f.txt"],
        "format": ["plain"],
    }
    base.update(over)
    return pl.DataFrame(base)


def test_validate_casts_compatible_dtypes():
    out = validate(_turns(), TURNS, "TURNS")
    assert out.schema["role"] == TURNS["role"]
    assert out.schema["timestamp"] == TURNS["timestamp"]


def test_validate_names_missing_column():
    with pytest.raises(ValueError, match="'text'"):
        validate(_turns().drop("text"), TURNS, "TURNS")


def test_validate_rejects_unknown_role():
    with pytest.raises(ValueError, match="'role'"):
        validate(_turns(role=["bot"]), TURNS, "TURNS")


def test_validate_rejects_wrong_dtype():
    with pytest.raises(ValueError, match="'start'"):
        cols = {c: [0] if dt == pl.Int64 else ["x"] for c, dt in TAGS.items()}
        cols["role"] = ["user"]
        cols["start"] = ["seven"]
        validate(pl.DataFrame(cols), TAGS, "TAGS")


def test_validate_rejects_non_frame():
    with pytest.raises(ValueError, match=r"polars\.DataFrame"):
        validate({"a": 1}, TURNS, "TURNS")
