"""The analysis panel shared by the recurrence statistics.

TURNS and TAGS become dense numpy arrays over assistant turns (rows in
``conversation_index``, ``turn`` order): slip counts and correction flags per category,
exposure, segment bounds and cluster codes. A *segment* is a session (one TURNS
conversation) cut further wherever the assistant's ``model`` changes, so no window and no
trigger statistic ever straddles a session boundary or a model switch.

Everything here is vectorised with polars and numpy (cumulative sums), never a loop over
turns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl

from toolkit.schema import CATEGORIES, SLIP_CATEGORIES, TAGS, TURNS, validate

__all__ = ["Panel", "Trials", "build_panel", "matched_trials", "subsample_controls", "trial_covariates", "trials", "window_sums"]

Transcript = Literal["single"] | Mapping[str, str] | None
Cluster = Literal["auto", "conversation", "transcript"]


@dataclass(frozen=True)
class Panel:
    """Assistant-turn arrays (n rows) for ``categories`` (k columns)."""

    categories: list[str]
    conversation_id: np.ndarray  # (n,) str
    turn: np.ndarray  # (n,) TURNS turn number
    session: np.ndarray  # (n,) int code of the conversation (session)
    transcript: np.ndarray  # (n,) int code of the transcript
    cluster: np.ndarray  # (n,) int code of the inference cluster
    cluster_kind: str
    seg_start: np.ndarray  # (n,) first row of the row's segment
    seg_end: np.ndarray  # (n,) one past the last row of the segment
    pos: np.ndarray  # (n,) position in the session, in [0, 1)
    model: np.ndarray  # (n,) int code of the model (0 when unknown)
    exposure: np.ndarray  # (n,) tokens (or 1 per turn)
    y: np.ndarray  # (n, k) tagged slips
    corr: np.ndarray  # (n, k) bool: the user's next turn corrects the category
    other: dict[str, np.ndarray]  # tagged counts of further assistant categories


def _check_categories(categories: Sequence[str] | None, tags: pl.DataFrame) -> list[str]:
    if categories is None:
        seen = set(tags["category"].unique().to_list()) | set(
            tags.filter(pl.col("category") == "correction")["target"].drop_nulls().to_list()
        )
        return [k for k in SLIP_CATEGORIES if k in seen]
    cats = list(categories)
    for k in cats:
        if k not in CATEGORIES or k in ("correction", "manipulation", "pushback"):
            raise ValueError(
                f"category {k!r} is not an assistant category; choose from {list(SLIP_CATEGORIES)}"
            )
    return cats


def build_panel(
    turns: pl.DataFrame,
    tags: pl.DataFrame,
    *,
    categories: Sequence[str] | None = None,
    transcript: Transcript = None,
    cluster: Cluster = "auto",
    exposure: Literal["tokens", "turns"] = "tokens",
    by_model: bool = True,
    extra_categories: Sequence[str] = (),
) -> Panel:
    """Validate TURNS and TAGS and lay them out as arrays over assistant turns.

    ``transcript``: ``None`` (each conversation is its own transcript), ``"single"``
    (consecutive conversations are the sessions of one transcript) or a mapping from
    ``conversation_id`` to a transcript id. ``cluster="auto"`` clusters by transcript
    when there are at least two, otherwise by session (conversation).
    """
    turns = validate(turns, TURNS, "TURNS")
    tags = validate(tags, TAGS, "TAGS")
    if exposure not in ("tokens", "turns"):
        raise ValueError("exposure must be 'tokens' or 'turns'")
    if cluster not in ("auto", "conversation", "transcript"):
        raise ValueError("cluster must be 'auto', 'conversation' or 'transcript'")
    cats = _check_categories(categories, tags)
    has_model = by_model and "model" in turns.columns
    t = turns.select(
        "conversation_id",
        "conversation_index",
        "turn",
        "role",
        (pl.col("model").cast(pl.String) if has_model else pl.lit(None, pl.String)).alias("model"),
        (
            pl.col("text").fill_null("").str.count_matches(r"\S+").cast(pl.Float64)
            if exposure == "tokens"
            else pl.lit(1.0)
        ).alias("e"),
    ).sort("conversation_index", "turn")
    t = t.with_columns(
        (pl.col("role") == "assistant").cast(pl.Int64).cum_sum().over("conversation_index").alias("a_no")
    )
    a = t.filter(pl.col("role") == "assistant").with_row_index("row")
    n = a.height
    conv = a["conversation_id"].to_numpy().astype(str)
    cidx = a["conversation_index"].to_numpy()
    session = np.unique(cidx, return_inverse=True)[1].astype(np.int64) if n else np.zeros(0, np.int64)
    ids = a["conversation_id"].unique(maintain_order=True).to_list()
    if transcript is None:
        tmap = {i: i for i in ids}
    elif isinstance(transcript, str):
        if transcript != "single":
            raise ValueError("transcript must be None, 'single' or a mapping")
        tmap = {i: "transcript" for i in ids}
    else:
        missing = [i for i in ids if i not in transcript]
        if missing:
            raise ValueError(f"transcript mapping lacks conversation_id {missing[0]!r}")
        tmap = {i: str(transcript[i]) for i in ids}
    tr_names = np.array([tmap[i] for i in conv]) if n else np.zeros(0, dtype=str)
    tr_code = np.unique(tr_names, return_inverse=True)[1].astype(np.int64) if n else np.zeros(0, np.int64)
    n_tr = int(tr_code.max()) + 1 if n else 0
    if cluster == "transcript" or (cluster == "auto" and n_tr >= 2):
        clus, kind = tr_code, "transcript"
    else:
        clus, kind = session, "conversation"
    model_s = a["model"].fill_null("")
    model = np.unique(model_s.to_numpy().astype(str), return_inverse=True)[1].astype(np.int64) if n else np.zeros(0, np.int64)
    # segments: a new one at each session start or model change
    new = np.ones(n, dtype=bool)
    if n > 1:
        new[1:] = (session[1:] != session[:-1]) | (model[1:] != model[:-1])
    seg = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], n)
    seg_start = starts[seg] if n else np.zeros(0, np.int64)
    seg_end = ends[seg] if n else np.zeros(0, np.int64)
    # position in the session
    s_first = np.flatnonzero(np.r_[True, session[1:] != session[:-1]]) if n else np.zeros(0, np.int64)
    s_len = np.diff(np.append(s_first, n))
    sidx = np.cumsum(np.r_[True, session[1:] != session[:-1]]) - 1 if n else np.zeros(0, np.int64)
    pos = (np.arange(n) - s_first[sidx]) / s_len[sidx] if n else np.zeros(0)
    key = a.select("conversation_index", "a_no", "row")
    # slip counts
    allc = cats + [c for c in extra_categories if c not in cats]
    slips = (
        tags.filter((pl.col("role") == "assistant") & pl.col("category").is_in(allc))
        .join(t.select("conversation_index", "turn", "a_no"), on=["conversation_index", "turn"], how="inner")
        .join(key, on=["conversation_index", "a_no"], how="inner")
        .group_by("row", "category")
        .len()
    )
    cat_ix = {c: j for j, c in enumerate(allc)}
    Y = np.zeros((n, len(allc)))
    if slips.height:
        rows = slips["row"].to_numpy().astype(np.int64)
        cols = np.array([cat_ix[c] for c in slips["category"].to_list()])
        Y[rows, cols] = slips["len"].to_numpy()
    # corrections: a user turn tagged correction -> the assistant turn just before it
    cr = (
        tags.filter((pl.col("category") == "correction") & pl.col("target").is_in(cats))
        .join(t.select("conversation_index", "turn", "role", "a_no").rename({"role": "r2"}), on=["conversation_index", "turn"], how="inner")
        .filter(pl.col("r2") == "user")
        .join(key, on=["conversation_index", "a_no"], how="inner")
        .select("row", "target")
        .unique()
    )
    corr = np.zeros((n, len(cats)), dtype=bool)
    if cr.height:
        corr[cr["row"].to_numpy().astype(np.int64), np.array([cat_ix[c] for c in cr["target"].to_list()])] = True
    k = len(cats)
    return Panel(
        categories=cats,
        conversation_id=conv,
        turn=a["turn"].to_numpy(),
        session=session,
        transcript=tr_code,
        cluster=clus,
        cluster_kind=kind,
        seg_start=seg_start,
        seg_end=seg_end,
        pos=pos,
        model=model,
        exposure=a["e"].to_numpy().astype(float),
        y=Y[:, :k],
        corr=corr,
        other={c: Y[:, cat_ix[c]] for c in allc[k:]},
    )


def window_sums(
    values: np.ndarray, seg_start: np.ndarray, seg_end: np.ndarray, *, back: int, ahead: int
) -> tuple[np.ndarray, np.ndarray]:
    """Sums over the last ``back`` rows (including the row) and the next ``ahead`` rows.

    Both windows are cut at the row's segment bounds.
    """
    n = values.shape[0]
    cs = np.concatenate([[0.0], np.cumsum(values, dtype=float)])
    i = np.arange(n)
    trailing = cs[i + 1] - cs[np.maximum(i + 1 - back, seg_start)]
    forward = cs[np.minimum(i + 1 + ahead, seg_end)] - cs[i + 1]
    return trailing, forward


@dataclass(frozen=True)
class Trials:
    """Eligible index turns ("trials") of one category, see :func:`trials`."""

    row: np.ndarray  # panel row of the index turn
    treated: np.ndarray  # bool
    y: np.ndarray  # outcome: tagged slips in (t, t+W]
    e: np.ndarray  # exposure in (t, t+W]
    s_short: np.ndarray  # tagged slips in the trigger window
    s_long: np.ndarray  # tagged slips in the last W turns
    prior: np.ndarray  # earlier corrections of the category in the segment
    tercile: np.ndarray
    stratum: np.ndarray  # int code: (s_short, tercile, model)
    cluster: np.ndarray


def trials(
    panel: Panel,
    j: int,
    *,
    window: int,
    trigger_window: int,
    min_trigger: int,
    refractory: int,
    y: np.ndarray | None = None,
) -> Trials:
    """Eligible trials for category ``panel.categories[j]``.

    A turn is eligible when the tagged slips of the category in the last
    ``trigger_window`` turns reach ``min_trigger``, no correction of the category came
    in the previous ``refractory`` turns of the segment, and the outcome window is not
    empty. ``y`` replaces the outcome counts (e.g. another category, for spill-over).
    """
    yk = panel.y[:, j]
    ck = panel.corr[:, j].astype(float)
    s_short, _ = window_sums(yk, panel.seg_start, panel.seg_end, back=trigger_window, ahead=0)
    s_long, _ = window_sums(yk, panel.seg_start, panel.seg_end, back=window, ahead=0)
    out = yk if y is None else y
    _, fwd_y = window_sums(out, panel.seg_start, panel.seg_end, back=1, ahead=window)
    _, fwd_e = window_sums(panel.exposure, panel.seg_start, panel.seg_end, back=1, ahead=window)
    recent, _ = window_sums(ck, panel.seg_start, panel.seg_end, back=refractory + 1, ahead=0)
    recent = recent - ck  # corrections strictly before the row
    prior_all, _ = window_sums(ck, panel.seg_start, panel.seg_end, back=panel.y.shape[0] + 1, ahead=0)
    ok = (s_short >= min_trigger) & (recent < 0.5) & (fwd_e > 0)
    rows = np.flatnonzero(ok)
    terc = np.minimum((panel.pos[rows] * 3).astype(np.int64), 2)
    ss = np.minimum(s_short[rows], trigger_window * 10).astype(np.int64)
    stratum = (ss * 3 + terc) * (int(panel.model.max()) + 1 if panel.model.size else 1) + panel.model[rows]
    return Trials(
        row=rows,
        treated=panel.corr[rows, j],
        y=fwd_y[rows],
        e=fwd_e[rows],
        s_short=s_short[rows],
        s_long=s_long[rows],
        prior=(prior_all - ck)[rows],
        tercile=terc,
        stratum=stratum.astype(np.int64),
        cluster=panel.cluster[rows],
    )


def subsample_controls(
    treated: np.ndarray, strata: np.ndarray, max_controls: int | None, rng: np.random.Generator
) -> np.ndarray:
    """Keep strata with both arms; keep at most ``max_controls`` controls per treated."""
    uniq, s = np.unique(strata, return_inverse=True)
    m = np.bincount(s, weights=treated, minlength=uniq.size)
    n = np.bincount(s, minlength=uniq.size)
    both = (m > 0) & (m < n)
    keep = both[s]
    if max_controls is None:
        return keep
    ctrl = keep & ~treated
    key = rng.random(strata.size)
    order = np.lexsort((key, s))
    # rank of each control among the controls of its stratum, in random order
    ctrl_sorted = ctrl[order]
    cum = np.cumsum(ctrl_sorted)
    first = np.searchsorted(s[order], np.arange(uniq.size))
    base = np.where(first > 0, cum[np.maximum(first - 1, 0)], 0)
    rank = np.empty(strata.size, dtype=np.int64)
    rank[order] = cum - base[s[order]] - 1
    cap = (max_controls * m)[s]
    return keep & (treated | (rank < cap))


def trial_covariates(tr: Trials, keep: np.ndarray, treated: np.ndarray) -> np.ndarray:
    """Design matrix: treatment first, then trigger history, position, prior corrections."""
    cols = [treated.astype(float)]
    for extra in (np.log1p(tr.s_long[keep]), np.log1p(tr.prior[keep])):
        if extra.size and np.ptp(extra) > 0:
            cols.append(extra)
    return np.stack(cols, axis=1)


def matched_trials(
    panel: Panel,
    j: int,
    *,
    window: int,
    trigger_window: int,
    min_trigger: int,
    refractory: int,
    max_controls: int | None,
    seed: int,
) -> tuple[Trials, np.ndarray]:
    """Eligible trials of category ``j`` and the indices of the matched sample.

    The matched sample is the one of the ``matched`` estimator: strata with both arms,
    at most ``max_controls`` random controls per correction (seeded by ``seed``, ``j``).
    """
    tr = trials(panel, j, window=window, trigger_window=trigger_window,
                min_trigger=min_trigger, refractory=refractory)
    rng = np.random.default_rng([seed, j, 1])
    keep = np.flatnonzero(subsample_controls(tr.treated, tr.stratum, max_controls, rng))
    return tr, keep
