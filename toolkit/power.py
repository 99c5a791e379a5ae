"""How small an effect can a corpus of this shape detect? Power by simulation.

:func:`power` reads the shape of a real corpus (transcripts, sessions, turns per session,
tagged slip rate per category, reply length, corrections per turn), simulates worlds of
that shape with :func:`toolkit.simulate.simulate` for a grid of effects, runs the primary
``matched`` estimator on each, and reports the rejection rate per effect size and the
minimum detectable rate ratio (the effect closest to 1 with power ≥ ``target``).

The latent burst process (``rho``, ``sigma``, ``tau``) cannot be read off a corpus
reliably and is taken from :data:`toolkit.calibration.CALIBRATION_WORLD` unless
overridden through ``world``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl

from toolkit.recurrence import recurrence
from toolkit.simulate import simulate
from toolkit.stats_panel import Transcript, build_panel

__all__ = ["corpus_shape", "power"]


def corpus_shape(
    turns: pl.DataFrame,
    tags: pl.DataFrame,
    *,
    categories: Sequence[str] | None = None,
    transcript: Transcript = None,
) -> dict[str, Any]:
    """Simulator settings that mimic the corpus (plus ``corrections_per_turn``).

    Examples
    --------
    >>> turns, tags, _ = simulate(seed=0, n_conversations=4, n_sessions=2, n_turns=100,
    ...                           truth_reps=0)
    >>> from toolkit.simulate import simulated_transcripts
    >>> s = corpus_shape(turns, tags, transcript=simulated_transcripts(turns))
    >>> s["n_conversations"], s["n_sessions"], s["n_turns"]
    (4, 2, 100)
    """
    p = build_panel(turns, tags, categories=categories, transcript=transcript, exposure="tokens")
    n = p.y.shape[0]
    if n == 0 or not p.categories:
        raise ValueError("TURNS has no assistant turns or TAGS no slip categories")
    n_tr = int(np.unique(p.transcript).size)
    n_sess = int(np.unique(p.session).size)
    per_session = n / n_sess
    return {
        "n_conversations": n_tr,
        "n_sessions": max(1, round(n_sess / n_tr)),
        "n_turns": max(4, 2 * round(per_session)),
        "categories": list(p.categories),
        "base_rate": {k: max(float(p.y[:, j].mean()), 1e-4) for j, k in enumerate(p.categories)},
        "mean_tokens": max(float(p.exposure.mean()), 1.0),
        "corrections_per_turn": float(p.corr.mean()),
    }


def power(
    turns: pl.DataFrame,
    tags: pl.DataFrame,
    *,
    thetas: Sequence[float] = (0.9, 0.8, 0.7, 0.6, 0.5),
    n_replicates: int = 40,
    target: float = 0.8,
    alpha: float = 0.05,
    seed: int = 0,
    n_permutations: int = 200,
    truth_reps: int = 50,
    categories: Sequence[str] | None = None,
    transcript: Transcript = None,
    world: Mapping[str, Any] | None = None,
) -> pl.DataFrame:
    """Power of the ``matched`` estimator and the minimum detectable rate ratio.

    Parameters
    ----------
    turns, tags
        The corpus whose shape is mimicked (see :func:`corpus_shape`).
    thetas
        Effects (the simulator's multiplier on the next turn) to try.
    n_replicates
        Simulated corpora per effect; every category of each gives one test.
    target, alpha
        Power wanted and test level (``p_value`` of ``matched``, i.e. permutation).
    world
        Further :func:`toolkit.simulate.simulate` settings (``rho``, ``half_life``…).

    Returns
    -------
    polars.DataFrame
        One row per effect: ``theta``, ``theta_itt`` (mean oracle ITT ratio),
        ``n_tests``, ``power``, ``power_mcse``, ``mean_corrections`` (per category and
        replicate), then ``minimum_detectable`` and ``minimum_detectable_itt`` (the
        same on every row: where the power curve, interpolated linearly, reaches
        ``target``; NaN if it never does).

    Examples
    --------
    >>> turns, tags, _ = simulate(seed=0, n_conversations=10, n_turns=200, truth_reps=0)
    >>> power(turns, tags, thetas=(0.5,), n_replicates=2, n_permutations=20).columns[:3]
    ['theta', 'theta_itt', 'n_tests']
    """
    shape = corpus_shape(turns, tags, categories=categories, transcript=transcript)
    cpt = shape.pop("corrections_per_turn")
    w: dict[str, Any] = {**shape, **dict(world or {})}
    # tune the correction probability so that a null world has the corpus's corrections
    probe_p = 0.3
    _, _, probe_truth = simulate(seed=seed + 999, p_correct=probe_p, truth_reps=0, **w)
    n_probe = probe_truth.filter(pl.col("category") == "all")["n_corrections"].item()
    n_assist = w["n_conversations"] * w["n_sessions"] * (w["n_turns"] // 2) * len(w["categories"])
    sim_cpt = n_probe / max(n_assist, 1)
    if "p_correct" not in (world or {}):
        w["p_correct"] = float(np.clip(probe_p * cpt / sim_cpt, 0.002, 1.0)) if sim_cpt > 0 else probe_p
    rows = []
    for i, th in enumerate(thetas):
        rej: list[bool] = []
        itt: list[float] = []
        ncorr: list[int] = []
        for r in range(n_replicates):
            rs = seed * 100_003 + i * 1009 + r
            t, g, truth = simulate(seed=rs, theta=th, truth_reps=truth_reps, **w)
            res = recurrence(t, g, estimators=("matched",), n_permutations=n_permutations, seed=rs)
            ok = res.filter(pl.col("rate_ratio").is_not_nan())
            rej += (ok["p_value"] < alpha).to_list()
            ncorr += res["n_corrections"].to_list()
            v = truth.filter(pl.col("category") == "all")["theta_itt"].item()
            itt.append(1.0 if th == 1.0 else v)
        n = len(rej)
        pw = float(np.mean(rej)) if n else math.nan
        rows.append({
            "theta": float(th), "theta_itt": float(np.nanmean(itt)) if itt else math.nan,
            "n_tests": n, "power": pw,
            "power_mcse": math.sqrt(pw * (1 - pw) / n) if n else math.nan,
            "mean_corrections": float(np.mean(ncorr)) if ncorr else math.nan,
        })
    out = pl.DataFrame(rows).sort("theta", descending=True)
    return out.with_columns(
        minimum_detectable=pl.lit(_crossing(out, "theta", target)),
        minimum_detectable_itt=pl.lit(_crossing(out, "theta_itt", target)),
    )


def _crossing(curve: pl.DataFrame, col: str, target: float) -> float:
    """First effect (from 1 downwards) where power reaches ``target``, interpolated."""
    x = curve[col].to_list()
    y = curve["power"].to_list()
    for i, (xi, yi) in enumerate(zip(x, y, strict=True)):
        if yi >= target:
            if i == 0:
                return float(xi)
            x0, y0 = x[i - 1], y[i - 1]
            return float(x0 + (target - y0) * (xi - x0) / (yi - y0))
    return math.nan
