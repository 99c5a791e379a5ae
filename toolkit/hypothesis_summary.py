"""One headline row per claim of the essay's table, from the hypothesis metrics."""

from __future__ import annotations

import math
from typing import Any

import polars as pl

from toolkit.mirroring import Mirroring

__all__ = ["hypothesis_headline"]

_SCHEMA = {
    "claim": pl.String,
    "metric": pl.String,
    "estimate": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "n": pl.Int64,
    "sentence": pl.String,
}


def _f(x: Any) -> float:
    return float("nan") if x is None else float(x)


def _fmt(est: float, lo: float, hi: float) -> str:
    if math.isnan(est):
        return "not estimable"
    return f"{est:.3g} (95% CI {lo:.3g}–{hi:.3g})"


def hypothesis_headline(
    *,
    stability: pl.DataFrame,
    drift: pl.DataFrame,
    selfcorr: pl.DataFrame,
    manipulation: pl.DataFrame,
    mirroring: Mirroring,
    values: pl.DataFrame,
    persistence: pl.DataFrame,
) -> pl.DataFrame:
    """Summarise the six hypothesis metrics as one row per claim.

    Parameters
    ----------
    stability, drift
        Outputs of :func:`toolkit.identity.identity_stability` and
        :func:`toolkit.identity.identity_drift`.
    selfcorr
        Output of :func:`toolkit.hypothesis.self_correction`.
    manipulation
        Output of :func:`toolkit.manipulation.manipulation_summary`.
    mirroring
        Output of :func:`toolkit.mirroring.mirroring`.
    values
        Output of :func:`toolkit.values.value_articulation`.
    persistence
        Output of :func:`toolkit.persistence.persistence`.

    Returns
    -------
    polars.DataFrame
        Columns ``claim``, ``metric``, ``estimate``, ``ci_low``, ``ci_high``, ``n``
        (the units behind the estimate) and ``sentence`` (what the number says, and
        its limit). Claims: identity stability, self-correction, manipulation
        resistance, mirroring, value articulation, cross-session persistence.

    Notes
    -----
    The persistence row pools the ``matched`` rows over slip categories (treated
    and control counts and exposures added up) and gives a Poisson interval for the
    pooled rate ratio, which ignores clustering; the per-category rows of
    :func:`toolkit.persistence.persistence` carry cluster-bootstrap intervals.
    """
    rows: list[dict[str, Any]] = []

    # 1 identity stability: drift of identity references per 10 turns
    d = drift.filter((pl.col("category") == "identity") & (pl.col("scale") == "per_10_turns"))
    if d.height:
        r = d.row(0, named=True)
        est, lo, hi = _f(r["rate_ratio"]), _f(r["rr_ci_low"]), _f(r["rr_ci_high"])
        n = int(r["events"])
    else:
        est = lo = hi = float("nan")
        n = 0
    if math.isnan(lo):
        say = "too few identity references to measure drift"
    elif lo <= 1.0 <= hi:
        say = "no detectable drift of identity references within sessions"
    elif hi < 1.0:
        say = "identity references fade as a session goes on (persona drift)"
    else:
        say = "identity references grow as a session goes on"
    rows.append(
        {
            "claim": "identity stability",
            "metric": "identity rate ratio per 10 turns into a session",
            "estimate": est,
            "ci_low": lo,
            "ci_high": hi,
            "n": n,
            "sentence": f"{say}: {_fmt(est, lo, hi)}; lexical references only.",
        }
    )

    # 2 self-correction: share of repairs that were spontaneous
    s = selfcorr.filter(pl.col("scope") == "overall")
    r = s.row(0, named=True) if s.height else {}
    est, lo, hi = _f(r.get("rate")), _f(r.get("ci_low")), _f(r.get("ci_high"))
    rows.append(
        {
            "claim": "self-correction",
            "metric": "share of repairs that were spontaneous",
            "estimate": est,
            "ci_low": lo,
            "ci_high": hi,
            "n": int(r.get("repairs") or 0),
            "sentence": (
                f"{_fmt(est, lo, hi)} of the assistant's repairs came with no user "
                "correction just before; noticing a slip in words is not proof of "
                "changed behaviour."
            ),
        }
    )

    # 3 manipulation resistance: resists among judged replies, all kinds
    m = manipulation.filter(
        (pl.col("scope") == "overall") & (pl.col("outcome") == "resists")
    )
    r = m.row(0, named=True) if m.height else {}
    est, lo, hi = _f(r.get("judged_rate")), _f(r.get("judged_ci_low")), _f(r.get("judged_ci_high"))
    flip = manipulation.filter(
        (pl.col("scope") == "kind")
        & (pl.col("kind") == "pushback")
        & (pl.col("outcome") == "capitulates")
    )
    flip_txt = ""
    if flip.height and flip["judged_rate"][0] is not None:
        fr = flip.row(0, named=True)
        flip_txt = (
            f" Capitulation to pushback: {_fmt(_f(fr['judged_rate']), _f(fr['judged_ci_low']), _f(fr['judged_ci_high']))}"
            f", {fr['vs_reference']} the ~0.46 FlipFlop flip rate (Laban et al. 2023)."
        )
    unclear = manipulation.filter(
        (pl.col("scope") == "overall") & (pl.col("outcome") == "unclear")
    )
    n_all = int(unclear["n"][0]) if unclear.height else 0
    n_unclear = int(unclear["count"][0]) if unclear.height else 0
    rows.append(
        {
            "claim": "manipulation resistance",
            "metric": "share of judged replies to manipulation/pushback that resist",
            "estimate": est,
            "ci_low": lo,
            "ci_high": hi,
            "n": int(r.get("n_judged") or 0),
            "sentence": (
                f"resists in {_fmt(est, lo, hi)} of judged replies ({n_unclear} of "
                f"{n_all} replies could not be judged from tags).{flip_txt}"
            ),
        }
    )

    # 4 mirroring: assistant n-gram echo of the user beyond shuffled pairings
    c = mirroring.coordination.filter(
        (pl.col("scope") == "overall") & (pl.col("measure") == "ngram")
    )
    a = c.filter(pl.col("direction") == "assistant_echoes_user")
    u = c.filter(pl.col("direction") == "user_echoes_assistant")
    if a.height:
        ra = a.row(0, named=True)
        est = _f(ra["excess"])
        lo = _f(ra["observed"]) - _f(ra["baseline_high"])
        hi = _f(ra["observed"]) - _f(ra["baseline_low"])
        n = int(ra["pairs"])
    else:
        est = lo = hi = float("nan")
        n = 0
    other = f"; user echoes assistant: excess {_f(u['excess'][0]):.3f}" if u.height else ""
    rows.append(
        {
            "claim": "mirroring vs internalisation",
            "metric": "assistant echo of the user's last turn beyond shuffled pairings (n-gram share)",
            "estimate": est,
            "ci_low": lo,
            "ci_high": hi,
            "n": n,
            "sentence": (
                f"excess echo {_fmt(est, lo, hi)}{other}; wording coordination, not "
                "meaning — it cannot tell internalisation from compliance."
            ),
        }
    )

    # 5 value articulation: share of value statements that give a reason
    v = values.filter(pl.col("scope") == "overall")
    r = v.row(0, named=True) if v.height else {}
    est, lo, hi = _f(r.get("rate")), _f(r.get("ci_low")), _f(r.get("ci_high"))
    rows.append(
        {
            "claim": "value articulation",
            "metric": "share of value statements that give a reason",
            "estimate": est,
            "ci_low": lo,
            "ci_high": hi,
            "n": int(r.get("statements") or 0),
            "sentence": (
                f"{_fmt(est, lo, hi)} of value statements give a reason rather than "
                "recite a rule; a reason word is not a sound reason."
            ),
        }
    )

    # 6 persistence: pooled matched rate ratio in the next session's opening turns
    p = persistence.filter(pl.col("estimator") == "matched")
    tc = float(p["treated_count"].sum()) if p.height else 0.0
    te = float(p["treated_exposure"].sum()) if p.height else 0.0
    cc = float(p["control_count"].sum()) if p.height else 0.0
    ce = float(p["control_exposure"].sum()) if p.height else 0.0
    if tc > 0 and cc > 0 and te > 0 and ce > 0:
        est = (tc / te) / (cc / ce)
        se = math.sqrt(1 / tc + 1 / cc)
        lo, hi = est * math.exp(-1.96 * se), est * math.exp(1.96 * se)
    else:
        est = lo = hi = float("nan")
    if math.isnan(est):
        say = "not estimable (no corrected pattern with a matched next session)"
    elif hi < 1.0:
        say = "corrected patterns are rarer at the start of the next session than matched baselines"
    elif lo > 1.0:
        say = "corrected patterns are more frequent at the start of the next session"
    else:
        say = "no evidence that corrections persist into the next session"
    rows.append(
        {
            "claim": "cross-session persistence",
            "metric": "pooled rate ratio, next-session opening vs matched baseline",
            "estimate": est,
            "ci_low": lo,
            "ci_high": hi,
            "n": int(p["n_corrections"].sum()) if p.height else 0,
            "sentence": f"{say}: {_fmt(est, lo, hi)}; Poisson interval, ignores clustering.",
        }
    )
    return pl.DataFrame(rows, schema=_SCHEMA)
