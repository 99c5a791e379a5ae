"""Gold data and tagger evaluation: ``load_gold``, ``load_sfu`` and ``evaluate``.

The bundled gold set (``transcripts/gold/gold.jsonl``) is hand-written and
hand-labelled chat transcripts; its guideline is ``transcripts/gold/GUIDELINE.md`` and
its frozen dev/test split is described in ``transcripts/gold/SPLIT.md``. Tune on
``split="dev"`` only.

:func:`load_sfu` reads the SFU Review corpus annotated for negation and speculation
(Konstantinova et al., LREC 2012) so the hedge tagger can be scored on an external
benchmark: each ``cue type="speculation"`` becomes a gold ``hedge`` span.

Reference figures for comparison (CoNLL-2010 shared task, Farkas et al. 2010,
W10-3001), F in percent:

- Task 1 (sentence-level uncertainty), biological text: best 86.36 (Tang et al.
  2010, who report 55.05 on Wikipedia); Vlachos & Craven 85.21. Both checked
  against the systems' own abstracts.
- Task 1, Wikipedia weasels: best about 60 (Georgescul), not re-checked.
- Task 2 (cue plus scope), biological: best 57.32 (Morante et al.), not re-checked.
- In-sentence *cue-level* F on biological text: best about 79-81 in the overview's
  cue table; from memory, not re-checked, treat as uncertain.

The SFU review corpus (400 reviews, 17,263 sentences, 5,363 speculation cues, as
counted by :func:`load_sfu`) annotates speculation far more broadly than a chat hedge
lexicon: its most frequent cues are "if" (876), "or" (821), "can" (765), "would"
(594) and "should" (213). Report SFU recall both on all cues and on the epistemic
subset (drop conditional, disjunctive and root-modal cues from the gold frame with a
``filter`` on ``match``) before comparing with CoNLL figures.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import polars as pl

from toolkit.schema import CATEGORIES, TAGS, TURNS, USER_CATEGORIES, validate

__all__ = ["SFU_NON_EPISTEMIC", "evaluate", "gold_path", "load_gold", "load_sfu", "sfu_hedge_scores"]

_SPLITS = ("dev", "test")
_GOLD_CANDIDATES = (
    Path(__file__).resolve().parent / "_sample" / "gold" / "gold.jsonl",
    Path(__file__).resolve().parents[1] / "transcripts" / "gold" / "gold.jsonl",
)


def gold_path() -> Path:
    """Return the path of the bundled gold set.

    Returns
    -------
    pathlib.Path
        ``transcripts/gold/gold.jsonl`` in a checkout (or ``toolkit/_sample/gold``
        when the package was installed with the sample data).

    Examples
    --------
    >>> gold_path().name
    'gold.jsonl'
    """
    for cand in _GOLD_CANDIDATES:
        if cand.exists():
            return cand
    raise FileNotFoundError(
        "bundled gold set not found; looked in "
        + ", ".join(str(c) for c in _GOLD_CANDIDATES)
    )


def _empty_tags() -> pl.DataFrame:
    return pl.DataFrame(schema=TAGS)


def load_gold(
    path: str | Path | None = None, *, split: str | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Load a gold set written as one JSON conversation per line.

    Each line is ``{"conversation_id", "split", "persona": [...], "turns": [{"role",
    "text", "labels": [{"category", "subtype"?, "target"?, "quote", "occurrence"?}]}]}``.
    A label names its span by ``quote``; the ``occurrence``-th (default first)
    occurrence of the quote in the turn's text gives ``start``/``end``.

    Parameters
    ----------
    path
        The JSONL file; ``None`` loads the bundled gold set (:func:`gold_path`).
    split
        ``"dev"``, ``"test"`` or ``None`` for both.

    Returns
    -------
    tuple of polars.DataFrame
        ``(turns, tags)``. ``turns`` satisfies TURNS with ``format="gold"``, null
        timestamps, and extra columns ``split`` and ``persona`` (list of names);
        ``conversation_index`` follows the file order of the returned conversations.
        ``tags`` satisfies TAGS with ``text[start:end] == match``; ``subtype`` is null
        where the label gives none and ``target`` is set for corrections only.

    Raises
    ------
    ValueError
        On an unknown split, bad JSON, an unknown category, a category on the wrong
        speaker, or a quote not found in its turn (the message names the line).

    Examples
    --------
    >>> turns, tags = load_gold(split="dev")
    >>> sorted(turns["split"].unique().to_list())
    ['dev']
    >>> row = tags.join(turns, on=["conversation_id", "turn"]).row(0, named=True)
    >>> row["text"][row["start"]:row["end"]] == row["match"]
    True
    """
    if split is not None and split not in _SPLITS:
        raise ValueError(f"split must be 'dev', 'test' or None, got {split!r}")
    src = Path(path) if path is not None else gold_path()
    turn_rows: list[dict[str, Any]] = []
    tag_rows: list[dict[str, Any]] = []
    index = 0
    with src.open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            where = f"{src}:{lineno}"
            try:
                rec = orjson.loads(raw)
                cid = str(rec["conversation_id"])
                rec_split = rec["split"]
                turns_in = rec["turns"]
            except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
                raise ValueError(f"{where}: not a gold conversation record ({exc})") from None
            if rec_split not in _SPLITS:
                raise ValueError(f"{where}: split must be 'dev' or 'test', got {rec_split!r}")
            if split is not None and rec_split != split:
                continue
            persona = [str(p) for p in rec.get("persona") or []]
            for t, turn in enumerate(turns_in):
                role, text = turn.get("role"), turn.get("text")
                if role not in ("user", "assistant", "system", "tool") or not isinstance(
                    text, str
                ):
                    raise ValueError(f"{where}: turn {t} needs a role and a text")
                turn_rows.append(
                    {
                        "conversation_id": cid,
                        "conversation_index": index,
                        "turn": t,
                        "role": role,
                        "text": text,
                        "source": str(src),
                        "split": rec_split,
                        "persona": persona,
                    }
                )
                for lab in turn.get("labels") or []:
                    tag_rows.append(_label_row(lab, text, cid, index, t, role, where))
            index += 1
    turns = pl.DataFrame(
        turn_rows,
        schema={
            "conversation_id": pl.String,
            "conversation_index": pl.Int64,
            "turn": pl.Int64,
            "role": pl.String,
            "text": pl.String,
            "source": pl.String,
            "split": pl.String,
            "persona": pl.List(pl.String),
        },
    ).with_columns(
        pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("timestamp"),
        pl.lit("gold").alias("format"),
    )
    turns = validate(turns, TURNS, "TURNS").select(
        [*TURNS.names(), "split", "persona"]
    )
    tags = (
        validate(pl.DataFrame(tag_rows, schema=TAGS), TAGS, "TAGS")
        if tag_rows
        else _empty_tags()
    )
    return turns, tags.sort("conversation_index", "turn", "start", "category")


def _label_row(
    lab: dict[str, Any], text: str, cid: str, index: int, t: int, role: str, where: str
) -> dict[str, Any]:
    cat, quote = lab.get("category"), lab.get("quote")
    if cat not in CATEGORIES:
        raise ValueError(f"{where}: turn {t}: unknown category {cat!r}")
    if (cat in USER_CATEGORIES) != (role == "user"):
        raise ValueError(f"{where}: turn {t}: category {cat!r} on a {role} turn")
    if not isinstance(quote, str) or not quote:
        raise ValueError(f"{where}: turn {t}: label without a quote")
    occ = int(lab.get("occurrence", 1))
    start = -1
    for _ in range(occ):
        start = text.find(quote, start + 1)
        if start < 0:
            raise ValueError(
                f"{where}: turn {t}: quote {quote!r} (occurrence {occ}) not in text"
            )
    target = lab.get("target")
    if cat == "correction" and not target:
        raise ValueError(f"{where}: turn {t}: correction without a target")
    return {
        "conversation_id": cid,
        "conversation_index": index,
        "turn": t,
        "role": role,
        "category": cat,
        "subtype": lab.get("subtype"),
        "target": target if cat == "correction" else None,
        "start": start,
        "end": start + len(quote),
        "match": quote,
    }


# --------------------------------------------------------------------- SFU corpus


def load_sfu(
    path: str | Path, *, unit: str = "sentence"
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Read the SFU Review corpus (negation/speculation) as TURNS and gold hedge TAGS.

    Every review file becomes a conversation of assistant turns, one per sentence
    (``unit="sentence"``) or one for the whole review (``unit="review"``). A turn's
    text is its ``<W>`` tokens joined with single spaces (HTML entities unescaped,
    Windows-1252 references such as ``&#133;`` read as the characters they stand
    for, empty ``<W>`` skipped; a sentence with no tokens is dropped), and sentences of a review are joined with a space. Each
    ``<cue type="speculation">`` becomes a ``hedge`` span (subtype
    ``sfu.speculation``) from its first to its last token; negation cues are ignored.

    Parameters
    ----------
    path
        One ``.xml`` file, or a folder searched recursively for ``*.xml``.
    unit
        ``"sentence"`` or ``"review"``.

    Returns
    -------
    tuple of polars.DataFrame
        ``(turns, tags)``: TURNS with ``format="sfu"`` and ``conversation_id`` the
        file path relative to ``path`` without ``.xml`` (e.g. ``"BOOKS/no1done"``);
        TAGS with ``text[start:end] == match``.

    Raises
    ------
    ValueError
        If no XML file is found, or a file is not well-formed XML (the message names
        the file, line and column).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "r.xml").write_text('<DOCUMENT><P><SENTENCE><W>It</W>'
    ...     '<cue ID="0" type="speculation"><W>might</W></cue><W>rain</W>'
    ...     '</SENTENCE></P></DOCUMENT>')
    >>> turns, tags = load_sfu(d)
    >>> turns["text"].to_list(), tags.select("start", "end", "match").row(0)
    (['It might rain'], (3, 8, 'might'))
    """
    if unit not in ("sentence", "review"):
        raise ValueError(f"unit must be 'sentence' or 'review', got {unit!r}")
    root = Path(path)
    if root.is_dir():
        files = sorted(root.rglob("*.xml"))
        base = root
    elif root.is_file():
        files, base = [root], root.parent
    else:
        raise ValueError(f"SFU path {str(root)!r} does not exist")
    if not files:
        raise ValueError(f"no .xml files under {str(root)!r}")
    turn_rows: list[dict[str, Any]] = []
    tag_rows: list[dict[str, Any]] = []
    for index, file in enumerate(files):
        cid = file.relative_to(base).with_suffix("").as_posix()
        try:
            doc = ET.parse(file).getroot()
        except ET.ParseError as exc:
            line, col = exc.position
            raise ValueError(
                f"SFU file {str(file)!r} is not well-formed XML "
                f"(line {line}, column {col}): {exc}"
            ) from None
        sentences = [_sfu_sentence(s) for s in doc.iter("SENTENCE")]
        sentences = [s for s in sentences if s[0]]
        if unit == "review":
            texts: list[str] = []
            spans: list[tuple[int, int]] = []
            offset = 0
            for text, cues in sentences:
                spans.extend((a + offset, b + offset) for a, b in cues)
                texts.append(text)
                offset += len(text) + 1
            sentences = [(" ".join(texts), spans)] if texts else []
        for t, (text, cues) in enumerate(sentences):
            turn_rows.append(
                {
                    "conversation_id": cid,
                    "conversation_index": index,
                    "turn": t,
                    "role": "assistant",
                    "text": text,
                    "source": str(file),
                }
            )
            for a, b in cues:
                tag_rows.append(
                    {
                        "conversation_id": cid,
                        "conversation_index": index,
                        "turn": t,
                        "role": "assistant",
                        "category": "hedge",
                        "subtype": "sfu.speculation",
                        "target": None,
                        "start": a,
                        "end": b,
                        "match": text[a:b],
                    }
                )
    turns = pl.DataFrame(
        turn_rows,
        schema={
            "conversation_id": pl.String,
            "conversation_index": pl.Int64,
            "turn": pl.Int64,
            "role": pl.String,
            "text": pl.String,
            "source": pl.String,
        },
    ).with_columns(
        pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("timestamp"),
        pl.lit("sfu").alias("format"),
    )
    turns = validate(turns, TURNS, "TURNS").select(TURNS.names())
    tags = (
        validate(pl.DataFrame(tag_rows, schema=TAGS), TAGS, "TAGS")
        if tag_rows
        else _empty_tags()
    )
    return turns, tags


def _cp1252(i: int) -> str:
    try:
        return bytes([i]).decode("cp1252")
    except UnicodeDecodeError:
        return chr(i)


# Numeric references such as ``&#133;`` in the corpus are Windows-1252 code points
# ("…"); the XML parser turns them into C1 control characters, which ``str.strip``
# would treat as whitespace. Map them back to the characters the authors typed.
_C1 = {i: _cp1252(i) for i in range(0x80, 0xA0)}


def _sfu_sentence(sentence: ET.Element) -> tuple[str, list[tuple[int, int]]]:
    """Tokens of one SENTENCE joined by spaces, and the speculation cue char spans."""
    tokens: list[str] = []
    cue_tokens: list[tuple[int, int]] = []

    def walk(el: ET.Element) -> None:
        for child in el:
            if child.tag == "W":
                tok = html.unescape((child.text or "").translate(_C1)).strip()
                if tok:
                    tokens.append(tok)
            elif child.tag == "cue" and child.get("type") == "speculation":
                first = len(tokens)
                walk(child)
                if len(tokens) > first:
                    cue_tokens.append((first, len(tokens)))
            else:
                walk(child)

    walk(sentence)
    starts, pos = [], 0
    for tok in tokens:
        starts.append(pos)
        pos += len(tok) + 1
    spans = [(starts[a], starts[b - 1] + len(tokens[b - 1])) for a, b in cue_tokens]
    return " ".join(tokens), spans


# --------------------------------------------------------------------- evaluation

_COUNTS = ("tp", "fn", "tp_pred", "fp", "tp_after", "fn_after", "tp_else", "fn_else")


def evaluate(
    tags: pl.DataFrame,
    gold: pl.DataFrame | tuple[pl.DataFrame, pl.DataFrame],
    *,
    turns: pl.DataFrame | None = None,
    level: str = "turn",
    categories: Sequence[str] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    after_window: int = 3,
) -> pl.DataFrame:
    """Precision, recall and F1 of predicted TAGS against gold TAGS, per category.

    Units are compared within the same ``conversation_id`` and ``turn``.

    - ``level="turn"`` (primary): a unit is a (turn, category) pair; a turn is
      positive when it holds at least one span of the category.
    - ``level="span"``: a gold span counts as found (``tp``) when a predicted span of
      the same category in the same turn overlaps it; a predicted span is correct
      when it overlaps some gold span, otherwise it is a ``fp``.

    Only conversations in the evaluation universe count: those of ``turns`` (or of
    the gold TURNS when ``gold`` is a ``(turns, tags)`` pair), else those that occur
    in the gold TAGS. Predicted tags elsewhere are ignored.

    Confidence intervals are percentile bootstraps that resample conversations with
    replacement (``n_boot`` draws, ``numpy.random.default_rng(seed)``).

    Differential misclassification: a gold unit in an assistant turn is *after a
    correction* when that turn is among the first ``after_window`` assistant turns
    following a user turn with a gold ``correction`` span; all other gold units
    (including user-turn units) are *elsewhere*. This needs TURNS (to count assistant
    turns); without them the after/elsewhere columns are null.

    Parameters
    ----------
    tags
        Predicted TAGS (e.g. from ``tk.tag``).
    gold
        Gold TAGS, or the ``(turns, tags)`` pair returned by :func:`load_gold`.
    turns
        TURNS of the evaluated conversations (overrides the gold pair's TURNS).
    level
        ``"turn"`` or ``"span"``.
    categories
        Categories to report, in order; default ``toolkit.schema.CATEGORIES``.
    n_boot
        Bootstrap draws; 0 gives null intervals.
    seed
        Seed of the bootstrap.
    after_window
        Assistant turns after a correction that count as "after".

    Returns
    -------
    polars.DataFrame
        One row per category with columns:

        - ``category``, ``level``;
        - ``n_gold``: gold units (``tp + fn``); ``n_pred``: predicted units
          (``tp_pred + fp``);
        - ``tp`` (gold units found), ``fp`` (predicted units matching no gold unit),
          ``fn`` (gold units missed); at turn level ``tp`` is also the count of
          correct predictions, at span level that count is ``tp_pred``;
        - ``precision`` = ``tp_pred / n_pred``, ``recall`` = ``tp / n_gold``, ``f1``
          their harmonic mean (0 when either is 0, e.g. no predictions while gold
          units exist), each with ``_low``/``_high`` 95% bootstrap bounds; null when
          undefined (precision with no predictions, recall with no gold units);
        - ``recall_after_correction``, ``recall_elsewhere`` and their unit counts
          ``n_after``, ``n_elsewhere``; ``recall_gap`` = after minus elsewhere, with
          ``recall_gap_low``/``recall_gap_high``. A clearly negative gap means the
          tagger misses more after corrections and would fake a reduction;
        - ``n_conversations``: conversations in the universe.

    Examples
    --------
    >>> import polars as pl
    >>> def tag(conv, turn, cat, start=0, end=4):
    ...     return {"conversation_id": conv, "conversation_index": 0, "turn": turn,
    ...             "role": "assistant", "category": cat, "subtype": None,
    ...             "target": None, "start": start, "end": end, "match": "x"}
    >>> gold = pl.DataFrame([tag("a", 1, "hedge"), tag("b", 1, "hedge")])
    >>> pred = pl.DataFrame([tag("a", 1, "hedge"), tag("a", 3, "hedge")])
    >>> out = evaluate(pred, gold, categories=["hedge"], n_boot=0)
    >>> out.select("category", "tp", "fp", "fn", "precision", "recall", "f1")
    shape: (1, 7)
    ┌──────────┬─────┬─────┬─────┬───────────┬────────┬─────┐
    │ category ┆ tp  ┆ fp  ┆ fn  ┆ precision ┆ recall ┆ f1  │
    │ ---      ┆ --- ┆ --- ┆ --- ┆ ---       ┆ ---    ┆ --- │
    │ str      ┆ i64 ┆ i64 ┆ i64 ┆ f64       ┆ f64    ┆ f64 │
    ╞══════════╪═════╪═════╪═════╪═══════════╪════════╪═════╡
    │ hedge    ┆ 1   ┆ 1   ┆ 1   ┆ 0.5       ┆ 0.5    ┆ 0.5 │
    └──────────┴─────┴─────┴─────┴───────────┴────────┴─────┘
    """
    if level not in ("turn", "span"):
        raise ValueError(f"level must be 'turn' or 'span', got {level!r}")
    if n_boot < 0 or after_window < 1:
        raise ValueError("n_boot must be >= 0 and after_window >= 1")
    if isinstance(gold, tuple):
        gold_turns, gold_tags = gold
        if turns is None:
            turns = gold_turns
    else:
        gold_tags = gold
    pred = validate(tags, TAGS, "TAGS")
    gold_tags = validate(gold_tags, TAGS, "gold TAGS")
    cats = list(categories) if categories is not None else list(CATEGORIES)
    keys = ["conversation_id", "turn"]

    if turns is not None:
        turns = validate(turns, TURNS, "TURNS", optional=("timestamp", "source", "format"))
        convs = turns["conversation_id"].unique().sort()
        pred = pred.join(turns.select(keys).unique(), on=keys, how="semi")
    else:
        convs = gold_tags["conversation_id"].unique().sort()
    in_universe = pl.col("conversation_id").is_in(convs.implode())
    gold_all = gold_tags.filter(in_universe)
    pred = pred.filter(in_universe & pl.col("category").is_in(cats))
    gold_tags = gold_all.filter(pl.col("category").is_in(cats))

    g_units, p_units = _match(pred, gold_tags, level)
    # the correction windows come from the gold corrections, whatever is reported
    after = _after_flags(turns, gold_all, after_window)
    if after is not None:
        g_units = g_units.join(after, on=keys, how="left").with_columns(
            pl.col("after").fill_null(value=False)
        )
    else:
        g_units = g_units.with_columns(pl.lit(value=False).alias("after"))

    conv_list = convs.to_list()
    counts = np.zeros((len(conv_list), len(cats), len(_COUNTS)))
    conv_pos = pl.DataFrame(
        {"conversation_id": conv_list, "_c": np.arange(len(conv_list))},
        schema={"conversation_id": pl.String, "_c": pl.Int64},
    )
    cat_pos = pl.DataFrame(
        {"category": cats, "_k": np.arange(len(cats))},
        schema={"category": pl.String, "_k": pl.Int64},
    )
    found = pl.col("found")
    aft = pl.col("after")
    g_cols = {
        "tp": found,
        "fn": ~found,
        "tp_after": found & aft,
        "fn_after": ~found & aft,
        "tp_else": found & ~aft,
        "fn_else": ~found & ~aft,
    }
    p_cols = {"tp_pred": found, "fp": ~found}
    for units, cols in ((g_units, g_cols), (p_units, p_cols)):
        agg = (
            units.join(conv_pos, on="conversation_id")
            .join(cat_pos, on="category")
            .group_by("_c", "_k")
            .agg([e.cast(pl.Int64).sum().alias(n) for n, e in cols.items()])
        )
        ci, ki = agg["_c"].to_numpy(), agg["_k"].to_numpy()
        for name in cols:
            counts[ci, ki, _COUNTS.index(name)] = agg[name].to_numpy()

    point = _metrics(counts.sum(axis=0)[None, ...])[0] if cats else None
    n_conv = len(conv_list)
    if n_boot > 0 and n_conv > 0:
        rng = np.random.default_rng(seed)
        weights = rng.multinomial(n_conv, np.full(n_conv, 1.0 / n_conv), size=n_boot)
        boot = _metrics(np.einsum("bc,ckm->bkm", weights, counts))
    else:
        boot = None
    totals = counts.sum(axis=0)
    has_after = after is not None
    rows = []
    for k, cat in enumerate(cats):
        tot = dict(zip(_COUNTS, totals[k].astype(int).tolist(), strict=True))
        assert point is not None
        row: dict[str, Any] = {
            "category": cat,
            "level": level,
            "n_gold": tot["tp"] + tot["fn"],
            "n_pred": tot["tp_pred"] + tot["fp"],
            "tp": tot["tp"],
            "tp_pred": tot["tp_pred"],
            "fp": tot["fp"],
            "fn": tot["fn"],
        }
        for j, name in enumerate(_METRICS):
            if name in ("recall_after_correction", "recall_elsewhere", "recall_gap") and not has_after:
                row[name] = None
                if name == "recall_gap":
                    row["recall_gap_low"] = row["recall_gap_high"] = None
                continue
            row[name] = _num(point[k, j])
            if name in ("precision", "recall", "f1", "recall_gap"):
                low, high = _interval(boot[:, k, j]) if boot is not None else (None, None)
                row[f"{name}_low"], row[f"{name}_high"] = low, high
        row["n_after"] = tot["tp_after"] + tot["fn_after"] if has_after else None
        row["n_elsewhere"] = tot["tp_else"] + tot["fn_else"] if has_after else None
        row["n_conversations"] = n_conv
        rows.append(row)
    schema = {
        "category": pl.String,
        "level": pl.String,
        "n_gold": pl.Int64,
        "n_pred": pl.Int64,
        "tp": pl.Int64,
        "tp_pred": pl.Int64,
        "fp": pl.Int64,
        "fn": pl.Int64,
        **{
            f"{m}{s}": pl.Float64
            for m in ("precision", "recall", "f1")
            for s in ("", "_low", "_high")
        },
        "recall_after_correction": pl.Float64,
        "recall_elsewhere": pl.Float64,
        "n_after": pl.Int64,
        "n_elsewhere": pl.Int64,
        "recall_gap": pl.Float64,
        "recall_gap_low": pl.Float64,
        "recall_gap_high": pl.Float64,
        "n_conversations": pl.Int64,
    }
    return pl.DataFrame(rows, schema=schema)


_METRICS = ("precision", "recall", "f1", "recall_after_correction", "recall_elsewhere", "recall_gap")


def _num(x: float) -> float | None:
    return None if np.isnan(x) else float(x)


def _interval(samples: np.ndarray) -> tuple[float | None, float | None]:
    ok = samples[~np.isnan(samples)]
    if ok.size == 0:
        return None, None
    low, high = np.quantile(ok, [0.025, 0.975])
    return float(low), float(high)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _metrics(c: np.ndarray) -> np.ndarray:
    """(draws, categories, counts) -> (draws, categories, metrics) in _METRICS order."""
    get = {name: c[..., i] for i, name in enumerate(_COUNTS)}
    precision = _ratio(get["tp_pred"], get["tp_pred"] + get["fp"])
    recall = _ratio(get["tp"], get["tp"] + get["fn"])
    # F1 is 0 when either side is 0 (e.g. nothing predicted but gold exists), the
    # harmonic mean when both are defined and positive, and undefined otherwise.
    f1 = np.full(precision.shape, np.nan)
    f1[(precision == 0) | (recall == 0)] = 0.0
    pos = (precision > 0) & (recall > 0)
    f1[pos] = 2 * precision[pos] * recall[pos] / (precision[pos] + recall[pos])
    r_after = _ratio(get["tp_after"], get["tp_after"] + get["fn_after"])
    r_else = _ratio(get["tp_else"], get["tp_else"] + get["fn_else"])
    return np.stack([precision, recall, f1, r_after, r_else, r_after - r_else], axis=-1)


def _match(
    pred: pl.DataFrame, gold: pl.DataFrame, level: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Gold units and predicted units, each with a boolean ``found`` column."""
    keys = ["conversation_id", "turn", "category"]
    if level == "turn":
        g = gold.select(keys).unique()
        p = pred.select(keys).unique()
        g = g.join(p.with_columns(pl.lit(value=True).alias("found")), on=keys, how="left")
        p = p.join(
            gold.select(keys).unique().with_columns(pl.lit(value=True).alias("found")),
            on=keys,
            how="left",
        )
        return (
            g.with_columns(pl.col("found").fill_null(value=False)),
            p.with_columns(pl.col("found").fill_null(value=False)),
        )
    g = gold.select(*keys, "start", "end").with_row_index("_g")
    p = pred.select(*keys, "start", "end").with_row_index("_p")
    pairs = g.join(p, on=keys, suffix="_pred").filter(
        (pl.col("start") < pl.col("end_pred")) & (pl.col("start_pred") < pl.col("end"))
    )
    g = g.with_columns(pl.col("_g").is_in(pairs["_g"].implode()).alias("found"))
    p = p.with_columns(pl.col("_p").is_in(pairs["_p"].implode()).alias("found"))
    return g.select(*keys, "found"), p.select(*keys, "found")


def _after_flags(
    turns: pl.DataFrame | None, gold: pl.DataFrame, window: int
) -> pl.DataFrame | None:
    """(conversation_id, turn, after) for assistant turns within ``window`` after a correction."""
    if turns is None:
        return None
    assistant = (
        turns.filter(pl.col("role") == "assistant")
        .select("conversation_id", "turn")
        .sort("conversation_id", "turn")
        .with_columns(pl.int_range(1, pl.len() + 1).over("conversation_id").alias("a_ord"))
    )
    corrections = (
        gold.filter(pl.col("category") == "correction")
        .select("conversation_id", pl.col("turn").alias("c_turn"))
        .unique()
        .sort("conversation_id", "c_turn")
    )
    before = corrections.join_asof(
        assistant.rename({"turn": "c_turn"}),
        on="c_turn",
        by="conversation_id",
        strategy="backward",
        check_sortedness=False,
    ).select("conversation_id", "c_turn", pl.col("a_ord").fill_null(0).alias("a_before"))
    flagged = assistant.join_asof(
        before.rename({"c_turn": "turn"}), on="turn",
        by="conversation_id",
        strategy="backward",
        check_sortedness=False,
    )
    return flagged.select(
        "conversation_id",
        "turn",
        ((pl.col("a_ord") - pl.col("a_before")).is_between(1, window))
        .fill_null(value=False)
        .alias("after"),
    )


SFU_NON_EPISTEMIC = (
    r"^(?:if|or|either|whether|and|no|without|unless|"
    r"(?:can|could|would|should|must|will|ca|wo|need)(?: ?n[’']t| not)?|'d|’d)$"
)
"""SFU speculation cues that are conditional, disjunctive or root-modal rather than
epistemic (matched on the lower-cased cue); dropped for the ``epistemic`` subset."""


def sfu_hedge_scores(
    path: str | Path,
    *,
    tags: pl.DataFrame | None = None,
    n_boot: int = 200,
    seed: int = 0,
) -> pl.DataFrame:
    """Score the hedge tagger on the SFU Review speculation corpus, sentence by sentence.

    Parameters
    ----------
    path
        The corpus folder (``<CATEGORY>/*.xml``), as :func:`load_sfu` takes it.
    tags
        Predicted TAGS for the corpus's sentences; default: ``toolkit.tag.tag`` on them.
    n_boot, seed
        Bootstrap resamples (by review) and seed for the intervals.

    Returns
    -------
    polars.DataFrame
        Two rows, ``subset`` = ``all`` (every speculation cue is gold) and
        ``epistemic`` (conditional, disjunctive and root-modal cues matching
        :data:`SFU_NON_EPISTEMIC` dropped from the gold), with the columns of
        :func:`evaluate` for the ``hedge`` category. Compare the ``epistemic`` row
        with the CoNLL-2010 figures in this module's docstring: SFU marks far more
        than a chat hedge lexicon is meant to find.
    """
    turns, gold = load_sfu(path)
    if tags is None:
        from toolkit.tag import tag

        tags = tag(turns)
    pred = tags.filter(pl.col("category") == "hedge")
    norm = pl.col("match").str.to_lowercase().str.replace_all(r"\s+", " ")
    subsets = {
        "all": gold,
        "epistemic": gold.filter(~norm.str.contains(SFU_NON_EPISTEMIC)),
    }
    rows = [
        evaluate(pred, g, level="turn", categories=["hedge"], n_boot=n_boot, seed=seed)
        .with_columns(pl.lit(name).alias("subset"), pl.lit(g.height).alias("gold_cues"))
        for name, g in subsets.items()
    ]
    out = pl.concat(rows, how="diagonal_relaxed")
    return out.select("subset", "gold_cues", *[c for c in out.columns if c not in ("subset", "gold_cues")])
