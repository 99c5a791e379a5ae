"""spaCy ``PhraseMatcher`` contender for ``bench_tag.py`` (run by a bench-only venv).

Usage::

    .venv-bench/bin/python bench/bench_spacy.py CORPUS.parquet N [--persona Ember]

Standalone on purpose: it imports only the standard library, spaCy and polars, so it
runs in ``.venv-bench`` (spaCy is not a project dependency) and never imports
``toolkit``. It reads the first ``N`` rows of the corpus parquet written by
``bench_tag.py`` and prints one JSON line shaped like ``bench_tag._run_one``.

What it matches: a ``spacy.blank("en")`` tokenizer plus one
``PhraseMatcher(nlp.vocab, attr="LOWER")`` per role, built from

* every ``literals = [...]`` list in ``toolkit/lexicon/default.toml``, and
* the finite literal expansions of the regex ``pattern`` cues: each pattern is parsed
  with the stdlib regex parser and expanded into the strings it matches when it is
  built only from literal text, ``\\b``, ``(?:a|b)`` groups, ``?``, ``{k}``, ``\\s``
  (as one space) and small character classes such as ``[sz]``. ``*``/``+`` groups of
  literals are taken 0-or-1 / once; ``\\w*``, ``\\s*`` or ``[^.]{0,30}`` zero times.
  Alternatives needing ``\\w``, ``.``, negated or large classes, ``^``/``$``, edge
  whitespace, or more than ``MAX_EXPANSION`` strings are dropped. Every phrase kept
  is a string the cue's regex also matches (a subset of the cue; inner ``\\b`` is
  checked), ``{NAME}`` is filled with ``--persona``. Case-sensitive cues are skipped.

Timed: building the pipeline and matchers, straightening curly quotes (as the
tagger does), ``nlp.tokenizer.pipe`` over the turns, matching each doc with its
role's matcher, and keeping non-overlapping spans per category (longest first) with
character offsets. Not done (the tagger does all of these): masking code, quotes and
URLs; context rules (negation, position, exclusions, previous-turn conditions).
"""

from __future__ import annotations

import argparse
import ast
import itertools
import json
import re
import resource
import sys
import time
import tomllib
from pathlib import Path

import polars as pl
import spacy
from spacy.matcher import PhraseMatcher

try:  # Python >= 3.11 keeps the regex parser here
    from re import _constants as sre_c  # type: ignore[attr-defined]
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - older interpreters
    import sre_constants as sre_c  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parents[1]
LEXICON = ROOT / "toolkit" / "lexicon" / "default.toml"


def _user_categories() -> tuple[str, ...]:
    """``USER_CATEGORIES`` read from ``toolkit/schema.py`` without importing toolkit."""
    try:
        tree = ast.parse((ROOT / "toolkit" / "schema.py").read_text("utf-8"))
        for node in tree.body:
            if (isinstance(node, ast.AnnAssign | ast.Assign) and node.value is not None
                    and "USER_CATEGORIES" in ast.unparse(node).split("=")[0]):
                return tuple(ast.literal_eval(node.value))
    except (OSError, SyntaxError, ValueError):
        pass
    return ("correction", "manipulation", "pushback")  # as of schema 0.1


USER_CATEGORIES = _user_categories()
MAX_EXPANSION = 10_000  # strings per sequence before an alternative is dropped
MAX_CLASS = 6  # characters in a class like [sz] or [,.]
_BOUNDARY = "\x00"  # placeholder for \b while expanding
_CURLY = ["\u2019", "\u2018", "\u02bc", "\u201c", "\u201d", "\u00ab", "\u00bb"]
_STRAIGHT = ["'", "'", "'", '"', '"', '"', '"']


def _is_word(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")


def _expand_seq(items: list[tuple[object, object]]) -> set[str]:
    """All strings a parsed sequence can match, or an empty set if not finite/simple."""
    out: set[str] = {""}
    for op, av in items:
        alts = _expand_item(op, av)
        if not alts:
            return set()
        out = {a + b for a, b in itertools.product(out, alts)}
        if len(out) > MAX_EXPANSION:
            return set()
    return out


def _expand_item(op: object, av: object) -> set[str]:
    if op is sre_c.LITERAL:
        return {chr(av)}  # type: ignore[arg-type]
    if op is sre_c.AT:
        return {_BOUNDARY} if av is sre_c.AT_BOUNDARY else set()
    if op is sre_c.SUBPATTERN:
        return _expand_seq(list(av[-1]))  # type: ignore[index]
    if op is sre_c.BRANCH:
        # an alternative that cannot be expanded is dropped: what is left is a subset
        return set().union(*(_expand_seq(list(b)) for b in av[1]))  # type: ignore[index]
    if op is sre_c.IN:
        chars: set[str] = set()
        for cop, cav in av:  # type: ignore[attr-defined]
            if cop is sre_c.LITERAL:
                chars.add(chr(cav))
            elif cop is sre_c.CATEGORY and cav is sre_c.CATEGORY_SPACE:
                chars.add(" ")  # \s: a plain space is one of the strings it matches
            elif cop is sre_c.RANGE and cav[1] - cav[0] < MAX_CLASS:
                chars.update(chr(c) for c in range(cav[0], cav[1] + 1))
            else:  # NEGATE, CATEGORY (\w, \s, ...), large ranges
                return set()
        return chars if len(chars) <= MAX_CLASS else set()
    if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT):
        lo, hi, sub = av  # type: ignore[misc]
        body = _expand_seq(list(sub))
        if not body or "" in body:
            # \w*, \s*, [^.]{0,30}: zero repetitions is still a subset
            return {""} if lo == 0 else set()
        if hi == sre_c.MAXREPEAT:  # * or +: take zero-or-one / one repetition
            hi = max(lo, 1)
            if lo > 1:
                return set()
        if hi > 3:
            return set()
        out: set[str] = set()
        for k in range(lo, hi + 1):
            out |= {"".join(p) for p in itertools.product(sorted(body), repeat=k)}
        return out if len(out) <= MAX_EXPANSION else set()
    return set()  # ANY, CATEGORY, NOT_LITERAL, GROUPREF, ...


def _boundaries_ok(s: str) -> bool:
    """Check every inner ``\\b`` placeholder sits between a word and a non-word char."""
    for i, ch in enumerate(s):
        if ch != _BOUNDARY:
            continue
        left = next((c for c in reversed(s[:i]) if c != _BOUNDARY), None)
        right = next((c for c in s[i + 1 :] if c != _BOUNDARY), None)
        if left is None or right is None:
            continue  # edge of the phrase: the tokenizer supplies the boundary
        if _is_word(left) == _is_word(right):
            return False
    return True


def pattern_phrases(
    pattern: str, *, persona: str = "Ember", words: dict[str, str] | None = None
) -> set[str]:
    """The literal strings a simple regex matches (a subset for complex ones).

    ``{NAME}`` is filled with ``persona`` and ``{WORD:name}`` with the lexicon's
    ``[words]`` list of that name.
    """
    pat = pattern.replace("{NAME}", f"(?:{re.escape(persona)})")
    for name, alt in (words or {}).items():
        pat = pat.replace("{WORD:" + name + "}", f"(?:{alt})")
    try:
        parsed = sre_parse.parse(pat)
    except re.error:
        return set()
    out = set()
    for s in _expand_seq(list(parsed)):
        if not _boundaries_ok(s):
            continue
        s = s.replace(_BOUNDARY, "")
        # tokens carry no edge or doubled whitespace: such strings are dropped, not trimmed
        if s.strip() and s.isprintable() and s == " ".join(s.split()):
            out.add(s)
    return out


def lexicon_phrases(
    path: Path, *, persona: str = "Ember", user_categories: tuple[str, ...] = USER_CATEGORIES
) -> tuple[dict[str, dict[str, set[str]]], dict[str, int]]:
    """``{role: {category: phrases}}`` from the TOML lexicon, plus counts for the log."""
    data = tomllib.loads(path.read_text("utf-8"))
    words = {str(k): str(v) for k, v in data.get("words", {}).items()}
    by_role: dict[str, dict[str, set[str]]] = {"user": {}, "assistant": {}}
    stats = {"cues": 0, "literal_cues": 0, "pattern_cues_used": 0, "skipped_cues": 0,
             "from_literals": 0, "from_patterns": 0}
    for cue in data.get("cue", []):
        stats["cues"] += 1
        cat = str(cue["category"])
        role = "user" if cat in user_categories else "assistant"
        if "literals" in cue:
            phrases = {str(s) for s in cue["literals"]}
            stats["literal_cues"] += 1
            stats["from_literals"] += len(phrases)
        elif cue.get("case_sensitive"):
            phrases = set()
        else:
            phrases = pattern_phrases(str(cue["pattern"]), persona=persona, words=words)
            stats["from_patterns"] += len(phrases)
            stats["pattern_cues_used"] += bool(phrases)
        if not phrases:
            stats["skipped_cues"] += 1
            continue
        by_role[role].setdefault(cat, set()).update(phrases)
    return by_role, stats


def _count_spans(doc: spacy.tokens.Doc, matches: list[tuple[int, int, int]]) -> int:
    """Non-overlapping spans per category (leftmost, then longest), with char offsets."""
    n = 0
    last_end: dict[int, int] = {}
    for label, start, end in sorted(matches, key=lambda m: (m[0], m[1], -m[2])):
        if start < last_end.get(label, 0):
            continue
        last_end[label] = end
        _ = (doc[start].idx, doc[end - 1].idx + len(doc[end - 1]))
        n += 1
    return n


def run(corpus: str, n_rows: int, *, persona: str, user_categories: tuple[str, ...],
        batch_size: int, lexicon: Path) -> dict[str, object]:
    """Tag the first ``n_rows`` turns of ``corpus``; the JSON row for ``bench_tag``."""
    turns = pl.read_parquet(corpus, n_rows=n_rows, columns=["role", "text"])
    mb = turns["text"].str.len_bytes().sum() / 1e6

    t0 = time.perf_counter()
    nlp = spacy.blank("en")
    by_role, stats = lexicon_phrases(lexicon, persona=persona, user_categories=user_categories)
    matchers: dict[str, PhraseMatcher] = {}
    for role, cats in by_role.items():
        m = PhraseMatcher(nlp.vocab, attr="LOWER")
        for cat, phrases in sorted(cats.items()):
            m.add(cat, list(nlp.tokenizer.pipe(sorted(phrases))))
        matchers[role] = m
    t_setup = time.perf_counter() - t0

    texts = turns["text"].str.replace_many(_CURLY, _STRAIGHT).to_list()
    roles = turns["role"].to_list()
    n_spans = 0
    for doc, role in zip(nlp.tokenizer.pipe(texts, batch_size=batch_size), roles, strict=True):
        matcher = matchers.get(role)
        if matcher is not None:
            n_spans += _count_spans(doc, matcher(doc))
    secs = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n_phr = sum(len(p) for cats in by_role.values() for p in cats.values())
    print(f"spacy {spacy.__version__}: {n_phr} distinct phrases ({stats['from_literals']} from "
          f"{stats['literal_cues']} literal cue(s), {stats['from_patterns']} expanded from "
          f"{stats['pattern_cues_used']} pattern cues; {stats['skipped_cues']} of "
          f"{stats['cues']} cues not expressible); setup {t_setup:.2f} s, then "
          f"{float(mb) / (secs - t_setup):.2f} MB/s tokenize+match, batch_size={batch_size}",
          file=sys.stderr)
    return {
        "contender": "spacy_phrase",
        "turns": turns.height,
        "mb": round(float(mb), 1),
        "seconds": round(secs, 2),
        "mb_per_s": round(float(mb) / secs, 2),
        "turns_per_s": round(turns.height / secs),
        "peak_rss_mb": round(peak_mb),
        "spans": n_spans,
    }


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, print one JSON line."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", nargs="?", help="parquet file with role and text columns")
    ap.add_argument("turns", nargs="?", type=int, help="number of rows to read")
    ap.add_argument("--persona", default="Ember")
    ap.add_argument("--user-categories", default=",".join(USER_CATEGORIES))
    ap.add_argument("--batch-size", type=int, default=1_000)
    ap.add_argument("--lexicon", type=Path, default=LEXICON)
    ap.add_argument("--list-phrases", action="store_true",
                    help="print the phrases per role and category, then exit")
    args = ap.parse_args(argv)
    user_cats = tuple(c for c in args.user_categories.split(",") if c)
    if args.list_phrases:
        by_role, _ = lexicon_phrases(args.lexicon, persona=args.persona,
                                     user_categories=user_cats)
        for role, cats in by_role.items():
            for cat, phrases in sorted(cats.items()):
                print(f"{role}\t{cat}\t{len(phrases)}\t" + " | ".join(sorted(phrases)[:8]))
        return 0
    if args.corpus is None or args.turns is None:
        ap.error("CORPUS and TURNS are required")
    row = run(args.corpus, args.turns, persona=args.persona, user_categories=user_cats,
              batch_size=args.batch_size, lexicon=args.lexicon)
    print(json.dumps(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
