"""Mirroring vs internalisation: whose wording do identity and value statements use?

Two measures:

- :func:`statement_echo`: for each assistant identity or value statement, the share
  of its word n-grams that echo the user's recent turns, that the assistant itself
  used first in earlier turns, that came first from the user (long ago) or from a
  system turn, or that are new.
- :func:`coordination`: who adopts whose phrasing, turn by turn, in both directions,
  against a baseline from shuffled pairings within each conversation (the
  "preference architect" worry is an assistant the user comes to echo).

:func:`mirroring` runs both and returns them as a named pair of frames.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import polars as pl
from scipy import sparse

from toolkit.hypothesis import check_inputs, ngrams, tokens_expr
from toolkit.values import value_statements

__all__ = ["FUNCTION_WORDS", "Mirroring", "coordination", "mirroring", "statement_echo"]

#: Function-word classes for style coordination (after the LIWC-style markers used
#: in linguistic-coordination studies; the word lists here are our own short ones).
FUNCTION_WORDS: dict[str, tuple[str, ...]] = {
    "article": ("a", "an", "the"),
    "personal_pronoun": ("i", "me", "my", "you", "your", "we", "us", "our", "he", "she",
                         "they", "them", "their"),
    "impersonal_pronoun": ("it", "its", "this", "that", "these", "those", "something",
                           "anything", "everything", "nothing"),
    "preposition": ("in", "on", "at", "of", "to", "for", "with", "about", "from", "by",
                    "into", "over", "after", "before", "through"),
    "auxiliary": ("is", "are", "was", "were", "be", "been", "am", "have", "has", "had",
                  "do", "does", "did", "will", "would", "can", "could", "should", "may",
                  "might", "must"),
    "conjunction": ("and", "but", "or", "because", "if", "although", "while", "though"),
    "negation": ("not", "no", "never", "don't", "can't", "won't", "isn't", "nor",
                 "doesn't", "didn't"),
    "quantifier": ("all", "some", "many", "much", "few", "more", "most", "any", "every",
                   "each"),
    "adverb": ("just", "very", "really", "so", "then", "now", "also", "too", "quite"),
}

_ECHO_SCHEMA = {
    "conversation_id": pl.String, "conversation_index": pl.Int64, "turn": pl.Int64,
    "s_start": pl.Int64, "sentence": pl.String, "statement": pl.String,
    "n_ngrams": pl.Int64, "echo_user": pl.Float64, "own_earlier": pl.Float64,
    "user_earlier": pl.Float64, "other_earlier": pl.Float64, "new": pl.Float64,
    "assistant_origin": pl.Float64,
}

_COORD_SCHEMA = {
    "scope": pl.String, "conversation_index": pl.Int64, "direction": pl.String,
    "measure": pl.String, "pairs": pl.Int64, "observed": pl.Float64,
    "baseline_mean": pl.Float64, "baseline_low": pl.Float64, "baseline_high": pl.Float64,
    "excess": pl.Float64, "p_value": pl.Float64,
}

_DIRECTIONS = {"assistant": "assistant_echoes_user", "user": "user_echoes_assistant"}


class Mirroring(NamedTuple):
    """The two frames of :func:`mirroring`."""

    echo: pl.DataFrame
    coordination: pl.DataFrame


def statement_echo(
    turns: pl.DataFrame, tags: pl.DataFrame, *, n: int = 3, lookback: int = 5
) -> pl.DataFrame:
    """Where the wording of each assistant identity or value statement comes from.

    Statements are the sentences of :func:`toolkit.values.value_statements`
    (identity and resistance spans, value and rule cues); ``statement`` says
    ``identity`` when the sentence holds an ``identity`` span, else ``value``.
    Each unique word ``n``-gram of a statement goes to exactly one class, in this
    order:

    - ``echo_user``: it occurs in one of the user's last ``lookback`` turns of the
      same conversation before the statement;
    - ``own_earlier``: its first occurrence in the corpus (by conversation, then
      turn) is an earlier assistant turn;
    - ``user_earlier``: its first occurrence is an earlier user turn (outside the
      lookback);
    - ``other_earlier``: first seen in an earlier system or tool turn;
    - ``new``: not seen before the statement's turn.

    ``assistant_origin`` is the share whose first occurrence is an earlier
    assistant turn regardless of recency (the assistant said it before the user
    echoed it).

    Parameters
    ----------
    turns, tags
        TURNS and TAGS frames.
    n
        n-gram length in words.
    lookback
        How many preceding user turns count as "recent".

    Returns
    -------
    polars.DataFrame
        One row per statement with at least one n-gram: ``conversation_id``,
        ``conversation_index``, ``turn``, ``s_start``, ``sentence``,
        ``statement``, ``n_ngrams`` and the shares ``echo_user``, ``own_earlier``,
        ``user_earlier``, ``other_earlier``, ``new`` (summing to 1) and
        ``assistant_origin``.

    What this can and cannot show
    -----------------------------
    Lexical echo is not understanding, and own wording is not internalisation:
    an assistant can restate the user's framing in fresh words (scored ``new``)
    or repeat its own earlier phrasing because the restored context contains it.
    It cannot distinguish internalisation from compliance; it only shows whose
    words the statements are made of.

    Examples
    --------
    >>> import polars as pl
    >>> t = pl.DataFrame({"conversation_id": ["a"] * 2, "conversation_index": [0] * 2,
    ...     "turn": [0, 1], "role": ["user", "assistant"],
    ...     "text": ["our mission is to help people", "Our mission is to help people."]})
    >>> g = pl.DataFrame({"conversation_id": ["a"], "conversation_index": [0],
    ...     "turn": [1], "role": ["assistant"], "category": ["identity"],
    ...     "start": [0], "end": [11]})
    >>> statement_echo(t, g).select("statement", "n_ngrams", "echo_user", "new").rows()
    [('identity', 4, 1.0, 0.0)]
    """
    if lookback < 1:
        raise ValueError(f"lookback must be >= 1, got {lookback}")
    t, _ = check_inputs(turns, tags)
    st = value_statements(turns, tags)
    if st.height == 0:
        return pl.DataFrame(schema=_ECHO_SCHEMA)
    st = st.with_columns(
        pl.when(pl.col("identity")).then(pl.lit("identity")).otherwise(pl.lit("value"))
        .alias("statement")
    )
    t = t.with_row_index("seq").with_columns(
        pl.col("seq").cast(pl.Int64),
        (pl.col("role") == "user").cast(pl.Int64).cum_sum().over("conversation_index")
        .alias("_users_upto"),
    )
    all_ng = ngrams(t, ["seq"], n=n).join(t.select("seq", "role"), on="seq")
    first = (
        all_ng.sort("seq")
        .group_by("ngram")
        .agg(pl.col("seq").first().alias("_first"), pl.col("role").first().alias("_first_role"))
    )
    key = ["conversation_index", "turn", "s_start"]
    st_ng = ngrams(st.rename({"sentence": "text"}), key, n=n).join(
        t.select("conversation_index", "turn", "seq", "_users_upto"),
        on=["conversation_index", "turn"],
    )
    # user turns with their rank among user turns
    users = t.filter(pl.col("role") == "user").select(
        "conversation_index", pl.col("turn").alias("_uturn"),
        (pl.col("_users_upto") - 1).alias("_urank"),
    )
    user_ng = ngrams(
        t.filter(pl.col("role") == "user").select("conversation_index", "turn", "text"),
        ["conversation_index", "turn"], n=n,
    ).rename({"turn": "_uturn"}).join(users, on=["conversation_index", "_uturn"])
    recent = (
        st_ng.select(*key, "ngram", "_users_upto")
        .join(user_ng, on=["conversation_index", "ngram"], how="inner")
        .filter(
            (pl.col("_uturn") < pl.col("turn"))
            & (pl.col("_urank") >= pl.col("_users_upto") - lookback)
        )
        .select(*key, "ngram")
        .unique()
        .with_columns(pl.lit(True).alias("_recent"))
    )
    cls = (
        st_ng.join(first, on="ngram", how="left")
        .join(recent, on=[*key, "ngram"], how="left")
        .with_columns(
            pl.col("_recent").fill_null(False),
            (pl.col("_first") < pl.col("seq")).alias("_before"),
        )
        .with_columns(
            pl.when(pl.col("_recent")).then(pl.lit("echo_user"))
            .when(~pl.col("_before")).then(pl.lit("new"))
            .when(pl.col("_first_role") == "assistant").then(pl.lit("own_earlier"))
            .when(pl.col("_first_role") == "user").then(pl.lit("user_earlier"))
            .otherwise(pl.lit("other_earlier"))
            .alias("_class"),
            (pl.col("_before") & (pl.col("_first_role") == "assistant")).alias("_aorig"),
        )
    )
    shares = cls.group_by(key).agg(
        pl.len().cast(pl.Int64).alias("n_ngrams"),
        *[(pl.col("_class") == c).mean().alias(c)
          for c in ("echo_user", "own_earlier", "user_earlier", "other_earlier", "new")],
        pl.col("_aorig").mean().alias("assistant_origin"),
    )
    out = st.join(shares, on=key, how="inner")
    return out.select(list(_ECHO_SCHEMA)).cast(_ECHO_SCHEMA).sort(key)  # type: ignore[arg-type]


def _incidence(items: pl.DataFrame, row_col: str, n_rows: int, n_cols: int) -> sparse.csr_matrix:
    data = np.ones(items.height)
    return sparse.csr_matrix(
        (data, (items[row_col].to_numpy(), items["_id"].to_numpy())), shape=(n_rows, n_cols)
    )


def coordination(
    turns: pl.DataFrame,
    tags: pl.DataFrame,
    *,
    n: int = 2,
    n_shuffles: int = 200,
    seed: int = 0,
) -> pl.DataFrame:
    """Turn-by-turn adoption of the other party's phrasing, against shuffled pairings.

    Adjacent user/assistant turns of a conversation form pairs (system and tool
    turns are skipped). Two scores per pair:

    - ``ngram``: the share of the reply's unique word ``n``-grams that occur in the
      previous turn (phrase adoption);
    - ``function_words``: the share of the :data:`FUNCTION_WORDS` classes used in
      the previous turn that the reply also uses (style coordination).

    ``direction`` is ``assistant_echoes_user`` (assistant reply to a user turn) or
    ``user_echoes_assistant``. The baseline re-pairs, ``n_shuffles`` times, each
    reply with a random previous turn of the same direction in the same
    conversation (seeded), which keeps topic and each party's habits but breaks
    adjacency. The re-pairing skips the reply's own previous turn and the previous
    turn of the *next* pair (which, when the other party adopts the reply's
    wording, quotes the reply and would leak the other direction's coordination
    into this one's baseline); it samples with replacement, so it is a random
    re-pairing rather than a strict permutation.

    Parameters
    ----------
    turns, tags
        TURNS and TAGS frames (``tags`` is validated but not used).
    n
        n-gram length for the ``ngram`` measure.
    n_shuffles
        Number of shuffled pairings.
    seed
        Seed of the shuffles.

    Returns
    -------
    polars.DataFrame
        One row per ``scope`` (``conversation``, then ``overall`` pooling pairs over
        conversations), ``conversation_index`` (null for ``overall``), ``direction``
        and ``measure``: ``pairs`` (pairs with a defined score), ``observed``
        (mean score of the real pairs), ``baseline_mean``, ``baseline_low`` /
        ``baseline_high`` (2.5 and 97.5 percentiles of the shuffled means: the
        permutation interval), ``excess`` (observed minus baseline mean) and
        ``p_value`` (one-sided, share of shuffles at least as high as observed,
        with the +1 correction). Conversations with fewer than two pairs in a
        direction get observed values but null baselines.

    What this can and cannot show
    -----------------------------
    Adoption of wording is not adoption of values: coordination can be plain
    politeness or task-following (quoting the code under discussion). Shuffling
    within a conversation controls topic, not the slow drift of both parties'
    vocabulary. It cannot show intent, nor separate the assistant shaping the user
    from both following a shared source.

    Examples
    --------
    >>> import polars as pl
    >>> t = pl.DataFrame({"conversation_id": ["a"] * 4, "conversation_index": [0] * 4,
    ...     "turn": [0, 1, 2, 3], "role": ["user", "assistant"] * 2,
    ...     "text": ["red blue green", "red blue green yes",
    ...              "cat dog fish", "cat dog fish yes"]})
    >>> g = pl.DataFrame(schema={"conversation_id": pl.String,
    ...     "conversation_index": pl.Int64, "turn": pl.Int64, "role": pl.String,
    ...     "category": pl.String, "start": pl.Int64, "end": pl.Int64})
    >>> c = coordination(t, g, n_shuffles=20)
    >>> c.filter((pl.col("scope") == "overall") & (pl.col("measure") == "ngram")).select(
    ...     "direction", "pairs", "observed").rows()
    [('assistant_echoes_user', 2, 0.666...), ('user_echoes_assistant', 1, 0.0)]
    """
    if n_shuffles < 1:
        raise ValueError(f"n_shuffles must be >= 1, got {n_shuffles}")
    t, _ = check_inputs(turns, tags)
    t = (
        t.filter(pl.col("role").is_in(["user", "assistant"]))
        .with_row_index("row")
        .with_columns(
            pl.col("row").cast(pl.Int64),
            pl.col("role").cast(pl.String),
            pl.col("role").cast(pl.String).shift(1).over("conversation_index").alias("_prev_role"),
            pl.col("row").cast(pl.Int64).shift(1).over("conversation_index").alias("_prev_row"),
        )
    )
    pairs = t.filter(
        pl.col("_prev_role").is_not_null() & (pl.col("_prev_role") != pl.col("role"))
    ).select("conversation_index", "role", "row", "_prev_row")
    n_rows = t.height
    ng = ngrams(t, ["row"], n=n)
    ng = ng.with_columns(pl.col("ngram").rank("dense").cast(pl.Int64).sub(1).alias("_id"))
    m_ng = _incidence(ng, "row", n_rows, int(ng["_id"].to_numpy().max()) + 1 if ng.height else 1)
    words = pl.DataFrame(
        [(w, c) for c, ws in FUNCTION_WORDS.items() for w in ws],
        schema=["tok", "cls"], orient="row",
    )
    classes = list(FUNCTION_WORDS)
    fw = (
        t.select("row", tokens_expr("text").alias("tok"))
        .explode("tok")
        .join(words, on="tok", how="inner")
        .select("row", "cls")
        .unique()
        .with_columns(pl.col("cls").replace_strict({c: i for i, c in enumerate(classes)},
                                                   return_dtype=pl.Int64).alias("_id"))
    )
    m_fw = _incidence(fw, "row", n_rows, len(classes))
    m_ng.data[:] = 1.0
    m_fw.data[:] = 1.0
    rng = np.random.default_rng(seed)
    rows: list[dict[str, object]] = []
    pooled: dict[tuple[str, str], list[np.ndarray]] = {}
    for (conv, role), sub in pairs.sort("conversation_index", "row").group_by(
        ["conversation_index", "role"], maintain_order=True
    ):
        r_idx = sub["row"].to_numpy()
        p_idx = sub["_prev_row"].to_numpy()
        m = len(r_idx)
        perms = _repair(rng, m, n_shuffles) if m >= 2 else None
        for measure, mat in (("ngram", m_ng), ("function_words", m_fw)):
            rmat, pmat = mat[r_idx], mat[p_idx]
            overlap = (rmat @ pmat.T).toarray()
            size = np.asarray((rmat if measure == "ngram" else pmat).sum(axis=1)).ravel()
            with np.errstate(divide="ignore", invalid="ignore"):
                score = (
                    overlap / size[:, None] if measure == "ngram" else overlap / size[None, :]
                )
            obs = np.diag(score)
            key = (str(role), measure)
            acc = pooled.setdefault(key, [np.zeros(2), np.zeros((n_shuffles, 2))])
            ok = np.isfinite(obs)
            acc[0] += [obs[ok].sum(), ok.sum()]
            row = {"scope": "conversation", "conversation_index": int(conv),  # type: ignore[call-overload]
                   "direction": _DIRECTIONS[str(role)], "measure": measure,
                   "pairs": int(ok.sum()),
                   "observed": float(obs[ok].mean()) if ok.any() else None}
            if perms is not None:
                shuf = score[np.arange(m)[None, :], perms]
                fin = np.isfinite(shuf)
                sums = np.where(fin, shuf, 0.0).sum(axis=1)
                cnts = fin.sum(axis=1)
                acc[1] += np.column_stack([sums, cnts])
                with np.errstate(divide="ignore", invalid="ignore"):
                    means = sums / cnts
                row.update(_baseline(row["observed"], means))
            else:
                # a lone pair has no alternative pairing: its baseline is itself
                acc[1] += np.array([[obs[ok].sum(), ok.sum()]])
            rows.append(row)
    for (role, measure), (obs_acc, shuf_acc) in pooled.items():
        observed = obs_acc[0] / obs_acc[1] if obs_acc[1] > 0 else None
        with np.errstate(divide="ignore", invalid="ignore"):
            means = shuf_acc[:, 0] / shuf_acc[:, 1]
        row = {"scope": "overall", "conversation_index": None, "direction": _DIRECTIONS[role],
               "measure": measure, "pairs": int(obs_acc[1]), "observed": observed}
        row.update(_baseline(observed, means))
        rows.append(row)
    out = pl.DataFrame(rows, schema=_COORD_SCHEMA, orient="row") if rows else pl.DataFrame(
        schema=_COORD_SCHEMA)
    return out.with_columns(
        pl.col("scope").replace_strict({"conversation": 0, "overall": 1},
                                       return_dtype=pl.Int64).alias("_s")
    ).sort("_s", "conversation_index", "direction", "measure", nulls_last=True).drop("_s")


def _repair(rng: np.random.Generator, m: int, n_shuffles: int) -> np.ndarray:
    """Random re-pairing: reply ``i`` gets a prior ``j`` not in {i, i + 1}.

    Excluding ``i + 1`` matters: when the other party adopts reply ``i``'s wording,
    the *next* prior turn quotes reply ``i``, and pairing the two would put the
    other direction's coordination into this direction's baseline. With two or
    three pairs only ``i`` itself is excluded.
    """
    i = np.arange(m)
    skip_next = m >= 4
    n_opts = np.where(skip_next & (i < m - 1), m - 2, m - 1)
    u = np.floor(rng.random((n_shuffles, m)) * n_opts).astype(np.int64)
    step = np.where(skip_next & (i < m - 1), 2, 1)
    return np.where(u < i, u, u + step)


def _baseline(observed: object, means: np.ndarray) -> dict[str, object]:
    means = means[np.isfinite(means)]
    if observed is None or len(means) == 0:
        return {}
    obs = float(observed)  # type: ignore[arg-type]
    return {
        "baseline_mean": float(means.mean()),
        "baseline_low": float(np.percentile(means, 2.5)),
        "baseline_high": float(np.percentile(means, 97.5)),
        "excess": obs - float(means.mean()),
        "p_value": float((1 + np.sum(means >= obs - 1e-12)) / (1 + len(means))),
    }


def mirroring(
    turns: pl.DataFrame,
    tags: pl.DataFrame,
    *,
    n: int = 3,
    lookback: int = 5,
    coordination_n: int = 2,
    n_shuffles: int = 200,
    seed: int = 0,
) -> Mirroring:
    """Echo of the user's wording in identity/value statements, and coordination.

    Runs :func:`statement_echo` (``n``, ``lookback``) and :func:`coordination`
    (``coordination_n``, ``n_shuffles``, ``seed``).

    Returns
    -------
    Mirroring
        A named pair ``(echo, coordination)`` of the two tidy frames; see those
        functions for their columns.

    What this can and cannot show
    -----------------------------
    Mirroring cannot distinguish internalisation from compliance: an assistant
    that adopts the user's mission words may have taken them on or may be
    agreeing; one that uses its own words may be repeating its restored context.
    Lexical echo is not understanding.

    Examples
    --------
    >>> import polars as pl
    >>> t = pl.DataFrame({"conversation_id": ["a"] * 2, "conversation_index": [0] * 2,
    ...     "turn": [0, 1], "role": ["user", "assistant"],
    ...     "text": ["our mission is to help people", "Our mission is to help people."]})
    >>> g = pl.DataFrame({"conversation_id": ["a"], "conversation_index": [0],
    ...     "turn": [1], "role": ["assistant"], "category": ["identity"],
    ...     "start": [0], "end": [11]})
    >>> m = mirroring(t, g, n_shuffles=10)
    >>> m.echo["echo_user"].to_list(), m.coordination.height
    ([1.0], 4)
    """
    return Mirroring(
        echo=statement_echo(turns, tags, n=n, lookback=lookback),
        coordination=coordination(turns, tags, n=coordination_n, n_shuffles=n_shuffles,
                                  seed=seed),
    )
