"""Speed of ``recurrence`` (issue 4): 2,000 permutations, all estimators.

Targets: 30 conversations × 400 turns in under 2 s; 1,000,000 turns in under 60 s.
Run with ``python -m bench bench_recurrence`` or ``python bench/bench_recurrence.py``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `toolkit` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from toolkit.recurrence import recurrence
from toolkit.simulate import simulate

CASES = (
    # name, conversations, TURNS rows per conversation, target seconds, repeats
    ("30 conv x 400 turns", 30, 400, 2.0, 5),
    ("1,000,000 turns", 500, 2000, 60.0, 1),
)


def main(argv: list[str] | None = None) -> int:
    """Time one ``recurrence`` call per case and print a table; return 0 if all pass."""
    quick = bool(argv) and "--quick" in argv
    rows = []
    # warm-up: imports (statsmodels, scipy) are not part of a call's cost
    t, g, _ = simulate(seed=0, n_conversations=5, n_turns=100, truth_reps=0)
    recurrence(t, g, n_permutations=10)
    for name, n_conv, n_turns, target, repeats in CASES:
        if quick and n_conv * n_turns > 100_000:
            continue
        t0 = time.perf_counter()
        turns, tags, _ = simulate(seed=1, n_conversations=n_conv, n_turns=n_turns, truth_reps=0)
        t_sim = time.perf_counter() - t0
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            res = recurrence(turns, tags, n_permutations=2000, seed=0)
            times.append(time.perf_counter() - t0)
        times.sort()
        best, median = times[0], times[len(times) // 2]
        n_corr = int(res.filter(res["estimator"] == "matched")["n_corrections"].sum())
        rows.append((name, turns.height, n_corr, t_sim, best, median, target, median < target))
    head = f"{'corpus':<22}{'TURNS rows':>12}{'corrections':>13}{'simulate s':>12}{'best s':>9}{'median s':>10}{'target s':>10}  ok"
    print(head)
    print("-" * len(head))
    for name, n, c, ts, b, m, tg, ok in rows:
        print(f"{name:<22}{n:>12,}{c:>13,}{ts:>12.2f}{b:>9.2f}{m:>10.2f}{tg:>10.0f}  {'yes' if ok else 'NO'}")
    print("recurrence(turns, tags, n_permutations=2000): naive_pre_post, matched, survival, placebo")
    return 0 if all(r[-1] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
