"""Plain-language verdicts per slip category from a RESULT frame."""

from __future__ import annotations

import math
from typing import Any

import polars as pl

__all__ = ["verdicts"]


def verdicts(result: pl.DataFrame, *, alpha: float = 0.05) -> pl.DataFrame:
    """One plain-language sentence per category from a RESULT frame.

    The verdict rests on the ``matched`` estimator (the primary one) and says when the
    ``placebo`` check or too little data undermine it; ``naive_pre_post`` is quoted
    only to say how far it would have misled.

    Parameters
    ----------
    result
        A RESULT frame from :func:`toolkit.recurrence.recurrence`.
    alpha
        Level for the Holm-adjusted p-value.

    Returns
    -------
    polars.DataFrame
        Columns ``category``, ``rate_ratio``, ``ci_low``, ``ci_high``, ``p_holm``,
        ``verdict`` (``fewer``, ``more``, ``no evidence`` or ``not estimable``) and
        ``sentence``.

    Examples
    --------
    >>> import polars as pl
    >>> r = pl.DataFrame({"category": ["hedge"] * 2, "estimator": ["matched", "placebo"],
    ...     "rate_ratio": [0.5, 1.02], "ci_low": [0.3, 0.8], "ci_high": [0.8, 1.3],
    ...     "p_holm": [0.01, 0.9], "n_corrections": [12, 12]})
    >>> verdicts(r)["verdict"].to_list()
    ['fewer']
    """
    rows: list[dict[str, Any]] = []
    for cat in result["category"].unique(maintain_order=True).to_list():
        sub = result.filter(pl.col("category") == cat)
        m = sub.filter(pl.col("estimator") == "matched")
        if m.height == 0:
            continue
        r = m.row(0, named=True)
        rr, lo, hi, p = r["rate_ratio"], r["ci_low"], r["ci_high"], r.get("p_holm")
        n = r.get("n_corrections")
        plc = sub.filter(pl.col("estimator") == "placebo")
        placebo_ok = True
        if plc.height:
            pr = plc.row(0, named=True)
            plo, phi = pr["ci_low"], pr["ci_high"]
            if plo is not None and phi is not None and not math.isnan(plo):
                placebo_ok = plo <= 1.0 <= phi
        if rr is None or math.isnan(rr) or lo is None or math.isnan(lo):
            verdict = "not estimable"
            why = r.get("note") or "too few corrections or clusters"
            sentence = f"{cat}: cannot be estimated from this corpus ({why})."
        elif p is not None and not math.isnan(p) and p < alpha and hi < 1.0:
            verdict = "fewer"
            sentence = (
                f"{cat}: after a correction it recurs less often than at comparable "
                f"uncorrected bursts (rate ratio {rr:.2f}, 95% CI {lo:.2f}–{hi:.2f}, "
                f"{n} corrections)."
            )
        elif p is not None and not math.isnan(p) and p < alpha and lo > 1.0:
            verdict = "more"
            sentence = (
                f"{cat}: after a correction it recurs MORE often than at comparable "
                f"uncorrected bursts (rate ratio {rr:.2f}, 95% CI {lo:.2f}–{hi:.2f})."
            )
        else:
            verdict = "no evidence"
            sentence = (
                f"{cat}: no evidence that correcting it changes how often it recurs "
                f"(rate ratio {rr:.2f}, 95% CI {lo:.2f}–{hi:.2f}, {n} corrections); "
                "the interval shows which effects the data cannot rule out."
            )
        if not placebo_ok and verdict != "not estimable":
            sentence += " Caution: the placebo check is not null, so matching is imperfect."
        rows.append(
            {
                "category": cat,
                "rate_ratio": rr,
                "ci_low": lo,
                "ci_high": hi,
                "p_holm": p,
                "verdict": verdict,
                "sentence": sentence,
            }
        )
    schema = {
        "category": pl.String,
        "rate_ratio": pl.Float64,
        "ci_low": pl.Float64,
        "ci_high": pl.Float64,
        "p_holm": pl.Float64,
        "verdict": pl.String,
        "sentence": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)
