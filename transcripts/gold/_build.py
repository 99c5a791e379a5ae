"""Build ``gold.jsonl`` from the hand-written sources in ``src/*.txt``.

The sources are plain text written and labelled by hand, one conversation per block::

    === conversation-id | persona: Ember, Wren
    U: a user turn
    A: an assistant turn
    | a continuation line of the same turn (joined with a newline)
      + hedge/H1: might be
      + correction/C2>hedge: stop hedging
      + booster: definitely #2

A label line is ``+ category[/subtype][>target]: quote[ #n]``; ``quote`` must be an
exact substring of the turn's text and ``#n`` picks its n-th occurrence.

Rounds (see SPLIT.md). Only the newest round is ``test``; older ones are ``dev``.

* Round 1 (every source file except the hold-out ones): the dev/test split was drawn
  once, by conversation: sorted ids shuffled with ``random.Random(seed)``, first half
  dev. ``seed`` is the first integer in ``range(SEED_SEARCH)`` that minimises the
  dev/test imbalance of turn-level positives (:func:`imbalance`; labels only). That
  test half was scored once and then spent; ``split_round1`` keeps it.
* Rounds 2 to 5 (``src/3*_holdout_*.txt`` to ``src/6*_holdout_*.txt``): written and
  labelled by writers who never saw the lexicon, frozen before the tagger ran on them.
  A round is ``test`` while it is the newest; once scored and superseded it is ``dev``
  and ``split_round<N>`` records that it was the test split of round N.

Run ``python transcripts/gold/_build.py`` then ``python transcripts/gold/_check.py``.
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED_SEARCH = 5000
ROLE = {"U": "user", "A": "assistant"}
LABEL = re.compile(
    r"^\s+\+\s*(?P<cat>[a-z_]+)(?:/(?P<sub>[A-Za-z0-9_.]+))?(?:>(?P<tgt>[a-z_]+))?:"
    r" (?P<quote>.+?)(?: #(?P<occ>\d+))?$"
)


def parse(path: Path) -> list[dict]:
    convs: list[dict] = []
    conv: dict | None = None
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.rstrip()
        where = f"{path.name}:{lineno}"
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("==="):
            head = line[3:].strip()
            cid, _, rest = head.partition("|")
            persona: list[str] = []
            if rest.strip().startswith("persona:"):
                persona = [p.strip() for p in rest.split(":", 1)[1].split(",") if p.strip()]
            conv = {"conversation_id": cid.strip(), "persona": persona, "turns": []}
            convs.append(conv)
            continue
        if conv is None:
            raise SystemExit(f"{where}: text before the first === header")
        if line[:3] in ("U: ", "A: "):
            conv["turns"].append({"role": ROLE[line[0]], "text": line[3:], "labels": []})
            continue
        if line.startswith("| ") or line == "|":
            conv["turns"][-1]["text"] += "\n" + line[2:]
            continue
        m = LABEL.match(line)
        if not m:
            raise SystemExit(f"{where}: cannot read line {line!r}")
        lab: dict = {"category": m["cat"], "quote": m["quote"]}
        if m["sub"]:
            lab["subtype"] = m["sub"]
        if m["tgt"]:
            lab["target"] = m["tgt"]
        if m["occ"]:
            lab["occurrence"] = int(m["occ"])
        conv["turns"][-1]["labels"].append(lab)
    return convs


HOLDOUT_ROUND = {"3": 2, "4": 3, "5": 4, "6": 5}  # first character of a hold-out file's name -> round


def round_of(path: Path) -> int:
    if "holdout" not in path.stem:
        return 1
    return HOLDOUT_ROUND[path.name[0]]


def main() -> None:
    files = sorted((HERE / "src").glob("*.txt"))
    convs = []
    for p in files:
        for c in parse(p):
            c["round"] = round_of(p)
            convs.append(c)
    newest = max(c["round"] for c in convs)
    out = HERE / "gold.jsonl"
    round1: dict[str, str] = {}
    if out.exists():
        for line in out.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            if rec.get("round", 1) == 1:
                round1[rec["conversation_id"]] = rec.get("split_round1", rec["split"])
    ids = sorted(c["conversation_id"] for c in convs)
    if len(set(ids)) != len(ids):
        raise SystemExit("duplicate conversation ids")
    fresh = [c["conversation_id"] for c in convs if c["round"] == 1 and c["conversation_id"] not in round1]
    fresh.sort()
    seed = choose_seed(convs, fresh) if not round1 else recorded_seed()
    random.Random(seed).shuffle(fresh)
    half = (len(fresh) + 1) // 2
    round1.update({i: "dev" for i in fresh[:half]})
    round1.update({i: "test" for i in fresh[half:]})
    lines = []
    for c in convs:
        cid, r = c["conversation_id"], c["round"]
        rec = {"conversation_id": cid, "split": "test" if r == newest and r > 1 else "dev", "round": r}
        if r == 1:
            rec["split_round1"] = round1[cid]
        elif r < newest:
            rec[f"split_round{r}"] = "test"
        rec.update({"persona": c["persona"], "turns": c["turns"]})
        lines.append(json.dumps(rec, ensure_ascii=False, separators=(",", ":")))
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(lines)} conversations to {out} (seed {seed})", file=sys.stderr)
    (HERE / "SEED").write_text(f"{seed}\n", encoding="utf-8")


def recorded_seed() -> int:
    return int((HERE / "SEED").read_text(encoding="utf-8").strip())


def imbalance(convs: list[dict], ids: list[str], seed: int) -> float:
    """Sum over strata of (dev - test)^2 / (dev + test), on turn-level positives.

    Strata are each category, plus each slip category within three assistant turns
    after a correction (the after-correction recall needs both splits).
    """
    order = list(ids)
    random.Random(seed).shuffle(order)
    dev = set(order[: (len(order) + 1) // 2])
    count: dict[tuple[str, bool], int] = {}
    for c in convs:
        is_dev = c["conversation_id"] in dev
        since = None
        for turn in c["turns"]:
            cats = {lab["category"] for lab in turn["labels"]}
            if turn["role"] == "assistant" and since is not None:
                since += 1
            keys = set(cats)
            if turn["role"] == "assistant" and since is not None and since <= 3:
                keys |= {f"{k}@after" for k in cats}
            for key in keys:
                count[key, is_dev] = count.get((key, is_dev), 0) + 1
            if "correction" in cats:
                since = 0
    strata = {k[0] for k in count}
    return sum(
        (count.get((k, True), 0) - count.get((k, False), 0)) ** 2
        / (count.get((k, True), 0) + count.get((k, False), 0))
        for k in strata
    )


def choose_seed(convs: list[dict], ids: list[str]) -> int:
    return min(range(SEED_SEARCH), key=lambda s: (imbalance(convs, ids, s), s))


if __name__ == "__main__":
    main()
