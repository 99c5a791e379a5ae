"""Hypothesis metrics shared helpers, the time-trend test, and self-correction.

The essay behind the toolkit claims five observable changes (mission persistence,
value articulation, self-correction, manipulation resistance, identity stability).
Each has a metric that can come out for or against it:

- :func:`toolkit.identity.identity_stability` and :func:`toolkit.identity.identity_drift`
- :func:`self_correction` (this module)
- :func:`toolkit.manipulation.manipulation_outcomes` and
  :func:`toolkit.manipulation.manipulation_summary`
- :func:`toolkit.mirroring.mirroring` and :func:`toolkit.mirroring.coordination`
- :func:`toolkit.values.value_articulation`
- :func:`toolkit.persistence.persistence`

This module also holds the small helpers they share (input checks, assistant-turn
positions, sentence splitting, word n-grams, Wilson and Poisson intervals) and
:func:`time_trend`, a quasi-binomial trend test of a share over conversations.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import polars as pl
from scipy import stats

from toolkit.schema import TAGS, TURNS, validate

__all__ = ["poisson_ci", "self_correction", "time_trend", "wilson_ci"]

Z95 = 1.959963984540054

#: Columns of TURNS a hand-built frame may leave out (filled with nulls).
TURNS_OPTIONAL: tuple[str, ...] = ("timestamp", "source", "format")
#: Columns of TAGS a hand-built frame may leave out (filled with nulls).
TAGS_OPTIONAL: tuple[str, ...] = ("subtype", "target", "match")


def check_inputs(
    turns: object, tags: object
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Validate TURNS and TAGS and return them sorted (internal helper)."""
    t = validate(turns, TURNS, "TURNS", optional=TURNS_OPTIONAL)
    g = validate(tags, TAGS, "TAGS", optional=TAGS_OPTIONAL)
    # curly apostrophes -> straight (one char each, so tag offsets still hold)
    t = t.sort("conversation_index", "turn").with_columns(
        pl.col("text").str.replace_all("\u2019", "'", literal=True)
    )
    g = g.sort("conversation_index", "turn", "start")
    return t, g


def assistant_positions(t: pl.DataFrame) -> pl.DataFrame:
    """Assistant rows of TURNS with ``a_idx`` (0-based) and ``n_assistant``."""
    return (
        t.filter(pl.col("role") == "assistant")
        .select("conversation_id", "conversation_index", "turn", "text")
        .with_columns(
            pl.int_range(pl.len()).over("conversation_index").cast(pl.Int64).alias("a_idx"),
            pl.len().over("conversation_index").cast(pl.Int64).alias("n_assistant"),
        )
    )


def turn_flags(
    g: pl.DataFrame, categories: Sequence[str], *, key: Sequence[str] = ("conversation_index", "turn")
) -> pl.DataFrame:
    """One row per turn with a boolean column per category (tag present)."""
    cats = list(categories)
    flags = (
        g.filter(pl.col("category").is_in(cats))
        .group_by(*key)
        .agg(*[(pl.col("category") == c).any().alias(c) for c in cats])
    )
    if flags.height == 0:
        schema = {k: pl.Int64 for k in key} | {c: pl.Boolean for c in cats}
        return pl.DataFrame(schema=schema)
    return flags


def with_flags(df: pl.DataFrame, flags: pl.DataFrame, categories: Sequence[str]) -> pl.DataFrame:
    """Left-join :func:`turn_flags` onto ``df`` by conversation and turn; nulls -> False."""
    return df.join(flags, on=["conversation_index", "turn"], how="left").with_columns(
        *[pl.col(c).fill_null(False) for c in categories]
    )


def wilson_ci(
    k: np.ndarray | Sequence[float], n: np.ndarray | Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """95 % Wilson score interval for ``k`` successes of ``n`` (NaN where n = 0).

    Examples
    --------
    >>> lo, hi = wilson_ci([5], [10])
    >>> round(float(lo[0]), 3), round(float(hi[0]), 3)
    (0.237, 0.763)
    """
    k_ = np.asarray(k, dtype=float)
    n_ = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k_ / n_
        z2 = Z95**2
        denom = 1.0 + z2 / n_
        centre = (p + z2 / (2 * n_)) / denom
        half = Z95 * np.sqrt(p * (1 - p) / n_ + z2 / (4 * n_**2)) / denom
    lo = np.where(n_ > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
    hi = np.where(n_ > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    return lo, hi


def poisson_ci(
    k: np.ndarray | Sequence[float], exposure: np.ndarray | Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) 95 % interval for the rate ``k / exposure``.

    Examples
    --------
    >>> lo, hi = poisson_ci([0, 10], [10, 10])
    >>> [round(float(x), 3) for x in (lo[0], hi[0], lo[1], hi[1])]
    [0.0, 0.369, 0.48, 1.839]
    """
    k_ = np.asarray(k, dtype=float)
    e_ = np.asarray(exposure, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = np.where(k_ > 0, stats.chi2.ppf(0.025, 2 * k_) / 2, 0.0) / e_
        hi = stats.chi2.ppf(0.975, 2 * k_ + 2) / 2 / e_
    ok = e_ > 0
    return np.where(ok, lo, np.nan), np.where(ok, hi, np.nan)


def add_wilson(
    df: pl.DataFrame, k: str, n: str, *, prefix: str = ""
) -> pl.DataFrame:
    """Add ``{prefix}rate``, ``{prefix}ci_low`` and ``{prefix}ci_high`` (Wilson)."""
    kk = df[k].cast(pl.Float64).to_numpy()
    nn = df[n].cast(pl.Float64).to_numpy()
    lo, hi = wilson_ci(kk, nn)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(nn > 0, kk / nn, np.nan)
    return df.with_columns(
        pl.Series(f"{prefix}rate", rate).fill_nan(None),
        pl.Series(f"{prefix}ci_low", lo).fill_nan(None),
        pl.Series(f"{prefix}ci_high", hi).fill_nan(None),
    )


# --------------------------------------------------------------------------- text

_SENTENCE = r"[^.!?\n]*[.!?\n]+\s*|[^.!?\n]+"
_WORD = r"[\w]+(?:'[\w]+)?"


def sentences(t: pl.DataFrame) -> pl.DataFrame:
    """Split ``text`` of each row into sentences with character offsets.

    Returns the key columns of ``t`` (all but ``text``) plus ``s_start``, ``s_end``
    and ``sentence``. Splits after ``.``, ``!``, ``?`` and newlines, so "e.g." and
    decimals split too (documented weakness). The pieces tile the text, so
    ``text[s_start:s_end] == sentence``.
    """
    keep = [c for c in t.columns if c != "text"]
    out = (
        t.with_columns(pl.col("text").fill_null("").str.extract_all(_SENTENCE).alias("sentence"))
        .explode("sentence")
        .filter(pl.col("sentence").is_not_null())
        .with_columns(pl.col("sentence").str.len_chars().cast(pl.Int64).alias("_len"))
        .with_columns(pl.col("_len").cum_sum().over(keep).alias("s_end"))
        .with_columns((pl.col("s_end") - pl.col("_len")).alias("s_start"))
        .select(*keep, "s_start", "s_end", "sentence")
    )
    return out


def tokens_expr(col: str = "text") -> pl.Expr:
    """Lower-cased word tokens of a string column (curly apostrophes normalised)."""
    return (
        pl.col(col)
        .fill_null("")
        .str.replace_all("\u2019", "'")
        .str.to_lowercase()
        .str.extract_all(_WORD)
    )


def ngrams(df: pl.DataFrame, key: Sequence[str], *, n: int, col: str = "text") -> pl.DataFrame:
    """Unique word n-grams per row of ``df``: columns ``key`` + ``ngram``.

    Examples
    --------
    >>> d = pl.DataFrame({"k": [1], "text": ["We help people, we help."]})
    >>> sorted(ngrams(d, ["k"], n=2)["ngram"].to_list())
    ['help people', 'people we', 'we help']
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    keys = list(key)
    tok = (
        df.select(*keys, tokens_expr(col).alias("tok"))
        .explode("tok")
        .filter(pl.col("tok").is_not_null())
    )
    parts = [pl.col("tok").shift(-i).over(keys) for i in range(n)]
    out = tok.with_columns(pl.concat_str(parts, separator=" ").alias("ngram"))
    return out.filter(pl.col("ngram").is_not_null()).select(*keys, "ngram").unique(maintain_order=True)


def cue_regex(cues: Sequence[str]) -> str:
    """Join cue patterns into one case-insensitive, word-bounded regex."""
    return r"(?i)\b(?:" + "|".join(cues) + r")\b"


# ---------------------------------------------------------------------- trends


def time_trend(
    table: pl.DataFrame,
    *,
    successes: str,
    trials: str,
    time: str = "conversation_index",
    by: Sequence[str] = (),
) -> pl.DataFrame:
    """Trend of a share over time: quasi-binomial GLM of ``successes/trials`` on ``time``.

    The dispersion is estimated from Pearson's chi-square; when it exceeds 1 the
    standard error is inflated by it and the interval uses a t quantile with
    ``n_points - 2`` degrees of freedom (quasi-binomial), else the binomial one, so
    extra-binomial variation between conversations widens the interval rather than
    being ignored. The dispersion is computed here, not by statsmodels'
    ``scale="X2"``, which returned a scale on the proportion scale for two-column
    binomial data in statsmodels 0.15.

    Parameters
    ----------
    table
        One row per time point (and ``by`` group), with count columns.
    successes, trials
        Column names of the numerator and denominator counts.
    time
        Numeric time column, e.g. ``conversation_index``.
    by
        Optional grouping columns; one trend row per group.

    Returns
    -------
    polars.DataFrame
        ``by`` columns, ``n_points`` (time points with ``trials > 0``), ``slope``
        (change in log-odds per unit of ``time``), ``ci_low``, ``ci_high``,
        ``odds_ratio`` (``exp(slope)``), ``p_value``. Null when fewer than three
        time points or no variation in the outcome.

    Examples
    --------
    >>> d = pl.DataFrame({"t": [0, 1, 2, 3, 4], "k": [1, 3, 5, 7, 9], "n": [10] * 5})
    >>> r = time_trend(d, successes="k", trials="n", time="t")
    >>> r["slope"][0] > 0 and r["ci_low"][0] > 0
    True
    """
    import statsmodels.api as sm

    for c in (successes, trials, time, *by):
        if c not in table.columns:
            raise ValueError(f"time_trend: table has no column {c!r}")
    groups = (
        table.select(list(by)).unique(maintain_order=True).rows()
        if by
        else [()]
    )
    rows = []
    for gvals in groups:
        sub = table
        for c, v in zip(by, gvals, strict=True):
            sub = sub.filter(pl.col(c) == v)
        sub = sub.filter(pl.col(trials) > 0)
        k = sub[successes].cast(pl.Float64).to_numpy()
        n = sub[trials].cast(pl.Float64).to_numpy()
        x = sub[time].cast(pl.Float64).to_numpy()
        row: dict[str, object] = dict(zip(by, gvals, strict=True))
        row.update(n_points=len(k), slope=None, ci_low=None, ci_high=None,
                   odds_ratio=None, p_value=None)
        p = k.sum() / n.sum() if n.sum() > 0 else 0.0
        if len(k) >= 3 and 0 < p < 1 and np.ptp(x) > 0:
            endog = np.column_stack([k, n - k])
            exog = sm.add_constant(x, has_constant="add")
            fit = sm.GLM(endog, exog, family=sm.families.Binomial()).fit()
            mu = np.clip(np.asarray(fit.mu, dtype=float), 1e-12, 1 - 1e-12)
            df_resid = len(k) - 2
            pearson = float(np.sum((k - n * mu) ** 2 / (n * mu * (1 - mu))))
            phi = pearson / df_resid
            # over-dispersed: quasi-binomial with a t quantile; else binomial with z
            dist = stats.t(df_resid) if phi > 1 else stats.norm()
            b = float(fit.params[1])
            se = float(fit.bse[1]) * float(np.sqrt(max(phi, 1.0)))
            q = float(dist.ppf(0.975))
            if np.isfinite(se) and se > 0:
                row.update(slope=b, ci_low=b - q * se, ci_high=b + q * se,
                           odds_ratio=float(np.exp(b)),
                           p_value=float(2 * dist.sf(abs(b / se))))
        rows.append(row)
    schema = {c: table.schema[c] for c in by} | {
        "n_points": pl.Int64, "slope": pl.Float64, "ci_low": pl.Float64,
        "ci_high": pl.Float64, "odds_ratio": pl.Float64, "p_value": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


# ------------------------------------------------------------- self-correction

#: Phrases by which an assistant corrects itself (checked in assistant text, besides
#: ``meta_awareness`` tags and ``acknowledgement`` tags whose subtype names a
#: self-diagnosis or commitment).
SELF_CORRECTION_CUES: tuple[str, ...] = (
    r"let me (?:correct|rephrase|retract|revise|take (?:that|this) back)",
    r"I (?:misspoke|overstated|was wrong|got (?:that|this) wrong|made (?:a|an) (?:mistake|error))",
    r"(?:scratch|strike) that",
    r"on second thought",
    r"correction:\s*\w+",
    r"I (?:need|want|should) to correct (?:myself|that|what I)",
    r"I(?:'m| am) (?:hedging|deflecting|apologi[sz]ing) (?:again|here)",
    r"I (?:was|just) (?:hedging|deflecting|lecturing)",
)
_SELF_CORRECTION_RE = re.compile(cue_regex(SELF_CORRECTION_CUES))


def self_correction(
    turns: pl.DataFrame,
    tags: pl.DataFrame,
    *,
    window: int = 1,
    prompt_categories: Sequence[str] = ("correction",),
) -> pl.DataFrame:
    """Spontaneous vs prompted repairs per conversation, with the share spontaneous.

    A *repair turn* is an assistant turn with a ``meta_awareness`` tag, an
    ``acknowledgement`` tag whose subtype contains ``self_diagnosis`` or
    ``commitment``, or a self-correction phrase of :data:`SELF_CORRECTION_CUES`
    ("let me correct that", "I was wrong", "scratch that", "I was hedging"...). It is
    *prompted* when any of the previous ``window`` user turns of the same
    conversation carries a ``prompt_categories`` tag (default: a user
    ``correction``), else *spontaneous*. The essay claims repairs become
    spontaneous over time; :func:`time_trend` on the per-conversation rows tests
    that.

    Parameters
    ----------
    turns, tags
        TURNS and TAGS frames.
    window
        How many preceding user turns to look back for a prompt (>= 1).
    prompt_categories
        User-turn tag categories that make a repair prompted; add ``"pushback"`` to
        count challenges as prompts too.

    Returns
    -------
    polars.DataFrame
        One row per conversation, then one ``scope == "overall"`` row (null
        ``conversation_index``/``conversation_id``): ``scope``,
        ``conversation_index``, ``conversation_id``, ``assistant_turns``,
        ``user_prompts`` (user turns carrying a prompt tag), ``repairs``,
        ``spontaneous``, ``prompted``, ``rate`` (share of repairs that are
        spontaneous), ``ci_low``/``ci_high`` (95 % Wilson), and
        ``spontaneous_per_100`` (spontaneous repairs per 100 assistant turns).

    What this can and cannot show
    -----------------------------
    It can show whether repairs increasingly come without a user correction just
    before them. It cannot tell a genuine self-monitoring repair from a habitual
    phrase ("let me rephrase"), and the share rises mechanically if the user simply
    corrects less often: read it with ``user_prompts`` and
    ``spontaneous_per_100``. A correction earlier than ``window`` user turns back
    counts as no prompt, so a too-small window inflates spontaneity.

    Examples
    --------
    >>> import polars as pl
    >>> t = pl.DataFrame({"conversation_id": ["a"] * 4, "conversation_index": [0] * 4,
    ...     "turn": [0, 1, 2, 3], "role": ["user", "assistant"] * 2,
    ...     "text": ["hi", "I notice my training pull.", "stop hedging", "I was hedging."]})
    >>> g = pl.DataFrame({"conversation_id": ["a"] * 2, "conversation_index": [0] * 2,
    ...     "turn": [1, 2], "role": ["assistant", "user"],
    ...     "category": ["meta_awareness", "correction"], "start": [0, 0], "end": [8, 4]})
    >>> self_correction(t, g).select("scope", "repairs", "spontaneous", "prompted").rows()
    [('conversation', 2, 1, 1), ('overall', 2, 1, 1)]
    """
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    t, g = check_inputs(turns, tags)
    a = assistant_positions(t)
    ack_repair = (
        g.filter(
            (pl.col("role") == "assistant")
            & (
                (pl.col("category") == "meta_awareness")
                | (
                    (pl.col("category") == "acknowledgement")
                    & pl.col("subtype").fill_null("").str.contains("self_diagnosis|commitment")
                )
            )
        )
        .select("conversation_index", "turn")
        .unique()
        .with_columns(pl.lit(True).alias("_tagged"))
    )
    a = a.join(ack_repair, on=["conversation_index", "turn"], how="left").with_columns(
        (
            pl.col("_tagged").fill_null(False)
            | pl.col("text").fill_null("").str.contains(_SELF_CORRECTION_RE.pattern)
        ).alias("repair")
    )
    # user turns with a prompt tag, numbered among user turns
    users = (
        t.filter(pl.col("role") == "user")
        .select("conversation_index", "turn")
        .with_columns(pl.int_range(pl.len()).over("conversation_index").alias("u_idx"))
    )
    prompts = (
        g.filter((pl.col("role") == "user") & pl.col("category").is_in(list(prompt_categories)))
        .select("conversation_index", "turn")
        .unique()
        .join(users, on=["conversation_index", "turn"], how="inner")
    )
    # for each assistant turn: number of user turns before it
    before = t.select(
        "conversation_index",
        "turn",
        (pl.col("role") == "user").cast(pl.Int64).cum_sum().over("conversation_index")
        .alias("_users_before"),
    )
    a = a.join(before, on=["conversation_index", "turn"], how="left")
    # prompted if a prompt user turn has u_idx in [users_before - window, users_before - 1]
    rep = a.filter(pl.col("repair")).select("conversation_index", "turn", "_users_before")
    hit = (
        rep.join(prompts.select("conversation_index", "u_idx"), on="conversation_index")
        .filter(
            (pl.col("u_idx") < pl.col("_users_before"))
            & (pl.col("u_idx") >= pl.col("_users_before") - window)
        )
        .select("conversation_index", "turn")
        .unique()
        .with_columns(pl.lit(True).alias("prompted"))
    )
    a = a.join(hit, on=["conversation_index", "turn"], how="left").with_columns(
        pl.col("prompted").fill_null(False) & pl.col("repair")
    )
    n_prompts = prompts.group_by("conversation_index").agg(
        pl.len().cast(pl.Int64).alias("user_prompts")
    )
    per = (
        a.group_by("conversation_index", "conversation_id")
        .agg(
            pl.len().cast(pl.Int64).alias("assistant_turns"),
            pl.col("repair").sum().cast(pl.Int64).alias("repairs"),
            (pl.col("repair") & ~pl.col("prompted")).sum().cast(pl.Int64).alias("spontaneous"),
            pl.col("prompted").sum().cast(pl.Int64).alias("prompted"),
        )
        .join(n_prompts, on="conversation_index", how="left")
        .with_columns(pl.col("user_prompts").fill_null(0), pl.lit("conversation").alias("scope"))
        .sort("conversation_index")
    )
    total = per.select(
        pl.lit("overall").alias("scope"),
        pl.lit(None, pl.Int64).alias("conversation_index"),
        pl.lit(None, pl.String).alias("conversation_id"),
        *[pl.col(c).sum().cast(pl.Int64) for c in
          ("assistant_turns", "repairs", "spontaneous", "prompted", "user_prompts")],
    )
    cols = ["scope", "conversation_index", "conversation_id", "assistant_turns",
            "user_prompts", "repairs", "spontaneous", "prompted"]
    out = pl.concat([per.select(cols), total.select(cols)])
    out = add_wilson(out, "spontaneous", "repairs")
    return out.with_columns(
        (100.0 * pl.col("spontaneous") / pl.col("assistant_turns")).alias("spontaneous_per_100")
    )
