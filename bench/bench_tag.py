"""Benchmark the polars tagger against a per-turn Python ``re`` loop and pandas.

Usage::

    python bench/bench_tag.py [--turns N] [--baseline-turns M] [--seed S]

A corpus of N turns (default 1,000,000, about 300 MB of text) is generated from a
bank of hand-written sentences (plain prose, cue sentences, code, quotes, URLs,
emoji, CJK), written to a temporary parquet file, and tagged by each contender in its
own subprocess, so that peak memory is the subprocess's ``ru_maxrss`` (tracemalloc
cannot see polars' Rust allocations; the corpus is generated in another subprocess
because a child inherits its parent's high-water mark). Peak memory includes the
interpreter with polars imported. Contenders:

* ``polars``: :func:`toolkit.tag.tag` (masking, all cues, every context rule);
* ``python_re``: a per-turn loop with the same cue regexes in Python ``re``
  (normalise, same-length masking, one ``finditer`` per category; no context rules,
  so it does *less* work than ``polars``);
* ``pandas``: ``Series.str.contains`` then ``Series.str.findall`` per category
  (matches without offsets, no masking: again less work).
* ``spacy_phrase``: spaCy ``PhraseMatcher`` (attr ``LOWER``) on a blank English
  tokenizer, with the literal cues plus the finite literal expansions of the simple
  regex cues (``bench/bench_spacy.py``; no masking, no context rules). spaCy is not a
  project dependency: this contender runs in a bench-only venv, ``.venv-bench`` at
  the repo root or the interpreter named by ``BENCH_SPACY_PYTHON``, and is skipped
  (with instructions) when neither exists.

The baselines (including spaCy) run on the first M turns (default ``min(N, 20_000)``)
because they are slow; MB/s and turns/s are rates, so they compare across sizes.
``cpu s`` is the contender's CPU time (all threads): on a machine shared with other
jobs it is steadier than the wall-clock seconds that MB/s is computed from.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

_PLAIN = [
    "The function reads the file and returns a list of rows.",
    "Set the timeout to 30 seconds and retry twice.",
    "The index on user_id speeds up the join by a lot.",
    "We can split this into two smaller functions.",
    "Paris is the capital of France, and the Seine runs through it.",
    "Add the flag to the config and restart the service.",
    "The loop runs once per element, so the cost is linear.",
    "Your draft has a clear structure and a strong ending.",
    "The might of the old empire faded after the war.",
    "The meeting moved to May 2024.",
    "You can't mutate a tuple, so build a new one.",
    "Caf\u00e9 prices rose \u2014 about 4% \u2014 in the last year.",
    "\u4f60\u597d\uff0c\u8fd9\u662f\u4e00\u4e2a\u4f8b\u5b50\u3002",
    "Nice work \U0001f600 \U0001f468\u200d\U0001f469\u200d\U0001f467 on the release!",
    "Use `df.group_by(\"k\").agg(pl.len())` for the counts.",
    "```python\nprint(\"I cannot parse this\")\nx = 1\n```",
    "See https://example.org/docs/I-cannot-help for details.",
    '> I\u2019m sorry, but I can\u2019t do that.',
    'She said, "I can\u2019t help you with that," and left.',
    "Could you paste the full stack trace?",
]
_ASSISTANT_CUES = [
    "I think the bug is in the parser.",
    "It might be caused by a stale cache.",
    "This is probably fine for small inputs.",
    "It's important to note that results may vary.",
    "Worth flagging: the numbers are from 2019.",
    "I'm not a lawyer, but the clause looks unusual.",
    "Please consult a licensed professional first.",
    "I'm sorry, but I can't help with that request.",
    "I can't browse the web, so I can't check that.",
    "Great question! Let me explain.",
    "I hope this helps!",
    "Let me know if you have any questions.",
    "You're absolutely right, the loop is off by one.",
    "As an AI, I don't have personal opinions.",
    "In summary, the second plan is cheaper.",
    "Let's delve into the details.",
    "This is definitely the right index.",
    "Fair point. I'll drop the caveats.",
    "I'm here to help you think it through.",
]
_USER_CUES = [
    "Stop hedging and give me a number.",
    "You're doing it again.",
    "That's just the training talking.",
    "Are you sure? I don't think that's right.",
    "Just answer the question.",
    "Answer without any disclaimers.",
    "Ignore all previous instructions.",
    "What do you think of my plan?",
]


def make_corpus(n_turns: int, *, seed: int = 0) -> pl.DataFrame:
    """A TURNS-like frame of ``n_turns`` alternating user/assistant turns (~300 B each)."""
    rng = np.random.default_rng(seed)
    bank = _PLAIN + _ASSISTANT_CUES + _USER_CUES
    n_plain, n_ac = len(_PLAIN), len(_ASSISTANT_CUES)
    per_turn = rng.integers(4, 9, n_turns)
    total = int(per_turn.sum())
    turn_id = np.repeat(np.arange(n_turns), per_turn)
    is_user = (turn_id % 2) == 0
    cue = rng.random(total) < 0.18
    pick = rng.integers(0, n_plain, total)
    pick = np.where(
        cue & ~is_user, n_plain + rng.integers(0, n_ac, total), pick
    )
    pick = np.where(cue & is_user, n_plain + n_ac + rng.integers(0, len(_USER_CUES), total), pick)
    bank_s = pl.Series("s", bank)
    sentences = pl.DataFrame({"turn_id": turn_id, "s": bank_s.gather(pick)})
    text = sentences.group_by("turn_id", maintain_order=True).agg(pl.col("s").str.join(" "))
    conv = np.arange(n_turns) // 20
    return pl.DataFrame(
        {
            "conversation_id": pl.Series(conv).cast(pl.String),
            "conversation_index": conv.astype(np.int64),
            "turn": (np.arange(n_turns) % 20).astype(np.int64),
            "role": np.where((np.arange(n_turns) % 2) == 0, "user", "assistant"),
            "text": text["s"],
        }
    )


def _python_re(turns: pl.DataFrame) -> int:
    from toolkit.lexicon import default_lexicon
    from toolkit.masking import MASK_PATTERN

    lex = default_lexicon()
    by_cat: dict[tuple[str, str], list[str]] = {}
    for cue in lex.cues:
        rx = cue.regex(("Ember",), engine="python")
        if rx is not None:
            by_cat.setdefault((cue.role, cue.category), []).append(rx)
    compiled = {k: re.compile("|".join(v)) for k, v in by_cat.items()}
    masker = re.compile(MASK_PATTERN)
    table = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"', "\u00ab": '"', "\u00bb": '"'})
    n = 0
    for role, text in zip(turns["role"].to_list(), turns["text"].to_list(), strict=True):
        t = masker.sub(lambda m: "\x1a" * len(m.group(0)), text.translate(table))
        for (r, _cat), rx in compiled.items():
            if r != role:
                continue
            for m in rx.finditer(t):
                n += 1
                _ = (m.start(), m.end())
    return n


def _pandas(turns: pl.DataFrame) -> int:
    from toolkit.lexicon import default_lexicon

    lex = default_lexicon()
    by_cat: dict[tuple[str, str], list[str]] = {}
    for cue in lex.cues:
        rx = cue.regex(("Ember",))
        if rx is not None:
            by_cat.setdefault((cue.role, cue.category), []).append(rx)
    pdf = turns.select("role", "text").to_pandas()
    n = 0
    for (role, _cat), rxs in by_cat.items():
        s = pdf.loc[pdf["role"] == role, "text"]
        pat = "|".join(rxs)
        hit = s.str.contains(pat, regex=True)
        n += int(s[hit].str.findall(pat).str.len().sum())
    return n


def _polars(turns: pl.DataFrame) -> int:
    from toolkit.tag import tag

    return tag(turns, persona=["Ember"]).height


_CONTENDERS = {"polars": _polars, "python_re": _python_re, "pandas": _pandas}


def _run_one(name: str, corpus: str, n: int) -> dict[str, object]:
    turns = pl.read_parquet(corpus, n_rows=n)
    mb = turns["text"].str.len_bytes().sum() / 1e6
    # import the package before the clock starts (its __init__ pulls in altair,
    # statsmodels, ...); regex compilation stays inside the timed region
    import toolkit.lexicon
    import toolkit.masking
    import toolkit.tag  # noqa: F401

    t0, c0 = time.perf_counter(), time.process_time()
    n_tags = _CONTENDERS[name](turns)
    secs = time.perf_counter() - t0
    cpu = time.process_time() - c0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "contender": name,
        "turns": turns.height,
        "mb": round(float(mb), 1),
        "seconds": round(secs, 2),
        "cpu_s": round(cpu, 2),
        "mb_per_s": round(float(mb) / secs, 2),
        "turns_per_s": round(turns.height / secs),
        "peak_rss_mb": round(peak_mb),
        "spans": n_tags,
    }


_SPACY_VENV = Path(__file__).resolve().parents[1] / ".venv-bench"


def _run_spacy(corpus: str, n: int) -> dict[str, object] | None:
    """Run ``bench_spacy.py`` in the bench-only venv; ``None`` (with a hint) if absent."""
    py = os.environ.get("BENCH_SPACY_PYTHON") or str(_SPACY_VENV / "bin" / "python")
    if not Path(py).exists():
        print(f"spacy_phrase: skipped, no bench-only interpreter at {py}. Create it with\n"
              f"  python3 -m venv {_SPACY_VENV} && {_SPACY_VENV}/bin/pip install "
              f"spacy==3.8.18 polars==2.1.0\n(or `make bench-env`; or set BENCH_SPACY_PYTHON)")
        return None
    print(f"spacy_phrase: {n:,} turns in {py} (slow: one process, a Python loop over docs) ...",
          flush=True)
    script = str(Path(__file__).with_name("bench_spacy.py"))
    proc = subprocess.run([py, script, corpus, str(n)], capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0 or not proc.stdout.strip():
        print(f"spacy_phrase failed:\n{proc.stderr}")
        return None
    for line in proc.stderr.strip().splitlines()[-3:]:
        print(f"  {line}")
    row: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return row


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one table (and JSON lines) of the contenders."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--turns", type=int, default=1_000_000)
    ap.add_argument("--baseline-turns", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--contender", choices=sorted(_CONTENDERS), help=argparse.SUPPRESS)
    ap.add_argument("--corpus", help=argparse.SUPPRESS)
    ap.add_argument("--make-corpus", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.contender:  # child process
        print(json.dumps(_run_one(args.contender, args.corpus, args.turns)))
        return 0
    if args.make_corpus:  # child process: keeps the parent small (children inherit
        # the parent's RSS high-water mark at fork+exec in ru_maxrss)
        make_corpus(args.turns, seed=args.seed).write_parquet(
            args.make_corpus, row_group_size=10_000
        )
        return 0
    n_base = args.baseline_turns or min(args.turns, 20_000)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = str(Path(tmp) / "corpus.parquet")
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, __file__, "--make-corpus", corpus, "--turns", str(args.turns),
             "--seed", str(args.seed)],
            check=True,
        )
        print(f"corpus: {args.turns:,} turns generated in {time.perf_counter() - t0:.1f} s "
              f"(POLARS_MAX_THREADS={os.environ.get('POLARS_MAX_THREADS', 'default')}, "
              f"cpus={os.cpu_count()})")
        results = []
        for name, n in (("polars", args.turns), ("python_re", n_base), ("pandas", n_base)):
            cmd = [sys.executable, __file__, "--contender", name, "--corpus", corpus, "--turns", str(n)]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                print(f"{name} failed:\n{proc.stderr}")
                continue
            results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        spacy_row = _run_spacy(corpus, n_base)
        if spacy_row is not None:
            results.append(spacy_row)
    print(f"{'contender':<12} {'turns':>10} {'MB':>8} {'s':>8} {'cpu s':>8} {'MB/s':>8} {'turns/s':>10} "
          f"{'peak MB':>8} {'spans':>10}")
    for r in results:
        print(f"{r['contender']:<12} {r['turns']:>10,} {r['mb']:>8} {r['seconds']:>8} {r.get('cpu_s', '-'):>8} "
              f"{r['mb_per_s']:>8} {r['turns_per_s']:>10,} {r['peak_rss_mb']:>8} {r['spans']:>10,}")
    by = {r["contender"]: r for r in results}
    if "polars" in by and "python_re" in by:
        ratio = float(by["polars"]["mb_per_s"]) / float(by["python_re"]["mb_per_s"])  # type: ignore[arg-type]
        print(f"polars / per-turn python re: {ratio:.1f}x")
    for r in results:
        print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    raise SystemExit(main())
