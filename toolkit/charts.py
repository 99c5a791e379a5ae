"""Altair chart builders: timeline, before/after rates, forest, Kaplan–Meier, decay, power, tagger.

Every function returns an Altair chart and never displays it. The data handed to
Altair is aggregated in polars first (one row per plotted mark, never one per turn),
sorted, and free of NaN (NaN becomes null), so ``chart.to_dict()`` is deterministic and
stays under Altair's 5,000-row limit. Colours come from colour-blind-safe palettes
(Okabe–Ito, Paul Tol) and are always doubled by position, shape or a label, so no
reading depends on colour alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import altair as alt
import numpy as np
import polars as pl

from toolkit.schema import CATEGORIES, RESULT, SLIP_CATEGORIES, TAGS, TURNS, validate
from toolkit.view import CATEGORY_COLOURS

__all__ = [
    "before_after_rates",
    "decay_chart",
    "forest_chart",
    "km_chart",
    "power_chart",
    "rate_chart",
    "tagger_chart",
    "timeline_chart",
]

OKABE_ITO: tuple[str, ...] = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#000000",
    "#F0E442",
)
_FALLBACK = "#888888"
_ESTIMATOR_ORDER = ("naive_pre_post", "matched", "survival", "placebo")
_MAX_ROWS = 5000
_Z95 = 1.959963984540054


def _require(df: object, columns: Sequence[str], name: str) -> pl.DataFrame:
    if not isinstance(df, pl.DataFrame):
        raise ValueError(f"{name} must be a polars.DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        listed = ", ".join(repr(c) for c in missing)
        raise ValueError(
            f"{name} is missing column(s) {listed}; expected {list(columns)}"
        )
    return df


def _numeric(df: pl.DataFrame, columns: Sequence[str], name: str) -> pl.DataFrame:
    for c in columns:
        if c in df.columns and not (
            df.schema[c].is_numeric() or df.schema[c] == pl.Null
        ):
            raise ValueError(
                f"{name} column {c!r} has dtype {df.schema[c]}, expected a number"
            )
    return df.with_columns(
        pl.col(c).cast(pl.Float64).fill_nan(None) for c in columns if c in df.columns
    )


def _order_categories(values: Sequence[str]) -> list[str]:
    rank = {c: i for i, c in enumerate((*CATEGORIES, "unspecified"))}
    return sorted(set(values), key=lambda c: (rank.get(c, len(rank)), c))


def _rank(column: str) -> pl.Expr:
    """Position of a category in :data:`toolkit.schema.CATEGORIES` (others last)."""
    order = {c: i for i, c in enumerate((*CATEGORIES, "unspecified"))}
    return pl.col(column).replace_strict(
        order, default=len(order), return_dtype=pl.Int64
    )


_EXTRA_COLOURS = ("#AA3377", "#66CCEE", "#228833", "#CCBB44", "#4477AA", "#EE6677")


def _category_scale(domain: Sequence[str]) -> alt.Scale:
    """Fixed colours for known categories; unknown ones cycle through extra colours."""
    colours: list[str] = []
    extra = 0
    for c in domain:
        if c in CATEGORY_COLOURS:
            colours.append(CATEGORY_COLOURS[c])
        else:
            colours.append(_EXTRA_COLOURS[extra % len(_EXTRA_COLOURS)])
            extra += 1
    return alt.Scale(domain=list(domain), range=colours)


def _palette_scale(domain: Sequence[str]) -> alt.Scale:
    return alt.Scale(
        domain=list(domain),
        range=[OKABE_ITO[i % len(OKABE_ITO)] for i in range(len(domain))],
    )


def _check_rows(df: pl.DataFrame, what: str, hint: str) -> None:
    if df.height > _MAX_ROWS:
        raise ValueError(
            f"{what} has {df.height:,} rows after aggregation, more than Altair's "
            f"{_MAX_ROWS:,}; {hint}"
        )


def _truncate(expr: pl.Expr, n: int) -> pl.Expr:
    return (
        pl.when(expr.str.len_chars() > n)
        .then(expr.str.slice(0, n - 1) + "…")
        .otherwise(expr)
    )


# -- timeline -------------------------------------------------------------------


def timeline_chart(
    turns: pl.DataFrame,
    tags: pl.DataFrame,
    *,
    conversation: str | Sequence[str] | None = None,
    categories: Sequence[str] | None = None,
    max_chars: int = 80,
    width: int = 720,
) -> alt.LayerChart:
    """Timeline of slips (ticks, one row per category) and user corrections (rules).

    Parameters
    ----------
    turns
        TURNS frame.
    tags
        TAGS frame; ``correction`` rows become vertical rules coloured by ``target``
        (null target shown as ``unspecified``).
    conversation
        One conversation id (or several); x is then the turn number. With several
        conversations x is the global turn index (turns numbered across the corpus in
        ``conversation_index``, ``turn`` order).
    categories
        Categories shown as rows (default: :data:`toolkit.schema.SLIP_CATEGORIES`).
    max_chars
        Matched text longer than this is truncated in the tooltips.
    width
        Chart width in pixels.

    Returns
    -------
    altair.LayerChart
        Layer 0: one tick per (conversation, turn, category) with the number of spans
        and their matched text (joined by `` | ``, truncated); layer 1: one rule per
        (conversation, correction turn, target); with several conversations, layer
        2: a thin grey rule where each conversation starts. Drag to pan and scroll
        to zoom on x.

    Raises
    ------
    ValueError
        On a missing column, an unknown conversation, or more than 5,000 aggregated
        rows (narrow with ``conversation=`` or ``categories=``).

    Examples
    --------
    >>> import polars as pl
    >>> turns = pl.DataFrame({"conversation_id": ["c"] * 3,
    ...     "conversation_index": [0] * 3, "turn": [0, 1, 2],
    ...     "role": ["user", "assistant", "user"], "text": ["q", "Maybe.", "no hedging"],
    ...     "timestamp": [None] * 3, "source": ["f"] * 3, "format": ["x"] * 3})
    >>> tags = pl.DataFrame({"conversation_id": ["c", "c"],
    ...     "conversation_index": [0, 0], "turn": [1, 2],
    ...     "role": ["assistant", "user"], "category": ["hedge", "correction"],
    ...     "subtype": ["h", "c"], "target": [None, "hedge"], "start": [0, 0],
    ...     "end": [5, 10], "match": ["Maybe", "no hedging"]})
    >>> spec = timeline_chart(turns, tags).to_dict()
    >>> [layer["mark"]["type"] for layer in spec["layer"]]
    ['tick', 'rule']
    """
    tu = validate(turns, TURNS, "TURNS", optional=("timestamp", "source", "format"))
    tg = validate(
        tags, TAGS, "TAGS", optional=("conversation_index", "role", "subtype", "target")
    )
    if conversation is not None:
        ids = [conversation] if isinstance(conversation, str) else list(conversation)
        unknown = sorted(set(ids) - set(tu["conversation_id"].to_list()))
        if unknown:
            raise ValueError(f"conversation(s) not in TURNS: {unknown}")
        tu = tu.filter(pl.col("conversation_id").is_in(ids))
    cats = list(SLIP_CATEGORIES if categories is None else categories)
    index = (
        tu.sort("conversation_index", "turn", "conversation_id")
        .with_row_index("global_turn")
        .select(
            "conversation_id",
            "turn",
            pl.col("global_turn").cast(pl.Int64),
        )
    )
    single = tu["conversation_id"].n_unique() <= 1
    x_field, x_title = (
        ("turn", "turn")
        if single
        else (
            "global_turn",
            "turn (numbered across conversations)",
        )
    )
    keyed = tg.join(index, on=["conversation_id", "turn"], how="inner").sort(
        "global_turn", "start", "end", "category"
    )
    slips = (
        keyed.filter(pl.col("category").is_in(cats))
        .group_by("conversation_id", "turn", "global_turn", "category")
        .agg(
            pl.len().alias("spans"),
            _truncate(pl.col("match").str.join(" | "), max_chars).alias("match"),
        )
        .sort("global_turn", _rank("category"), "category")
    )
    corrections = (
        keyed.filter(pl.col("category") == "correction")
        .with_columns(pl.col("target").fill_null("unspecified"))
        .group_by("conversation_id", "turn", "global_turn", "target")
        .agg(
            pl.len().alias("spans"),
            _truncate(pl.col("match").str.join(" | "), max_chars).alias("match"),
        )
        .sort("global_turn", _rank("target"), "target")
    )
    hint = "pass conversation= or fewer categories="
    _check_rows(slips, "timeline slips", hint)
    _check_rows(corrections, "timeline corrections", hint)
    rows = [c for c in _order_categories(cats) if c in set(cats)]
    colour_domain = _order_categories(
        [*rows, *corrections["target"].unique().to_list()]
    )
    colour = _category_scale(colour_domain)
    zoom = alt.selection_interval(bind="scales", encodings=["x"])
    x = alt.X(f"{x_field}:Q", title=x_title, axis=alt.Axis(format="d"))
    tick_layer = (
        alt.Chart(slips)
        .mark_tick(thickness=2, size=16, opacity=0.9)
        .encode(
            x=x,
            y=alt.Y(
                "category:N",
                title="slip category",
                sort=rows,
                scale=alt.Scale(domain=rows),
            ),
            color=alt.Color(
                "category:N", scale=colour, title="category / correction target"
            ),
            tooltip=[
                alt.Tooltip("conversation_id:N", title="conversation"),
                alt.Tooltip("turn:Q", title="turn"),
                alt.Tooltip("category:N", title="category"),
                alt.Tooltip("spans:Q", title="spans"),
                alt.Tooltip("match:N", title="matched text"),
            ],
        )
        .add_params(zoom)
    )
    rule_layer = (
        alt.Chart(corrections)
        .mark_rule(strokeDash=[4, 3], strokeWidth=1.5, opacity=0.8)
        .encode(
            x=x,
            color=alt.Color(
                "target:N", scale=colour, title="category / correction target"
            ),
            tooltip=[
                alt.Tooltip("conversation_id:N", title="conversation"),
                alt.Tooltip("turn:Q", title="correction turn"),
                alt.Tooltip("target:N", title="targets"),
                alt.Tooltip("match:N", title="correction text"),
            ],
        )
    )
    layers: list[alt.Chart] = [tick_layer, rule_layer]
    if not single:
        starts = (
            index.group_by("conversation_id")
            .agg(pl.col("global_turn").min(), pl.len().alias("turns"))
            .sort("global_turn")
        )
        _check_rows(starts, "timeline conversations", hint)
        layers.append(
            alt.Chart(starts)
            .mark_rule(color="#BBBBBB", strokeWidth=1)
            .encode(
                x=x,
                tooltip=[
                    alt.Tooltip("conversation_id:N", title="conversation starts"),
                    alt.Tooltip("turns:Q", title="turns"),
                ],
            )
        )
    return alt.LayerChart(
        layer=layers,
        width=width,
        height=max(60, 24 * len(rows)),
        title=alt.Title(
            "Slips and user corrections over the conversation",
            subtitle="ticks: slips by category; dashed rules: corrections, coloured by "
            "the slip they target"
            + ("" if single else "; grey rules: conversation starts")
            + ". Drag to pan, scroll to zoom.",
        ),
    )


# -- before/after rates -------------------------------------------------------------


def before_after_rates(
    turns: pl.DataFrame,
    tags: pl.DataFrame,
    *,
    window: int = 20,
    categories: Sequence[str] | None = None,
    per: int = 1000,
) -> pl.DataFrame:
    """Slip rates in the ``window`` assistant turns before and after each correction.

    Each user turn with a ``correction`` tag targeting category k is one correction
    of k (several tags with the same target in one turn count once; targets null or
    ``unspecified`` are left out). Its *before* window is the ``window`` assistant turns
    preceding it, its *after* window the ``window`` assistant turns following it, both
    cut at the conversation's ends. Slips of k and whitespace tokens of those assistant
    turns are summed over all corrections of k (overlapping windows count again).
    This is the naive pre/post comparison: descriptive only, biased towards a
    "benefit" by regression to the mean.

    Parameters
    ----------
    turns, tags
        TURNS and TAGS frames.
    window
        Assistant turns per window.
    categories
        Slip categories (default: :data:`toolkit.schema.SLIP_CATEGORIES`).
    per
        Rates are slips per ``per`` tokens.

    Returns
    -------
    polars.DataFrame
        One row per category with corrections and period, sorted: ``category``,
        ``period`` (``before``, ``after``), ``n_corrections``, ``slips``, ``tokens``,
        ``assistant_turns``, ``rate`` (slips per ``per`` tokens, null without tokens)
        and ``per``.

    Examples
    --------
    >>> import polars as pl
    >>> turns = pl.DataFrame({"conversation_id": ["c"] * 4,
    ...     "conversation_index": [0] * 4, "turn": [0, 1, 2, 3],
    ...     "role": ["user", "assistant", "user", "assistant"],
    ...     "text": ["q", "maybe maybe x y", "stop hedging", "sure a b c"],
    ...     "timestamp": [None] * 4, "source": ["f"] * 4, "format": ["x"] * 4})
    >>> tags = pl.DataFrame({"conversation_id": ["c"] * 3,
    ...     "conversation_index": [0] * 3, "turn": [1, 1, 2],
    ...     "role": ["assistant", "assistant", "user"],
    ...     "category": ["hedge", "hedge", "correction"], "subtype": ["h"] * 3,
    ...     "target": [None, None, "hedge"], "start": [0, 6, 0], "end": [5, 11, 12],
    ...     "match": ["maybe", "maybe", "stop hedging"]})
    >>> before_after_rates(turns, tags).select("period", "slips", "tokens", "rate")
    shape: (2, 4)
    ┌────────┬───────┬────────┬───────┐
    │ period ┆ slips ┆ tokens ┆ rate  │
    │ ---    ┆ ---   ┆ ---    ┆ ---   │
    │ str    ┆ i64   ┆ i64    ┆ f64   │
    ╞════════╪═══════╪════════╪═══════╡
    │ before ┆ 2     ┆ 4      ┆ 500.0 │
    │ after  ┆ 0     ┆ 4      ┆ 0.0   │
    └────────┴───────┴────────┴───────┘
    """
    if window < 1:
        raise ValueError(f"window must be at least 1, got {window}")
    tu = validate(turns, TURNS, "TURNS", optional=("timestamp", "source", "format"))
    tg = validate(
        tags, TAGS, "TAGS", optional=("conversation_index", "role", "subtype", "match")
    )
    cats = list(SLIP_CATEGORIES if categories is None else categories)
    tu = tu.sort("conversation_id", "turn").with_columns(
        # assistant turns strictly before this turn, within the conversation
        (pl.col("role") == "assistant")
        .cast(pl.Int64)
        .cum_sum()
        .shift(1, fill_value=0)
        .over("conversation_id")
        .alias("_m"),
    )
    asst = tu.filter(pl.col("role") == "assistant").select(
        "conversation_id",
        "turn",
        pl.col("_m").alias("a_idx"),
        pl.col("text")
        .fill_null("")
        .str.count_matches(r"\S+")
        .cast(pl.Int64)
        .alias("tokens"),
    )
    n_asst = asst.group_by("conversation_id").agg(pl.len().cast(pl.Int64).alias("_n"))
    counts = (
        tg.filter(pl.col("category").is_in(cats))
        .join(
            asst.select("conversation_id", "turn", "a_idx"),
            on=["conversation_id", "turn"],
        )
        .group_by("conversation_id", "category", "a_idx")
        .agg(pl.len().cast(pl.Int64).alias("k"))
    )
    grid = (
        asst.select("conversation_id", "a_idx", "tokens")
        .join(
            pl.DataFrame({"category": cats}, schema={"category": pl.String}),
            how="cross",
        )
        .join(counts, on=["conversation_id", "category", "a_idx"], how="left")
        .with_columns(pl.col("k").fill_null(0))
        .sort("conversation_id", "category", "a_idx")
        .with_columns(
            pl.col("k").cum_sum().over("conversation_id", "category").alias("cum_k"),
            pl.col("tokens")
            .cum_sum()
            .over("conversation_id", "category")
            .alias("cum_tok"),
        )
        .select("conversation_id", "category", "a_idx", "cum_k", "cum_tok")
    )
    corr = (
        tg.filter((pl.col("category") == "correction") & pl.col("target").is_in(cats))
        .select("conversation_id", "turn", pl.col("target").alias("category"))
        .unique()
        .join(
            tu.select("conversation_id", "turn", "_m"), on=["conversation_id", "turn"]
        )
        .join(n_asst, on="conversation_id", how="left")
        .with_columns(pl.col("_n").fill_null(0))
        .with_columns(
            pl.max_horizontal(pl.col("_m") - window, pl.lit(0)).alias("_lo"),
            pl.min_horizontal(pl.col("_m") + window, pl.col("_n")).alias("_hi"),
        )
    )

    def prefix(col: str, suffix: str) -> pl.DataFrame:
        # inclusive prefix sums at ordinal (col - 1); ordinal -1 has sum 0
        return (
            corr.with_columns((pl.col(col) - 1).alias("a_idx"))
            .join(grid, on=["conversation_id", "category", "a_idx"], how="left")
            .select(
                "conversation_id",
                "turn",
                "category",
                pl.col("cum_k").fill_null(0).alias(f"k{suffix}"),
                pl.col("cum_tok").fill_null(0).alias(f"t{suffix}"),
            )
        )

    keys = ["conversation_id", "turn", "category"]
    each = (
        corr.join(prefix("_m", "_m"), on=keys)
        .join(prefix("_lo", "_lo"), on=keys)
        .join(prefix("_hi", "_hi"), on=keys)
    )
    periods = pl.concat(
        [
            each.select(
                "category",
                pl.lit("before").alias("period"),
                (pl.col("k_m") - pl.col("k_lo")).alias("slips"),
                (pl.col("t_m") - pl.col("t_lo")).alias("tokens"),
                (pl.col("_m") - pl.col("_lo")).alias("assistant_turns"),
            ),
            each.select(
                "category",
                pl.lit("after").alias("period"),
                (pl.col("k_hi") - pl.col("k_m")).alias("slips"),
                (pl.col("t_hi") - pl.col("t_m")).alias("tokens"),
                (pl.col("_hi") - pl.col("_m")).alias("assistant_turns"),
            ),
        ]
    )
    order = {c: i for i, c in enumerate(_order_categories(cats))}
    out = (
        periods.group_by("category", "period")
        .agg(
            pl.len().cast(pl.Int64).alias("n_corrections"),
            pl.col("slips").sum().cast(pl.Int64),
            pl.col("tokens").sum().cast(pl.Int64),
            pl.col("assistant_turns").sum().cast(pl.Int64),
        )
        .with_columns(
            pl.when(pl.col("tokens") > 0)
            .then(pl.col("slips") / pl.col("tokens") * per)
            .otherwise(None)
            .alias("rate"),
            pl.lit(per, dtype=pl.Int64).alias("per"),
            pl.col("category").replace_strict(order, default=len(order)).alias("_o"),
            (pl.col("period") == "after").cast(pl.Int8).alias("_p"),
        )
        .sort("_o", "category", "_p")
        .drop("_o", "_p")
    )
    return out


def rate_chart(rates: pl.DataFrame) -> alt.LayerChart:
    """Bars of slip rates before vs after corrections, per category (descriptive).

    Parameters
    ----------
    rates
        One row per category and period, as returned by :func:`before_after_rates`:
        ``category``, ``period`` (``before`` or ``after``), ``rate``; optional
        ``n_corrections``, ``slips``, ``tokens``, ``per`` (shown in tooltips and
        the axis title).

    Returns
    -------
    altair.LayerChart
        Grouped bars (x = category, offset and colour = period) with the rate printed
        above each bar, titled as a naive, descriptive comparison.

    Examples
    --------
    >>> import polars as pl
    >>> rates = pl.DataFrame({"category": ["hedge", "hedge"],
    ...     "period": ["before", "after"], "rate": [5.0, 2.0]})
    >>> rate_chart(rates).to_dict()["layer"][0]["mark"]["type"]
    'bar'
    """
    df = _require(rates, ("category", "period", "rate"), "rates")
    bad = sorted(set(df["period"].cast(pl.String).to_list()) - {"before", "after"})
    if bad:
        raise ValueError(
            f"rates column 'period' must be 'before' or 'after', got {bad}"
        )
    df = _numeric(df, ("rate",), "rates")
    per = int(df["per"][0]) if "per" in df.columns and df.height else 1000
    order = _order_categories(df["category"].to_list())
    rank = {c: i for i, c in enumerate(order)}
    df = (
        df.with_columns(
            pl.col("category").replace_strict(rank, default=len(rank)).alias("_o"),
            (pl.col("period") == "after").cast(pl.Int8).alias("_p"),
        )
        .sort("_o", "_p")
        .drop("_o", "_p")
    )
    tooltip = [
        alt.Tooltip("category:N", title="category"),
        alt.Tooltip("period:N", title="period"),
        alt.Tooltip("rate:Q", title=f"slips per {per:,} tokens", format=".2f"),
    ]
    for col, title in (
        ("n_corrections", "corrections"),
        ("slips", "slips"),
        ("tokens", "tokens"),
    ):
        if col in df.columns:
            tooltip.append(alt.Tooltip(f"{col}:Q", title=title))
    period_scale = alt.Scale(domain=["before", "after"], range=["#999999", "#0072B2"])
    base = alt.Chart(df).encode(
        x=alt.X(
            "category:N", sort=order, title="slip category", axis=alt.Axis(labelAngle=0)
        ),
        xOffset=alt.XOffset("period:N", sort=["before", "after"]),
        y=alt.Y("rate:Q", title=f"slips per {per:,} tokens"),
        tooltip=tooltip,
    )
    bars = base.mark_bar().encode(
        color=alt.Color(
            "period:N", scale=period_scale, sort=["before", "after"], title="window"
        )
    )
    labels = base.mark_text(dy=-4, baseline="bottom", fontSize=10).encode(
        text=alt.Text("rate:Q", format=".1f")
    )
    return alt.LayerChart(
        layer=[bars, labels],
        title=alt.Title(
            "Slip rate before vs after a correction (naive, descriptive)",
            subtitle=[
                "Corrections follow bursts of slips, so the rate drops afterwards even "
                "when a correction does nothing",
                "(regression to the mean). Read the matched estimator for the effect.",
            ],
        ),
    )


# -- forest -----------------------------------------------------------------------


def forest_chart(result: pl.DataFrame) -> alt.LayerChart:
    """Forest plot of rate ratios with 95% CIs across categories and estimators.

    Parameters
    ----------
    result
        RESULT frame (``category``, ``estimator``, ``rate_ratio``, ``ci_low``,
        ``ci_high``; ``n_corrections``, ``n_controls``, ``p_value``, ``p_holm`` and
        a free-text ``note`` are shown in tooltips when present).

    Returns
    -------
    altair.LayerChart
        Layers: a reference rule at 1, CI rules, estimate points (x on a log scale, y =
        category, offset/colour/shape = estimator), and a "not estimable" label at 1
        for rows whose rate ratio is missing, NaN or not positive, with the note in
        its tooltip. CI bounds that are missing or not positive are left out.

    Examples
    --------
    >>> import polars as pl
    >>> res = pl.DataFrame({"category": ["hedge"], "estimator": ["matched"],
    ...     "rate_ratio": [0.8], "ci_low": [0.6], "ci_high": [1.1]})
    >>> forest_chart(res).to_dict()["layer"][2]["encoding"]["x"]["scale"]["type"]
    'log'
    """
    df = validate(
        result,
        RESULT,
        "RESULT",
        optional=("n_corrections", "n_controls", "p_value", "p_holm"),
    )
    df = _numeric(
        df, ("rate_ratio", "ci_low", "ci_high", "p_value", "p_holm"), "RESULT"
    )
    positive = pl.col("rate_ratio").is_not_null() & (pl.col("rate_ratio") > 0)
    note = (
        pl.col("note").cast(pl.String)
        if "note" in df.columns
        else pl.lit(None, pl.String)
    )
    df = df.with_columns(
        positive.alias("estimable"),
        pl.when(pl.col("ci_low") > 0).then(pl.col("ci_low")).alias("ci_low"),
        pl.when(pl.col("ci_high") > 0).then(pl.col("ci_high")).alias("ci_high"),
        pl.when(positive)
        .then(pl.col("rate_ratio"))
        .otherwise(None)
        .alias("rate_ratio"),
        pl.when(positive & ~((pl.col("ci_low") > 0) & (pl.col("ci_high") > 0)))
        .then(
            pl.concat_str(
                [note, pl.lit("95% CI not drawn (missing or not positive)")],
                separator="; ",
                ignore_nulls=True,
            )
        )
        .when(positive)
        .then(note)
        .otherwise(pl.coalesce(note, pl.lit("no estimate")))
        .fill_null("")
        .alias("note"),
        pl.lit(1.0).alias("reference"),
    )
    cats = _order_categories(df["category"].to_list())
    estimators = sorted(
        set(df["estimator"].to_list()),
        key=lambda e: (
            _ESTIMATOR_ORDER.index(e)
            if e in _ESTIMATOR_ORDER
            else len(_ESTIMATOR_ORDER),
            e,
        ),
    )
    rank_c = {c: i for i, c in enumerate(cats)}
    rank_e = {e: i for i, e in enumerate(estimators)}
    df = (
        df.with_columns(
            pl.col("category").replace_strict(rank_c, default=len(rank_c)).alias("_c"),
            pl.col("estimator").replace_strict(rank_e, default=len(rank_e)).alias("_e"),
        )
        .sort("_c", "_e")
        .drop("_c", "_e")
        .select(
            "category",
            "estimator",
            "rate_ratio",
            "ci_low",
            "ci_high",
            "n_corrections",
            "n_controls",
            "p_value",
            "p_holm",
            "note",
            "estimable",
            "reference",
        )
    )
    log_x = alt.Scale(type="log")
    y = alt.Y("category:N", sort=cats, title="slip category")
    y_off = alt.YOffset("estimator:N", sort=estimators)
    colour = alt.Color(
        "estimator:N", scale=_palette_scale(estimators), title="estimator"
    )
    shape = alt.Shape(
        "estimator:N",
        sort=estimators,
        scale=alt.Scale(domain=estimators),
        title="estimator",
    )
    tooltip = [
        alt.Tooltip("category:N", title="category"),
        alt.Tooltip("estimator:N", title="estimator"),
        alt.Tooltip("rate_ratio:Q", title="rate ratio", format=".3f"),
        alt.Tooltip("ci_low:Q", title="95% CI low", format=".3f"),
        alt.Tooltip("ci_high:Q", title="95% CI high", format=".3f"),
        alt.Tooltip("n_corrections:Q", title="corrections"),
        alt.Tooltip("n_controls:Q", title="controls"),
        alt.Tooltip("p_value:Q", title="p", format=".3g"),
        alt.Tooltip("p_holm:Q", title="p (Holm)", format=".3g"),
        alt.Tooltip("note:N", title="note"),
    ]
    base = alt.Chart()
    ref = base.mark_rule(color="#444444", strokeDash=[3, 3]).encode(
        x=alt.X(
            "reference:Q", scale=log_x, title="rate ratio (log scale; < 1: fewer slips)"
        )
    )
    cis = (
        base.mark_rule(strokeWidth=2)
        .encode(
            x=alt.X("ci_low:Q", scale=log_x),
            x2="ci_high:Q",
            y=y,
            yOffset=y_off,
            color=colour,
            tooltip=tooltip,
        )
        .transform_filter("isValid(datum.ci_low) && isValid(datum.ci_high)")
    )
    points = (
        base.mark_point(filled=True, size=70)
        .encode(
            x=alt.X(
                "rate_ratio:Q",
                scale=log_x,
                title="rate ratio (log scale; < 1: fewer slips)",
            ),
            y=y,
            yOffset=y_off,
            color=colour,
            shape=shape,
            tooltip=tooltip,
        )
        .transform_filter("datum.estimable")
    )
    absent = (
        base.mark_text(fontSize=10, color="#555555", align="left", dx=4)
        .encode(
            x=alt.X("reference:Q", scale=log_x),
            y=y,
            yOffset=y_off,
            text=alt.value("not estimable"),
            tooltip=tooltip,
        )
        .transform_filter("!datum.estimable")
    )
    return alt.LayerChart(
        layer=[ref, cis, points, absent],
        data=df,
        width=480,
        height=alt.Step(18),
        title=alt.Title(
            "Rate ratios by category and estimator (95% CI)",
            subtitle="1 = no change; naive_pre_post is biased towards benefit "
            "(regression to the mean), matched is the primary estimate.",
        ),
    )


# -- Kaplan–Meier -------------------------------------------------------------------


def km_chart(curves: pl.DataFrame) -> alt.FacetChart:
    """Kaplan–Meier step curves, corrected vs matched uncorrected slips, per category.

    Parameters
    ----------
    curves
        One row per category, group and event time, sorted or not:

        - ``category`` (str): slip category (one panel each);
        - ``group`` (str): e.g. ``corrected`` and ``matched uncorrected``;
        - ``time`` (number): assistant turns (or tokens) since the index slip; include
          ``time = 0`` with ``survival = 1`` for the curve to start at 1;
        - ``survival`` (number in [0, 1]): share with no recurrence yet;
        - ``ci_low``, ``ci_high`` (number in [0, 1] or null): pointwise 95% band.

        Optional ``at_risk`` (int) is shown in the tooltip.

    Returns
    -------
    altair.FacetChart
        A panel per category with a step-after line per group over its CI band.

    Examples
    --------
    >>> import polars as pl
    >>> curves = pl.DataFrame({"category": ["hedge"] * 2, "group": ["corrected"] * 2,
    ...     "time": [0, 3], "survival": [1.0, 0.5], "ci_low": [1.0, 0.2],
    ...     "ci_high": [1.0, 0.8]})
    >>> km_chart(curves).to_dict()["spec"]["layer"][1]["mark"]["interpolate"]
    'step-after'
    """
    cols = ("category", "group", "time", "survival", "ci_low", "ci_high")
    df = _require(curves, cols, "curves")
    df = _numeric(df, ("time", "survival", "ci_low", "ci_high"), "curves")
    bad = df.filter((pl.col("survival") < 0) | (pl.col("survival") > 1))
    if bad.height:
        raise ValueError("curves column 'survival' must lie in [0, 1]")
    groups = sorted(set(df["group"].to_list()), key=lambda g: (g != "corrected", g))
    df = df.select(*cols, *(["at_risk"] if "at_risk" in df.columns else [])).sort(
        "category", "group", "time"
    )
    colour = alt.Color(
        "group:N",
        scale=_palette_scale(groups),
        sort=groups,
        title="group",
        legend=alt.Legend(symbolType="stroke", symbolStrokeWidth=3, symbolOpacity=1),
    )
    tooltip = [
        alt.Tooltip("group:N", title="group"),
        alt.Tooltip("time:Q", title="time"),
        alt.Tooltip("survival:Q", title="survival", format=".3f"),
        alt.Tooltip("ci_low:Q", title="95% CI low", format=".3f"),
        alt.Tooltip("ci_high:Q", title="95% CI high", format=".3f"),
    ]
    if "at_risk" in df.columns:
        tooltip.append(alt.Tooltip("at_risk:Q", title="at risk"))
    x = alt.X("time:Q", title="assistant turns since the index slip")
    band = (
        alt.Chart()
        .mark_area(interpolate="step-after", opacity=0.2)
        .encode(
            x=x,
            y=alt.Y("ci_low:Q"),
            y2="ci_high:Q",
            color=colour,
        )
    )
    line = (
        alt.Chart()
        .mark_line(interpolate="step-after", strokeWidth=2)
        .encode(
            x=x,
            y=alt.Y(
                "survival:Q",
                title="share with no recurrence yet",
                scale=alt.Scale(domain=[0, 1]),
            ),
            color=colour,
            strokeDash=alt.StrokeDash("group:N", sort=groups, legend=None),
            tooltip=tooltip,
        )
    )
    cats = _order_categories(df["category"].to_list())
    return (
        alt.layer(band, line, data=df)
        .properties(width=220, height=160)
        .facet(facet=alt.Facet("category:N", sort=cats, title=None), columns=3)
        .properties(
            title=alt.Title(
                "Time to the next slip of the same category (Kaplan–Meier)",
                subtitle="corrected slips vs matched uncorrected slips; bands are "
                "pointwise 95% intervals",
            )
        )
    )


# -- decay ------------------------------------------------------------------------


def _fit_log_effect(
    d: np.ndarray, rr: np.ndarray, lo: np.ndarray, hi: np.ndarray, half_life: float
) -> float:
    """Weighted least squares of log θ(d) on 2^(-d/h) through the origin."""
    ok = np.isfinite(rr) & (rr > 0)
    if not ok.any():
        return math.nan
    x = np.power(2.0, -d[ok] / half_life)
    y = np.log(rr[ok])
    se = (np.log(hi[ok]) - np.log(lo[ok])) / (2 * _Z95)
    w = np.where(np.isfinite(se) & (se > 0), 1.0 / np.square(se), 1.0)
    den = float(np.sum(w * x * x))
    return float(np.sum(w * x * y) / den) if den > 0 else math.nan


def decay_chart(decay_frame: pl.DataFrame, *, n_curve: int = 80) -> alt.LayerChart:
    """Rate ratio θ by distance since the correction, with CIs and a half-life curve.

    Parameters
    ----------
    decay_frame
        One row per category and distance bin:

        - ``category`` (str);
        - ``distance`` (number > 0 for a log axis): the bin's representative distance
          in assistant turns (e.g. its midpoint);
        - ``rate_ratio``, ``ci_low``, ``ci_high`` (number): θ in that bin, 95% CI;
        - ``bin`` (str, optional): the bin's label (``"6–20"``) for tooltips;
        - ``half_life`` (number, optional, constant within a category): draws the
          fitted curve θ(d) = exp(β · 2^(−d / half_life));
        - ``log_effect`` (number, optional, constant within a category): β, the log
          rate ratio at d = 0; without it β is fitted by inverse-variance weighted
          least squares of log θ on 2^(−d / half_life), weights from the CI widths.
    n_curve
        Points per fitted curve.

    Returns
    -------
    altair.LayerChart
        A reference rule at 1, CI rules, points, and (with ``half_life``) a dashed
        curve per category; y on a log scale, x on a log scale (symlog if a distance
        is 0).

    Examples
    --------
    >>> import polars as pl
    >>> dec = pl.DataFrame({"category": ["hedge"] * 2, "distance": [3.0, 13.0],
    ...     "rate_ratio": [0.7, 0.9], "ci_low": [0.5, 0.7], "ci_high": [1.0, 1.15],
    ...     "half_life": [10.0, 10.0]})
    >>> len(decay_chart(dec).to_dict()["layer"])
    4
    """
    cols = ("category", "distance", "rate_ratio", "ci_low", "ci_high")
    df = _require(decay_frame, cols, "decay_frame")
    extra = [c for c in ("bin", "half_life", "log_effect") if c in df.columns]
    df = _numeric(df, (*cols[1:], *(c for c in extra if c != "bin")), "decay_frame")
    df = df.select(*cols, *extra).sort("category", "distance")
    if df.filter(pl.col("distance") < 0).height:
        raise ValueError("decay_frame column 'distance' must be non-negative")
    cats = _order_categories(df["category"].to_list())
    colour = alt.Color("category:N", scale=_category_scale(cats), title="category")
    distances = df["distance"].drop_nulls().to_numpy()
    positive = distances.size > 0 and float(distances.min()) > 0
    x_scale = alt.Scale(type="log") if positive else alt.Scale(type="symlog")
    y_scale = alt.Scale(type="log")
    x = alt.X("distance:Q", scale=x_scale, title="assistant turns since the correction")
    tooltip = [
        alt.Tooltip("category:N", title="category"),
        alt.Tooltip("distance:Q", title="distance"),
        alt.Tooltip("rate_ratio:Q", title="rate ratio", format=".3f"),
        alt.Tooltip("ci_low:Q", title="95% CI low", format=".3f"),
        alt.Tooltip("ci_high:Q", title="95% CI high", format=".3f"),
    ]
    if "bin" in df.columns:
        tooltip.insert(1, alt.Tooltip("bin:N", title="bin"))
    points_df = df.with_columns(
        pl.when(pl.col("rate_ratio") > 0)
        .then(pl.col("rate_ratio"))
        .alias("rate_ratio"),
        pl.when(pl.col("ci_low") > 0).then(pl.col("ci_low")).alias("ci_low"),
        pl.when(pl.col("ci_high") > 0).then(pl.col("ci_high")).alias("ci_high"),
    )
    curve_rows: list[dict[str, object]] = []
    if "half_life" in df.columns:
        for cat in cats:
            sub = points_df.filter(pl.col("category") == cat)
            h_values = sub["half_life"].drop_nulls()
            if h_values.is_empty() or not float(h_values[0]) > 0:
                continue
            h = float(h_values[0])
            if "log_effect" in sub.columns and sub["log_effect"].drop_nulls().len():
                beta = float(sub["log_effect"].drop_nulls()[0])
            else:
                beta = _fit_log_effect(
                    sub["distance"].to_numpy().astype(float),
                    sub["rate_ratio"].fill_null(np.nan).to_numpy().astype(float),
                    sub["ci_low"].fill_null(np.nan).to_numpy().astype(float),
                    sub["ci_high"].fill_null(np.nan).to_numpy().astype(float),
                    h,
                )
            if not math.isfinite(beta):
                continue
            dist = sub["distance"].drop_nulls().to_numpy().astype(float)
            if dist.size == 0:
                continue
            d_max = float(dist.max() or 1.0) * 1.1
            d_min = float(dist.min())
            grid = (
                np.geomspace(max(d_min / 2, 1e-3), d_max, n_curve)
                if d_min > 0
                else np.linspace(0.0, d_max, n_curve)
            )
            for d in grid:
                curve_rows.append(
                    {
                        "category": cat,
                        "distance": round(float(d), 6),
                        "fitted": round(math.exp(beta * 2.0 ** (-d / h)), 6),
                        "half_life": h,
                        "log_effect": round(beta, 6),
                    }
                )
    curve_df = pl.DataFrame(
        curve_rows,
        schema={
            "category": pl.String,
            "distance": pl.Float64,
            "fitted": pl.Float64,
            "half_life": pl.Float64,
            "log_effect": pl.Float64,
        },
    )
    ref = (
        alt.Chart(pl.DataFrame({"reference": [1.0]}))
        .mark_rule(color="#444444", strokeDash=[3, 3])
        .encode(y=alt.Y("reference:Q", scale=y_scale))
    )
    cis = (
        alt.Chart(points_df)
        .mark_rule(strokeWidth=2)
        .encode(
            x=x,
            y=alt.Y("ci_low:Q", scale=y_scale),
            y2="ci_high:Q",
            color=colour,
            tooltip=tooltip,
        )
        .transform_filter("isValid(datum.ci_low) && isValid(datum.ci_high)")
    )
    pts = (
        alt.Chart(points_df)
        .mark_point(filled=True, size=60)
        .encode(
            x=x,
            y=alt.Y("rate_ratio:Q", scale=y_scale, title="rate ratio θ(d) (log scale)"),
            color=colour,
            shape=alt.Shape("category:N", sort=cats, legend=None),
            tooltip=tooltip,
        )
        .transform_filter("isValid(datum.rate_ratio)")
    )
    layers: list[alt.Chart] = [ref, cis, pts]
    if curve_df.height:
        layers.append(
            alt.Chart(curve_df)
            .mark_line(strokeDash=[6, 3], strokeWidth=1.5)
            .encode(
                x=x,
                y=alt.Y("fitted:Q", scale=y_scale),
                color=colour,
                tooltip=[
                    alt.Tooltip("category:N", title="category"),
                    alt.Tooltip("half_life:Q", title="half-life (turns)", format=".1f"),
                    alt.Tooltip("log_effect:Q", title="log θ at d = 0", format=".3f"),
                ],
            )
        )
    return alt.LayerChart(
        layer=layers,
        width=480,
        height=280,
        title=alt.Title(
            "Decay of the correction effect with distance",
            subtitle="points: θ per distance bin with 95% CI; dashed: "
            "θ(d) = exp(β·2^(−d/half-life)); 1 = no effect",
        ),
    )


# -- power ----------------------------------------------------------------------------


def power_chart(
    power_frame: pl.DataFrame, *, x: str = "n_corrections", target: float = 0.8
) -> alt.LayerChart:
    """Power curves: power vs number of corrections, or vs the true rate ratio.

    Parameters
    ----------
    power_frame
        One row per design point:

        - ``n_corrections`` (int) and ``rate_ratio`` (number, the true θ): the one
          named by ``x`` is the x axis, the other (if present) gives one line each;
        - ``power`` (number in [0, 1]): rejection rate at that point;
        - ``power_low``, ``power_high`` (optional): Monte Carlo 95% band;
        - ``category`` (optional): combined with the other column into the line
          label (``"hedge, rate ratio 0.7"``), or alone when there is no other column.
    x
        ``"n_corrections"`` (linear axis) or ``"rate_ratio"`` (log axis).
    target
        Power drawn as a reference rule (0.8 by default).

    Returns
    -------
    altair.LayerChart
        Lines with points per series, an optional Monte Carlo band, and a rule at
        ``target``.

    Examples
    --------
    >>> import polars as pl
    >>> pw = pl.DataFrame({"n_corrections": [10, 20, 10, 20],
    ...     "rate_ratio": [0.7, 0.7, 0.5, 0.5], "power": [0.2, 0.4, 0.5, 0.8]})
    >>> power_chart(pw).to_dict()["layer"][1]["mark"]["type"]
    'line'
    """
    if x not in ("n_corrections", "rate_ratio"):
        raise ValueError(f"x must be 'n_corrections' or 'rate_ratio', got {x!r}")
    df = _require(power_frame, (x, "power"), "power_frame")
    other = "rate_ratio" if x == "n_corrections" else "n_corrections"
    numeric = [
        x,
        "power",
        *(c for c in (other, "power_low", "power_high") if c in df.columns),
    ]
    df = _numeric(df, numeric, "power_frame")
    if df.filter((pl.col("power") < 0) | (pl.col("power") > 1)).height:
        raise ValueError("power_frame column 'power' must lie in [0, 1]")
    if "category" in df.columns and other in df.columns:
        df = df.with_columns(
            (
                pl.col("category").cast(pl.String)
                + ", "
                + other.replace("_", " ")
                + " "
                + pl.col(other).cast(pl.String)
            ).alias("series")
        )
        series_title = f"category, {other.replace('_', ' ')}"
    elif other in df.columns:
        df = df.with_columns(
            (
                pl.lit(("θ = " if other == "rate_ratio" else "n = "))
                + pl.col(other).cast(pl.String)
            ).alias("series")
        )
        series_title = "true rate ratio" if other == "rate_ratio" else "corrections"
    elif "category" in df.columns:
        df = df.with_columns(pl.col("category").cast(pl.String).alias("series"))
        series_title = "category"
    else:
        df = df.with_columns(pl.lit("power").alias("series"))
        series_title = "series"
    sort_keys = [c for c in ("category", other) if c in df.columns]
    df = df.sort(*sort_keys, x)
    series = df["series"].unique(maintain_order=True).to_list()
    x_enc = alt.X(
        f"{x}:Q",
        scale=alt.Scale(type="log") if x == "rate_ratio" else alt.Scale(zero=False),
        title="number of corrections"
        if x == "n_corrections"
        else "true rate ratio (log scale)",
    )
    colour = alt.Color(
        "series:N", scale=_palette_scale(series), sort=series, title=series_title
    )
    tooltip = [
        alt.Tooltip("series:N", title=series_title),
        alt.Tooltip(f"{x}:Q", title=x.replace("_", " ")),
        alt.Tooltip("power:Q", title="power", format=".3f"),
    ]
    layers: list[alt.Chart] = [
        alt.Chart(pl.DataFrame({"target": [float(target)]}))
        .mark_rule(color="#444444", strokeDash=[3, 3])
        .encode(
            y=alt.Y("target:Q"), tooltip=[alt.Tooltip("target:Q", title="target power")]
        )
    ]
    line = (
        alt.Chart(df)
        .mark_line(point=True)
        .encode(
            x=x_enc,
            y=alt.Y(
                "power:Q",
                scale=alt.Scale(domain=[0, 1]),
                title="power (share of runs with p < α)",
            ),
            color=colour,
            tooltip=tooltip,
        )
    )
    if "power_low" in df.columns and "power_high" in df.columns:
        layers.append(
            alt.Chart(df)
            .mark_area(opacity=0.18)
            .encode(x=x_enc, y="power_low:Q", y2="power_high:Q", color=colour)
        )
    layers.append(line)
    return alt.LayerChart(
        layer=layers,
        width=420,
        height=260,
        title=alt.Title(
            "Power to detect a change in slip rate",
            subtitle=f"dashed rule: target power {target:g}",
        ),
    )


# -- tagger ---------------------------------------------------------------------------


def tagger_chart(evaluation: pl.DataFrame) -> alt.LayerChart:
    """Precision, recall and F1 per category, with 95% CI error bars.

    Parameters
    ----------
    evaluation
        One row per category: ``category``, ``precision``, ``precision_low``,
        ``precision_high``, ``recall``, ``recall_low``, ``recall_high``, ``f1``,
        ``f1_low``, ``f1_high`` (all in [0, 1]; nulls allowed); optional ``support``
        or ``n_gold`` (gold units) for the tooltip. The output of
        ``toolkit.evaluate.evaluate`` fits as is.

    Returns
    -------
    altair.LayerChart
        Grouped bars (x = category, offset and colour = metric) with CI rules; the
        data has one row per category and metric.

    Examples
    --------
    >>> import polars as pl
    >>> ev = pl.DataFrame({"category": ["hedge"], "precision": [0.9],
    ...     "precision_low": [0.8], "precision_high": [0.95], "recall": [0.7],
    ...     "recall_low": [0.6], "recall_high": [0.8], "f1": [0.79], "f1_low": [0.7],
    ...     "f1_high": [0.85]})
    >>> len(tagger_chart(ev).to_dict()["datasets"].popitem()[1])
    3
    """
    metrics = ("precision", "recall", "f1")
    cols = ("category", *(f"{m}{s}" for m in metrics for s in ("", "_low", "_high")))
    df = _require(evaluation, cols, "evaluation")
    df = _numeric(df, cols[1:], "evaluation")
    support = [c for c in ("support", "n_gold") if c in df.columns][:1]
    long = pl.concat(
        [
            df.select(
                "category",
                pl.lit(m).alias("metric"),
                pl.col(m).alias("value"),
                pl.col(f"{m}_low").alias("low"),
                pl.col(f"{m}_high").alias("high"),
                *support,
            )
            for m in metrics
        ]
    )
    cats = _order_categories(long["category"].to_list())
    rank = {c: i for i, c in enumerate(cats)}
    long = (
        long.with_columns(
            pl.col("category").replace_strict(rank, default=len(rank)).alias("_c"),
            pl.col("metric")
            .replace_strict({m: i for i, m in enumerate(metrics)})
            .alias("_m"),
        )
        .sort("_c", "_m")
        .drop("_c", "_m")
    )
    tooltip = [
        alt.Tooltip("category:N", title="category"),
        alt.Tooltip("metric:N", title="metric"),
        alt.Tooltip("value:Q", title="estimate", format=".3f"),
        alt.Tooltip("low:Q", title="95% CI low", format=".3f"),
        alt.Tooltip("high:Q", title="95% CI high", format=".3f"),
    ]
    if support:
        tooltip.append(alt.Tooltip(f"{support[0]}:Q", title="gold units"))
    x = alt.X("category:N", sort=cats, title="category", axis=alt.Axis(labelAngle=0))
    x_off = alt.XOffset("metric:N", sort=list(metrics))
    bars = (
        alt.Chart()
        .mark_bar()
        .encode(
            x=x,
            xOffset=x_off,
            y=alt.Y("value:Q", scale=alt.Scale(domain=[0, 1]), title="score"),
            color=alt.Color(
                "metric:N",
                sort=list(metrics),
                scale=alt.Scale(
                    domain=list(metrics), range=["#0072B2", "#E69F00", "#009E73"]
                ),
                title="metric",
            ),
            tooltip=tooltip,
        )
    )
    errors = (
        alt.Chart()
        .mark_rule(color="#222222", strokeWidth=1.5)
        .encode(x=x, xOffset=x_off, y="low:Q", y2="high:Q", tooltip=tooltip)
        .transform_filter("isValid(datum.low) && isValid(datum.high)")
    )
    return alt.LayerChart(
        layer=[bars, errors],
        data=long,
        title=alt.Title(
            "Tagger precision, recall and F1 by category",
            subtitle="error bars: 95% confidence intervals from the validation sample",
        ),
    )
