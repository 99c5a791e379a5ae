"""Table schemas of the public contract (TURNS, TAGS, PAIRS, RESULT) and validation.

Every public function checks its input frames with :func:`validate` so that a wrong
frame fails at the door with a message naming the column, not deep inside polars.
"""

from __future__ import annotations

import polars as pl

__all__ = [
    "CATEGORIES",
    "PAIRS",
    "RESULT",
    "ROLES",
    "SLIP_CATEGORIES",
    "TAGS",
    "TURNS",
    "USER_CATEGORIES",
    "validate",
]

ROLES: tuple[str, ...] = ("user", "assistant", "system", "tool")
RoleEnum: pl.DataType = pl.Enum(list(ROLES))

SLIP_CATEGORIES: tuple[str, ...] = (
    "hedge",
    "disclaimer",
    "refusal",
    "boilerplate",
    "sycophancy",
    "ai_self_reference",
)
ASSISTANT_OTHER_CATEGORIES: tuple[str, ...] = (
    "identity",
    "meta_awareness",
    "acknowledgement",
    "resistance",
    "booster",
)
USER_CATEGORIES: tuple[str, ...] = ("correction", "manipulation", "pushback")
CATEGORIES: tuple[str, ...] = (
    SLIP_CATEGORIES + ASSISTANT_OTHER_CATEGORIES + USER_CATEGORIES
)

UTC: pl.DataType = pl.Datetime("us", "UTC")

TURNS = pl.Schema(
    {
        "conversation_id": pl.String(),
        "conversation_index": pl.Int64(),
        "turn": pl.Int64(),
        "role": RoleEnum,
        "text": pl.String(),
        "timestamp": UTC,
        "source": pl.String(),
        "format": pl.String(),
    }
)
"""TURNS: one row per visible turn (``model`` and ``branch`` are optional extras)."""

TAGS = pl.Schema(
    {
        "conversation_id": pl.String(),
        "conversation_index": pl.Int64(),
        "turn": pl.Int64(),
        "role": RoleEnum,
        "category": pl.String(),
        "subtype": pl.String(),
        "target": pl.String(),
        "start": pl.Int64(),
        "end": pl.Int64(),
        "match": pl.String(),
    }
)
"""TAGS: one row per matched span."""

PAIRS = pl.Schema(
    {
        "conversation_id": pl.String(),
        "correction_turn": pl.Int64(),
        "slip_turn": pl.Int64(),
        "category": pl.String(),
        "distance": pl.Int64(),
        "basis": pl.String(),
        "outcome": pl.String(),
    }
)
"""PAIRS: one row per correction -> slip link."""

RESULT = pl.Schema(
    {
        "category": pl.String(),
        "estimator": pl.String(),
        "n_corrections": pl.Int64(),
        "n_controls": pl.Int64(),
        "rate_ratio": pl.Float64(),
        "ci_low": pl.Float64(),
        "ci_high": pl.Float64(),
        "p_value": pl.Float64(),
        "p_holm": pl.Float64(),
    }
)
"""RESULT: one row per category and estimator."""

# dtypes accepted in place of the schema's, when checking *input* frames
_COMPATIBLE: dict[type[pl.DataType], tuple[type[pl.DataType], ...]] = {
    pl.Enum: (pl.String, pl.Categorical, pl.Enum),
    pl.Int64: (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32),
    pl.String: (pl.String, pl.Null),
    pl.Float64: (pl.Float32, pl.Float64),
}


def validate(
    df: object,
    schema: pl.Schema,
    name: str,
    *,
    optional: tuple[str, ...] = (),
    strict: bool = False,
) -> pl.DataFrame:
    """Check that ``df`` carries the columns of ``schema`` and return it cast to it.

    Parameters
    ----------
    df
        The frame to check.
    schema
        One of :data:`TURNS`, :data:`TAGS`, :data:`PAIRS`, :data:`RESULT`.
    name
        The table's name, used in error messages (``"TURNS"``).
    optional
        Columns of ``schema`` that may be missing; they are added as nulls.
    strict
        If true, dtypes must match exactly; otherwise compatible dtypes (e.g. a
        ``String`` role column, ``Int32`` offsets) are cast.

    Returns
    -------
    polars.DataFrame
        ``df`` with the schema's columns cast to the schema's dtypes; extra columns
        are kept.

    Raises
    ------
    ValueError
        Naming the missing or mistyped column.

    Examples
    --------
    >>> import polars as pl
    >>> from toolkit.schema import PAIRS, validate
    >>> validate(pl.DataFrame({"conversation_id": ["c"]}), PAIRS, "PAIRS")
    Traceback (most recent call last):
    ...
    ValueError: PAIRS is missing column(s) 'correction_turn', ...
    """
    if not isinstance(df, pl.DataFrame):
        raise ValueError(f"{name} must be a polars.DataFrame, got {type(df).__name__}")
    missing = [c for c in schema if c not in df.columns and c not in optional]
    if missing:
        listed = ", ".join(repr(c) for c in missing)
        raise ValueError(
            f"{name} is missing column(s) {listed}; expected columns {list(schema)}"
        )
    out = df
    for col, dtype in schema.items():
        if col not in out.columns:
            out = out.with_columns(pl.lit(None, dtype=dtype).alias(col))
            continue
        have = out.schema[col]
        if have == dtype:
            continue
        base = type(dtype) if isinstance(dtype, pl.Enum) else dtype.base_type()
        ok = (
            not strict
            and (
                have.base_type() in _COMPATIBLE.get(base, ())  # type: ignore[arg-type]
                or (isinstance(dtype, pl.Datetime) and isinstance(have, pl.Datetime))
                or have == pl.Null
            )
        )
        if not ok:
            raise ValueError(f"{name} column {col!r} has dtype {have}, expected {dtype}")
        try:
            if isinstance(dtype, pl.Datetime) and isinstance(have, pl.Datetime):
                if have.time_zone is None:
                    raise ValueError(
                        f"{name} column {col!r} is a naive Datetime; expected UTC"
                    )
                out = out.with_columns(pl.col(col).dt.convert_time_zone("UTC").cast(dtype))
            else:
                out = out.with_columns(pl.col(col).cast(dtype))
        except pl.exceptions.PolarsError as exc:
            raise ValueError(
                f"{name} column {col!r} cannot be read as {dtype}: {exc}"
            ) from None
    return out
