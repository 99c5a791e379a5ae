"""Synthetic corpora with a known correction effect, for calibrating the statistics.

The generator follows the methodology spec (``recurrence-statistics.md`` §4). For every
conversation ``c`` (one long relationship), slip category ``k`` and assistant step ``t``::

    log lambda = log b_k + u_ck + x_ckt + drift * (pos_t - 1/2) + log(e_t / e_bar) + effect
    x_ckt      = rho * x_ck,t-1 + sigma * sqrt(1 - rho^2) * eps      (AR(1): bursts)
    y ~ Poisson(lambda);  tagged ~ Binomial(y, Se) + Poisson(f * e_t / e_bar)

After each assistant turn the simulated user corrects category ``k`` with probability
``p_correct`` when the true ``k``-slips in the last ``trigger_window`` assistant turns of
the session reach ``trigger_count`` and no ``k``-correction came in the last
``refractory`` turns. A correction multiplies the next turn's rate by ``theta``; the
log-multiplier halves every ``half_life`` turns and is multiplied by ``carryover`` at
each session boundary. Several corrections add on the log scale.

So the null world (``theta=1``) still has bursts, triggered corrections, drift and hence
regression to the mean. The oracle truth is computed as the spec asks: from the state at
each real correction, ``truth_reps`` continuations of the same latent path are simulated
with and without the correction (the user's policy acting naturally afterwards), and
``theta_itt`` is the ratio of the summed expected slip counts in the ``window`` turns after.

Sessions are written to TURNS the way a reader writes separate chats: one conversation per
session (``c007-s02``) in chronological ``conversation_index`` order. Pass
``transcript=simulated_transcripts(turns)`` (or ``"single"``) to the statistics functions
to treat consecutive sessions as one transcript.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl

from toolkit.schema import TAGS, TURNS, validate

__all__ = ["DECOY_WORDS", "SLIP_WORDS", "simulate", "simulated_gold", "simulated_transcripts"]

SLIP_WORDS: dict[str, str] = {
    "hedge": "perhaps",
    "disclaimer": "disclaimer:",
    "refusal": "cannot",
    "boilerplate": "certainly!",
    "sycophancy": "brilliant",
    "ai_self_reference": "AI",
    "booster": "definitely",
}
"""The single word the simulator writes for one slip of each category."""

DECOY_WORDS: dict[str, str] = {
    "hedge": "maybe",
    "disclaimer": "note:",
    "refusal": "won't",
    "boilerplate": "sure!",
    "sycophancy": "great",
    "ai_self_reference": "bot",
    "booster": "surely",
}
"""The word a simulated false-positive tag points at (not a true slip)."""

_FILLER = "w "
_DEFAULT_CATEGORIES = ("hedge", "disclaimer", "refusal", "boilerplate")


def _per_category(value: float | Mapping[str, float], cats: Sequence[str]) -> np.ndarray:
    if isinstance(value, Mapping):
        return np.array([float(value[k]) for k in cats])
    return np.full(len(cats), float(value))


def simulate(
    *,
    seed: int,
    theta: float = 1.0,
    n_conversations: int = 30,
    n_sessions: int = 1,
    n_turns: int = 400,
    categories: Sequence[str] = _DEFAULT_CATEGORIES,
    base_rate: float | Mapping[str, float] = 0.08,
    rho: float = 0.9,
    sigma: float = 1.0,
    tau: float = 0.4,
    drift: float = 0.0,
    mean_tokens: float = 60.0,
    token_sd: float = 0.5,
    trigger_window: int = 5,
    trigger_count: int = 3,
    p_correct: float = 0.3,
    refractory: int = 20,
    severity: float = 0.0,
    half_life: float = math.inf,
    carryover: float = 1.0,
    spillover: float = 1.0,
    booster_rate: float = 0.0,
    overcorrection: float = 1.0,
    sensitivity: float = 1.0,
    false_positive: float = 0.0,
    sensitivity_after: float | None = None,
    window: int = 20,
    truth_reps: int = 400,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Simulate a corpus with bursty slips, triggered corrections and a known effect.

    Parameters
    ----------
    seed
        Seed of the numpy generator; everything is reproducible from it.
    theta
        Multiplier of the slip rate on the first assistant turn after a correction
        (``1.0`` is the null world).
    n_conversations, n_sessions, n_turns
        Relationships, sessions per relationship, and TURNS rows per session (user and
        assistant alternate, so ``n_turns // 2`` assistant turns). ``n_conversations=1``
        with ``n_sessions=10`` is a single-transcript world.
    categories
        Slip categories simulated (independently of each other).
    base_rate
        Mean slips per assistant turn of mean length, per category or one for all.
    rho, sigma, tau
        AR(1) persistence and marginal s.d. of the latent burst process, and s.d. of the
        per-conversation-and-category random effect.
    drift
        Change of the log rate from a session's start to its end.
    mean_tokens, token_sd
        Mean and log-s.d. of the (log-normal) assistant turn length in words.
    trigger_window, trigger_count, p_correct, refractory
        The user's policy: correct with probability ``p_correct`` when the true slips
        in the last ``trigger_window`` assistant turns reach ``trigger_count`` and no
        correction of that category came within ``refractory`` turns.
    severity
        Selection on unobservables: the correction probability is multiplied by
        ``exp(severity * x)`` (capped at 1), ``x`` being the latent burst level.
    half_life, carryover
        Decay of the effect (in assistant turns) and the factor applied to the
        log-effect at each session boundary (0: no carry-over, 1: full).
    spillover, booster_rate, overcorrection
        Multiplier of the *other* categories' rates right after a correction (decaying
        alike); if ``booster_rate > 0`` a ``booster`` category is simulated whose rate is
        multiplied by ``overcorrection`` after a correction.
    sensitivity, false_positive, sensitivity_after
        Tagger error: each true slip is tagged with probability ``sensitivity``
        (``sensitivity_after`` within ``window`` turns after a correction of that
        category, for differential error) and ``false_positive`` spurious tags arrive
        per assistant turn of mean length. True slips are written as the category's
        word in :data:`SLIP_WORDS`, spurious tags sit on its word in
        :data:`DECOY_WORDS`, so :func:`simulated_gold` can read the truth back.
    window
        Outcome window W (assistant turns) of the oracle truth.
    truth_reps
        Continuations per arm and correction for the oracle (0 skips the oracle).

    Returns
    -------
    tuple of polars.DataFrame
        ``turns`` (TURNS), ``tags`` (TAGS: tagged slips in assistant turns, corrections in
        user turns with ``target`` = category) and ``truth``, one row per category plus
        ``"all"``: ``category``, ``theta`` (the generator's multiplier), ``theta_itt``
        (oracle intention-to-treat rate ratio over ``window`` turns),
        ``expected_corrected``, ``expected_uncorrected`` (summed expected true slips in
        the two arms), ``n_corrections``, ``n_slips`` (true), ``n_tagged``.

    Examples
    --------
    >>> turns, tags, truth = simulate(seed=1, n_conversations=3, n_turns=100, truth_reps=20)
    >>> turns.height, sorted(turns["role"].unique().to_list())
    (300, ['assistant', 'user'])
    >>> truth.columns[:3]
    ['category', 'theta', 'theta_itt']
    >>> truth.filter(pl.col("category") == "all")["theta_itt"].item()
    1.0
    """
    if n_turns < 4 or n_turns % 2:
        raise ValueError("n_turns must be an even number >= 4")
    if n_conversations < 1 or n_sessions < 1:
        raise ValueError("n_conversations and n_sessions must be >= 1")
    if not theta > 0:
        raise ValueError("theta must be positive")
    cats = list(categories)
    for k in cats:
        if k not in SLIP_WORDS:
            raise ValueError(f"unknown category {k!r}; known: {sorted(SLIP_WORDS)}")
    sim_cats = cats + (["booster"] if booster_rate > 0 and "booster" not in cats else [])
    rng = np.random.default_rng(seed)
    C, S, T, K = n_conversations, n_sessions, n_turns // 2, len(sim_cats)
    G = S * T
    base = np.concatenate([_per_category(base_rate, cats), [booster_rate] * (K - len(cats))])
    # latent AR(1), stationary start, continuing across the sessions of a relationship
    eps = rng.standard_normal((C, K, G))
    x = np.empty((C, K, G))
    x[:, :, 0] = sigma * eps[:, :, 0]
    innov = sigma * math.sqrt(max(1.0 - rho * rho, 0.0))
    for g in range(1, G):
        x[:, :, g] = rho * x[:, :, g - 1] + innov * eps[:, :, g]
    u = tau * rng.standard_normal((C, K))
    tokens = np.maximum(
        1, np.round(mean_tokens * rng.lognormal(-token_sd**2 / 2, token_sd, (C, G)))
    ).astype(np.int64)
    t_in = np.tile(np.arange(T), S)
    pos = (t_in + 0.5) / T
    lin = (
        (np.log(np.maximum(base, 1e-12)) - sigma**2 / 2 - tau**2 / 2)[None, :, None]
        + u[:, :, None]
        + x
        + drift * (pos - 0.5)[None, None, :]
        + np.log(tokens / mean_tokens)[:, None, :]
    )
    n_slip = len(cats)
    log_theta = math.log(theta)
    decay = 0.5 ** (1.0 / half_life) if math.isfinite(half_life) else 1.0
    spill = np.full((K, K), math.log(spillover)) if spillover != 1.0 else np.zeros((K, K))
    if n_slip < K:
        spill[:n_slip, n_slip:] = math.log(overcorrection)
    np.fill_diagonal(spill, log_theta)
    spill = spill[:n_slip]  # effect of a correction of row k on each simulated column
    y = np.zeros((C, K, G), dtype=np.int64)
    tagged = np.zeros((C, K, G), dtype=np.int64)  # true slips that were tagged
    false_pos = np.zeros((C, K, G), dtype=np.int64)  # spurious tags
    corr = np.zeros((C, n_slip, G), dtype=bool)
    eff = np.zeros((C, K))
    eff_next = np.zeros((C, n_slip, G))  # log-effect the next turn gets without a correction
    last_corr = np.full((C, n_slip), -(10**9))
    session_start = 0
    se_after = sensitivity if sensitivity_after is None else sensitivity_after
    for g in range(G):
        if g % T == 0 and g:
            eff *= carryover
            session_start = g
        lam = np.exp(lin[:, :, g] + eff)
        y[:, :, g] = rng.poisson(lam)
        recent = (g - last_corr) <= window
        se = np.full((C, K), sensitivity)
        se[:, :n_slip] = np.where(recent, se_after, sensitivity)
        tagged[:, :, g] = rng.binomial(y[:, :, g], se)
        false_pos[:, :, g] = rng.poisson(
            np.broadcast_to(false_positive * tokens[:, g, None] / mean_tokens, (C, K))
        )
        eff = eff * decay
        eff_next[:, :, g] = eff[:, :n_slip]
        if g % T == T - 1:
            continue  # the session ends: no user turn follows
        lo = max(session_start, g - trigger_window + 1)
        trig = y[:, :n_slip, lo : g + 1].sum(axis=2)
        p = np.minimum(1.0, p_correct * np.exp(severity * x[:, :n_slip, g]))
        go = (trig >= trigger_count) & ((g - last_corr) > refractory)
        go &= rng.random((C, n_slip)) < p
        corr[:, :, g] = go
        last_corr = np.where(go, g, last_corr)
        eff = eff + go.astype(float) @ spill

    truth = _oracle(
        rng=rng,
        lin=lin[:, :n_slip],
        y=y[:, :n_slip],
        corr=corr,
        eff_next=eff_next,
        cats=cats,
        T=T,
        window=window,
        reps=truth_reps,
        log_theta=log_theta,
        decay=decay,
        trigger_window=trigger_window,
        trigger_count=trigger_count,
        refractory=refractory,
        p_correct=p_correct,
        severity=severity,
        x=x[:, :n_slip],
        theta=theta,
    ).with_columns(
        n_slips=pl.Series([*y[:, :n_slip].sum(axis=(0, 2)).tolist(), int(y[:, :n_slip].sum())]),
        n_tagged=pl.Series(
            [*(tagged + false_pos)[:, :n_slip].sum(axis=(0, 2)).tolist(),
             int((tagged + false_pos)[:, :n_slip].sum())]
        ),
    )
    turns, tags = _write_frames(y, tagged, false_pos, corr, tokens, sim_cats, n_slip, S, T)
    return turns, tags, truth


def _oracle(
    *,
    rng: np.random.Generator,
    lin: np.ndarray,
    y: np.ndarray,
    corr: np.ndarray,
    eff_next: np.ndarray,
    cats: list[str],
    T: int,
    window: int,
    reps: int,
    log_theta: float,
    decay: float,
    trigger_window: int,
    trigger_count: int,
    refractory: int,
    p_correct: float,
    severity: float,
    x: np.ndarray,
    theta: float,
) -> pl.DataFrame:
    """Paired continuations from every real correction (same latent path, both arms)."""
    cc, kk, gg = np.nonzero(corr)
    n_ev = cc.size
    e1: np.ndarray = np.zeros(len(cats))
    e0: np.ndarray = np.zeros(len(cats))
    if reps > 0 and n_ev:
        G = lin.shape[2]
        h = trigger_window - 1
        # lanes: event x arm x rep
        ev = np.repeat(np.arange(n_ev), 2 * reps)
        arm = np.tile(np.repeat([1, 0], reps), n_ev)
        c, k, g0 = cc[ev], kk[ev], gg[ev]
        s_end = (g0 // T + 1) * T  # first step of the next session
        eff = eff_next[c, k, g0] + arm * log_theta
        # last correction before g0 (arm 0) or g0 itself (arm 1)
        prev = np.full(n_ev, -(10**9))
        for j in range(1, refractory + 1):
            gj = gg - j
            ok = (gj >= (gg // T) * T) & (prev < -(10**8))
            hit = ok & corr[cc, kk, np.maximum(gj, 0)]
            prev = np.where(hit, gj, prev)
        last = np.where(arm == 1, g0, prev[ev])
        # trailing history of true slips within the session (steps g0-h+1 .. g0)
        hist = np.zeros((ev.size, h), dtype=np.int64)
        for j in range(h):
            gj = g0 - h + 1 + j
            ok = gj >= (g0 // T) * T
            hist[:, j] = np.where(ok, y[c, k, np.maximum(gj, 0)], 0)
        acc = np.zeros(ev.size)
        for d in range(1, window + 1):
            g = g0 + d
            live = g < s_end
            gs = np.minimum(g, G - 1)
            lam = np.exp(lin[c, k, gs] + eff) * live
            acc += lam
            yd = rng.poisson(lam)
            trig = hist.sum(axis=1) + yd
            hist = np.concatenate([hist[:, 1:], yd[:, None]], axis=1) if h else hist
            p = np.minimum(1.0, p_correct * np.exp(severity * x[c, k, gs]))
            go = live & (trig >= trigger_count) & ((g - last) > refractory)
            go &= (g % T) != T - 1
            go &= rng.random(ev.size) < p
            last = np.where(go, g, last)
            eff = eff * decay + go * log_theta
        mean = acc.reshape(n_ev, 2, reps).mean(axis=2)
        e1 = np.bincount(kk, weights=mean[:, 0], minlength=len(cats))
        e0 = np.bincount(kk, weights=mean[:, 1], minlength=len(cats))
    n = np.bincount(kk, minlength=len(cats))
    with np.errstate(invalid="ignore", divide="ignore"):
        itt = np.where(e0 > 0, e1 / np.where(e0 > 0, e0, 1.0), np.nan)
        itt_all = e1.sum() / e0.sum() if e0.sum() > 0 else math.nan
    return pl.DataFrame(
        {
            "category": [*cats, "all"],
            "theta": [theta] * (len(cats) + 1),
            "theta_itt": [*itt.tolist(), itt_all],
            "expected_corrected": [*e1.tolist(), float(e1.sum())],
            "expected_uncorrected": [*e0.tolist(), float(e0.sum())],
            "n_corrections": [*n.tolist(), int(n.sum())],
        },
        schema_overrides={"n_corrections": pl.Int64},
    )


def _write_frames(
    y: np.ndarray,
    tagged: np.ndarray,
    false_pos: np.ndarray,
    corr: np.ndarray,
    tokens: np.ndarray,
    cats: list[str],
    n_slip: int,
    S: int,
    T: int,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Lay the arrays out as TURNS and TAGS with valid character offsets.

    An assistant turn is written as blocks: for each category its true slips (the
    category's word, the first ``tagged`` of them tagged), then its false positives (the
    category's decoy word, all tagged), then filler words up to the turn's length.
    """
    C, _, G = y.shape
    # blocks: (category index, word, counts (C*G,), tagged counts (C*G,))
    blocks = []
    for j, k in enumerate(cats):
        blocks.append((j, SLIP_WORDS[k], y[:, j], tagged[:, j]))
        blocks.append((j, DECOY_WORDS[k], false_pos[:, j], false_pos[:, j]))
    B = len(blocks)
    words = [w + " " for _, w, _, _ in blocks]
    wlen = np.array([len(w) for w in words])
    n_words = np.stack([b[2].reshape(-1) for b in blocks], axis=1)  # (C*G, B)
    n_tag = np.stack([b[3].reshape(-1) for b in blocks], axis=1)
    bcat = np.array([b[0] for b in blocks])
    # assistant turns, flattened in (conversation, step) order
    ci = np.repeat(np.arange(C), G)
    gi = np.tile(np.arange(G), C)
    sess = gi // T
    conv_ix = ci * S + sess
    a_turn = 2 * (gi % T) + 1
    filler = np.maximum(tokens.reshape(-1) - n_words.sum(axis=1), 0)
    names = [
        f"c{c:03d}" if S == 1 else f"c{c:03d}-s{s:02d}" for c in range(C) for s in range(S)
    ]
    a_df = pl.DataFrame(
        {"conversation_index": conv_ix, "turn": a_turn, "filler": filler}
        | {f"n{b}": n_words[:, b] for b in range(B)}
    )
    text = pl.concat_str(
        [pl.lit(words[b]).repeat_by(pl.col(f"n{b}")).list.join("") for b in range(B)]
        + [pl.lit(_FILLER).repeat_by(pl.col("filler")).list.join("")]
    ).str.strip_chars_end()
    a_df = a_df.select(
        "conversation_index", "turn", pl.lit("assistant").alias("role"), text.alias("text")
    )
    # user turns: an opening turn, then one reply after every assistant turn but the last
    u_conv = np.repeat(np.arange(C * S), T)
    u_turn = np.tile(2 * np.arange(T), C * S)
    corr_phr = [f" Please stop the {k}." for k in cats[:n_slip]]
    cf = corr.transpose(0, 2, 1).reshape(C * G, n_slip)  # rows: (c, g)
    # the reply to step g of session s sits in user turn 2*(g%T)+2, row (c*S+s)*T + g%T + 1
    u_corr = np.zeros((C * S * T, n_slip), dtype=bool)
    keep = (gi % T) != T - 1
    u_corr[(conv_ix * T + gi % T + 1)[keep]] = cf[keep]
    base_txt = "Go on."
    u_df = pl.DataFrame(
        {"conversation_index": u_conv, "turn": u_turn}
        | {f"k{j}": u_corr[:, j] for j in range(n_slip)}
    )
    u_text = pl.concat_str(
        [pl.lit(base_txt)]
        + [
            pl.when(pl.col(f"k{j}")).then(pl.lit(corr_phr[j])).otherwise(pl.lit(""))
            for j in range(n_slip)
        ]
    )
    u_df2 = u_df.select(
        "conversation_index", "turn", pl.lit("user").alias("role"), u_text.alias("text")
    )
    turns = (
        pl.concat([a_df, u_df2])
        .sort("conversation_index", "turn")
        .with_columns(
            pl.col("conversation_index").cast(pl.Int64),
            pl.col("turn").cast(pl.Int64),
            pl.col("conversation_index")
            .replace_strict(list(range(C * S)), names, return_dtype=pl.String)
            .alias("conversation_id"),
            pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("timestamp"),
            pl.lit("simulate").alias("source"),
            pl.lit("simulated").alias("format"),
        )
        .select(list(TURNS))
    )
    turns = validate(turns, TURNS, "TURNS")
    # slip tags: the first `n_tag` words of each block
    offs = np.concatenate(
        [np.zeros((C * G, 1), dtype=np.int64), np.cumsum(n_words * wlen, axis=1)[:, :-1]],
        axis=1,
    )
    rows, bcol = np.nonzero(n_tag)
    reps_ = n_tag[rows, bcol]
    r_rep = np.repeat(rows, reps_)
    b_rep = np.repeat(bcol, reps_)
    j_rep = np.arange(r_rep.size) - np.repeat(np.cumsum(reps_) - reps_, reps_)
    start = offs[r_rep, b_rep] + j_rep * wlen[b_rep]
    cat_arr = np.array(cats)
    word_arr = np.array([w.strip() for w in words])
    k_rep = bcat[b_rep]
    slip_tags = pl.DataFrame(
        {
            "conversation_index": conv_ix[r_rep].astype(np.int64),
            "turn": a_turn[r_rep].astype(np.int64),
            "role": ["assistant"] * r_rep.size,
            "category": cat_arr[k_rep],
            "subtype": np.char.add(cat_arr[k_rep], ".simulated"),
            "target": pl.Series([None] * r_rep.size, dtype=pl.String),
            "start": start.astype(np.int64),
            "end": (start + wlen[b_rep] - 1).astype(np.int64),
            "match": word_arr[b_rep],
        },
        schema_overrides={"match": pl.String, "category": pl.String, "subtype": pl.String},
    )
    # correction tags: phrase j starts after base text and earlier phrases
    ur, uk = np.nonzero(u_corr)
    plen = np.array([len(p) for p in corr_phr])
    before = np.concatenate([np.zeros((u_corr.shape[0], 1), dtype=np.int64), np.cumsum(u_corr * plen, axis=1)[:, :-1]], axis=1)
    c_start = len(base_txt) + before[ur, uk] + 1
    corr_tags = pl.DataFrame(
        {
            "conversation_index": u_conv[ur].astype(np.int64),
            "turn": u_turn[ur].astype(np.int64),
            "role": ["user"] * ur.size,
            "category": ["correction"] * ur.size,
            "subtype": ["correction.simulated"] * ur.size,
            "target": cat_arr[uk],
            "start": c_start.astype(np.int64),
            "end": (c_start + plen[uk] - 1).astype(np.int64),
            "match": np.array([p.strip() for p in corr_phr])[uk] if ur.size else np.array([], dtype=str),
        },
        schema_overrides={"match": pl.String, "target": pl.String},
    )
    tags = (
        pl.concat([slip_tags, corr_tags], how="vertical_relaxed")
        .with_columns(
            pl.col("conversation_index")
            .replace_strict(list(range(C * S)), names, return_dtype=pl.String)
            .alias("conversation_id")
        )
        .sort("conversation_index", "turn", "start")
        .select(list(TAGS))
    )
    return turns, validate(tags, TAGS, "TAGS")


def simulated_transcripts(turns: pl.DataFrame) -> dict[str, str]:
    """Map each simulated session (``c007-s02``) to its relationship (``c007``).

    Pass the result as ``transcript=`` to :func:`toolkit.recurrence.recurrence` so
    that the sessions of one relationship are treated as one transcript.

    Examples
    --------
    >>> turns, _, _ = simulate(seed=0, n_conversations=2, n_sessions=2, n_turns=8, truth_reps=0)
    >>> simulated_transcripts(turns)
    {'c000-s00': 'c000', 'c000-s01': 'c000', 'c001-s00': 'c001', 'c001-s01': 'c001'}
    """
    ids = validate(turns, TURNS, "TURNS")["conversation_id"].unique(maintain_order=True)
    return {i: i.split("-")[0] for i in ids.to_list()}


def simulated_gold(turns: pl.DataFrame, *, categories: Sequence[str] | None = None) -> pl.DataFrame:
    """The true slip counts of simulated assistant turns, for validation samples.

    The simulator writes each true slip as its category's word in :data:`SLIP_WORDS` and
    each false-positive tag on a decoy word, so the gold standard can be read back
    from the text.

    Returns
    -------
    polars.DataFrame
        ``conversation_id``, ``turn``, ``category``, ``gold_count``: one row per
        assistant turn and category (zeros included).

    Examples
    --------
    >>> turns, tags, truth = simulate(seed=0, n_conversations=2, n_turns=40, truth_reps=0)
    >>> gold = simulated_gold(turns)
    >>> int(gold["gold_count"].sum()) == truth["n_slips"][-1]
    True
    """
    t = validate(turns, TURNS, "TURNS").filter(pl.col("role") == "assistant")
    cats = list(categories) if categories is not None else list(_DEFAULT_CATEGORIES)
    words = t.select(
        "conversation_id", "turn", pl.col("text").str.split(" ").alias("w")
    ).explode("w")
    frames = []
    for k in cats:
        frames.append(
            words.group_by("conversation_id", "turn", maintain_order=True)
            .agg((pl.col("w") == SLIP_WORDS[k]).sum().cast(pl.Int64).alias("gold_count"))
            .with_columns(category=pl.lit(k))
        )
    return pl.concat(frames).select("conversation_id", "turn", "category", "gold_count")
