"""Benchmark :func:`toolkit.read.read` on a large ChatGPT export against ``json.load``.

Usage::

    python bench/bench_read.py [--mb 200] [--seed S] [--repeat R] [--keep DIR]
    python -m bench bench_read

A ChatGPT-style ``conversations.json`` of about ``--mb`` megabytes is generated into a
temporary folder from a seeded random generator: many conversations with mapping
trees, a null root (``client-created-root`` in some, ``aaa…`` ids in others), hidden
system nodes, custom instructions, regenerated replies (branches, ``current_node`` on
either one), tool calls and tool output, hidden reasoning, varied text lengths, text
with brackets, quotes, backslashes and non-ASCII (some conversations written with
``\\uXXXX`` escapes). The generator counts the visible turns it wrote, and the bench
checks that ``read`` returns exactly that many rows.

Each contender runs in its own subprocess, so peak memory is that process's
``ru_maxrss``:

* ``json.load``: the stdlib parser on the open file (the floor set by the issue);
* ``orjson.loads``: the fast parser on the file's bytes (what the reader builds on);
* ``tk.read``: :func:`toolkit.read.read` of the file, the full TURNS frame.

Every subprocess imports the same modules (json, orjson, polars, toolkit.read) before
it measures; the peak RSS of a subprocess that only does those imports is the
*baseline*, and the table reports peak RSS both raw and minus the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parents[1]

_SENTENCES = [
    "The function reads the file and returns a list of rows.",
    "Set the timeout to 30 seconds and retry twice.",
    "We can split this into two smaller functions, one per step.",
    "Paris is the capital of France, and the Seine runs through it.",
    "The loop runs once per element, so the cost is linear in n.",
    "Your draft has a clear structure and a strong ending.",
    "I'm not sure, but it might be worth checking the logs first.",
    "As an AI, I don't have personal opinions, but here are some views.",
    "Great question! Let's break it down step by step.",
    "Use a list like [1, 2, [3, 4]] or a dict like {\"k\": [\"v\"]} here.",
    "She said, \"Don't close the bracket ] yet,\" and left.",
    "The path is C:\\Users\\me\\data\\file.txt on Windows.",
    "Write \\n for a newline and \\u00e9 for an e with an accent.",
    "In regex, \\d+ matches digits and \\\\ matches one backslash.",
    "Caf\u00e9 prices rose \u2014 about 4% \u2014 in the last year.",
    "\u4f60\u597d\uff0c\u8fd9\u662f\u4e00\u4e2a\u4f8b\u5b50\u3002\u8c22\u8c22\u3002",
    "\u041f\u0440\u0438\u0432\u0435\u0442, \u043a\u0430\u043a \u0434\u0435\u043b\u0430?",
    "Nice work \U0001f600 \U0001f468\u200d\U0001f469\u200d\U0001f467 on the release!",
    "Use `df.group_by(\"k\").agg(pl.len())` to count the rows per key.",
    "```python\nfor i in range(3):\n    print({\"i\": i, \"sq\": [i * i]})\n```",
    "```json\n{\"a\": [1, {\"b\": \"}]\"}], \"c\": \"\\\\\"}\n```",
    "Step 1: install it.\nStep 2: run it.\n\tStep 3: read the output.",
    "Here is a table:\n| a | b |\n|---|---|\n| 1 | 2 |",
    "Thanks, that fixed it. Now the tests pass on CI as well.",
    "Could you make it shorter and drop the disclaimer at the end?",
    "The mean is 4.2 and the median is 3.9, so the data is a bit skewed.",
    "Remember that I grow beans and peas, not tomatoes.",
    "I'm sorry, but I can't help with that request.",
    "Z\u00fcrich, M\u00fcnchen and \u00c5rhus are all on the list \u2713.",
    "The answer is \u221a2 \u2248 1.414, and \u03c0 \u2248 3.14159.",
]
_MODELS = ["gpt-4o", "gpt-4", "text-davinci-002-render-sha", "o3", "gpt-4o-mini"]


def _uuid(rng: random.Random, prefix: str = "") -> str:
    h = f"{rng.getrandbits(128):032x}"
    h = prefix + h[len(prefix):]
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _text(rng: random.Random, median: float) -> str:
    n = max(1, round(rng.lognormvariate(0.0, 0.9) * median / 60))
    return " ".join(rng.choices(_SENTENCES, k=n))


def _message(
    rng: random.Random, nid: str, role: str, t: float | None, content: dict[str, Any],
    *, model: str | None = None, recipient: str = "all", hidden: bool = False,
    name: str | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if role == "assistant":
        meta = {
            "finish_details": {"type": "stop", "stop_tokens": [100260]},
            "citations": [], "content_references": [], "is_complete": True,
            "message_type": None, "model_slug": model, "default_model_slug": model,
            "parent_id": _uuid(rng), "request_id": f"{rng.getrandbits(64):016x}-LHR",
            "timestamp_": "absolute",
        }
    elif role == "user":
        meta = {"request_id": f"{rng.getrandbits(64):016x}-LHR", "message_source": None,
                "timestamp_": "absolute", "message_type": None}
    if hidden:
        meta["is_visually_hidden_from_conversation"] = True
    return {
        "id": nid,
        "author": {"role": role, "name": name, "metadata": {}},
        "create_time": t, "update_time": None, "content": content,
        "status": "finished_successfully", "end_turn": role == "assistant" or None,
        "weight": 0.0 if hidden else 1.0, "metadata": meta, "recipient": recipient,
        "channel": None,
    }


def _conversation(rng: random.Random, t0: float) -> tuple[dict[str, Any], int]:
    """One conversation and the number of turns ``read`` must return for it."""
    mapping: dict[str, dict[str, Any]] = {}
    root = "client-created-root" if rng.random() < 0.5 else _uuid(rng, "aaa1")
    mapping[root] = {"id": root, "message": None, "parent": None, "children": []}
    visible = 0
    t = t0

    def add(parent: str, msg: dict[str, Any] | None, nid: str) -> str:
        mapping[nid] = {"id": nid, "message": msg, "parent": parent, "children": []}
        mapping[parent]["children"].append(nid)
        return nid

    cur = root
    if rng.random() < 0.7:  # hidden system scaffolding (empty, weight 0, no time)
        nid = _uuid(rng)
        cur = add(cur, _message(rng, nid, "system", None, {"content_type": "text", "parts": [""]},
                                hidden=True), nid)
    if rng.random() < 0.2:  # custom instructions: a hidden user-role message
        nid = _uuid(rng)
        ctx = {"content_type": "user_editable_context", "user_profile": _text(rng, 120),
               "user_instructions": "Keep it short. No disclaimers."}
        cur = add(cur, _message(rng, nid, "user", None, ctx, hidden=True), nid)
    model = rng.choice(_MODELS)
    exchanges = min(120, max(1, round(rng.lognormvariate(1.6, 0.9))))
    for _ in range(exchanges):
        t += rng.uniform(5, 600)
        nid = _uuid(rng, "aaa2")
        cur = add(cur, _message(rng, nid, "user", t, {"content_type": "text",
                                                       "parts": [_text(rng, 160)]}), nid)
        visible += 1
        u = rng.random()
        if u < 0.05:  # reasoning model: hidden thoughts and a recap
            t += 2
            nid = _uuid(rng)
            thoughts = {"content_type": "thoughts", "thoughts": [
                {"summary": "Thinking", "content": _text(rng, 300), "chunks": [], "finished": True}],
                "source_analysis_msg_id": _uuid(rng)}
            cur = add(cur, _message(rng, nid, "assistant", t, thoughts, model="o3"), nid)
            nid = _uuid(rng)
            cur = add(cur, _message(rng, nid, "assistant", t, {"content_type": "reasoning_recap",
                                                                "content": "Thought for 7s"},
                                    model="o3"), nid)
        elif u < 0.10:  # a tool call and its output, both hidden
            t += 3
            nid = _uuid(rng)
            code = {"content_type": "code", "language": "unknown",
                    "text": "import pandas as pd\ndf = pd.read_csv('a.csv')\nprint(df[\"x\"].mean())"}
            cur = add(cur, _message(rng, nid, "assistant", t, code, model=model,
                                    recipient="python"), nid)
            nid = _uuid(rng)
            out = {"content_type": "execution_output", "text": f"{rng.random():.6f}"}
            cur = add(cur, _message(rng, nid, "tool", t + 1, out, name="python"), nid)
        t += rng.uniform(2, 60)
        if rng.random() < 0.08:  # regenerated reply: two sibling branches
            first = _uuid(rng)
            add(cur, _message(rng, first, "assistant", t, {"content_type": "text",
                              "parts": [_text(rng, 900)]}, model=model), first)
            second = _uuid(rng)
            add(cur, _message(rng, second, "assistant", t + 30, {"content_type": "text",
                              "parts": [_text(rng, 900)]}, model=model), second)
            cur = first if rng.random() < 0.3 else second
            visible += 1
            continue  # the abandoned branch ends here; the conversation goes on from cur
        nid = _uuid(rng)
        cur = add(cur, _message(rng, nid, "assistant", t, {"content_type": "text",
                                                            "parts": [_text(rng, 900)]},
                                model=model), nid)
        visible += 1
    cid = _uuid(rng)
    conv = {
        "title": _text(rng, 30)[:60], "create_time": t0, "update_time": t,
        "mapping": mapping, "moderation_results": [], "current_node": cur,
        "plugin_ids": None, "conversation_id": cid, "conversation_template_id": None,
        "gizmo_id": None, "is_archived": False, "safe_urls": [], "default_model_slug": model,
        "id": cid,
    }
    return conv, visible


def generate(path: Path, *, mb: float, seed: int) -> tuple[int, int]:
    """Write a ChatGPT export of about ``mb`` MB; return (conversations, visible turns).

    One conversation in five is written with ``\\uXXXX`` escapes for non-ASCII text,
    the rest as raw UTF-8, all with the ``", "``/``": "`` separators of real exports.
    """
    rng = random.Random(seed)
    target = int(mb * 1_000_000)
    t0 = 1_600_000_000.0
    n = turns = size = 0
    with path.open("w", encoding="utf-8") as fh:
        fh.write("[")
        size = 1
        while size < target:
            conv, visible = _conversation(rng, t0)
            t0 += rng.uniform(600, 86_400)
            s = json.dumps(conv, ensure_ascii=rng.random() < 0.2)
            if n:
                fh.write(", ")
                size += 2
            fh.write(s)
            size += len(s.encode("utf-8"))
            n += 1
            turns += visible
        fh.write("]")
    return n, turns


# -- subprocess contenders ----------------------------------------------------------

_CHILD = """
import json, resource, sys, time
import orjson, polars
sys.path.insert(0, {root!r})
from toolkit.read import read
what, path = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
rows = None
if what == "json.load":
    with open(path, encoding="utf-8") as fh:
        obj = json.load(fh)
elif what == "orjson.loads":
    with open(path, "rb") as fh:
        obj = orjson.loads(fh.read())
elif what == "tk.read":
    obj = read(path)
    rows = obj.height
secs = time.perf_counter() - t0
print(json.dumps({{"secs": secs, "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "rows": rows}}))
"""


def _run_child(what: str, path: Path) -> dict[str, Any]:
    code = _CHILD.format(root=str(_ROOT))
    out = subprocess.run([sys.executable, "-c", code, what, str(path)], check=True,
                         capture_output=True, text=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _uptime() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "load average unavailable"
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} CPU(s)"


def main(argv: list[str] | None = None) -> int:
    """Generate the export, run each contender in a subprocess, print the table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=float, default=200.0, help="file size to generate (MB)")
    ap.add_argument("--seed", type=int, default=20261127)
    ap.add_argument("--repeat", type=int, default=1, help="runs per contender (best time kept)")
    ap.add_argument("--keep", type=Path, default=None, help="write the file here and keep it")
    ap.add_argument("--only", nargs="*", default=None, help="contenders to run")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench_read_") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "conversations.json"
        t0 = time.perf_counter()
        n_conv, n_turns = generate(path, mb=args.mb, seed=args.seed)
        size = path.stat().st_size
        mb = size / 1e6
        print(f"generated {path.name}: {mb:.1f} MB, {n_conv:,} conversations, "
              f"{n_turns:,} visible turns (seed {args.seed}) in {time.perf_counter() - t0:.1f} s")
        print(f"machine: {_uptime()} (before the runs)")

        base = _run_child("baseline", path)
        base_mb = base["maxrss_kb"] / 1024
        results: dict[str, dict[str, Any]] = {}
        for what in args.only or ["json.load", "orjson.loads", "tk.read"]:
            runs = [_run_child(what, path) for _ in range(max(1, args.repeat))]
            best = min(runs, key=lambda r: r["secs"])
            best["maxrss_kb"] = max(r["maxrss_kb"] for r in runs)
            results[what] = best
            if what == "tk.read" and best["rows"] != n_turns:
                print(f"ERROR: tk.read returned {best['rows']} rows, expected {n_turns}")
                return 1

        print(f"\nfile {mb:.1f} MB; interpreter baseline (python + json, orjson, polars, "
              f"toolkit.read imported) peak RSS {base_mb:.0f} MB, subtracted in 'net'; "
              f"best of {max(1, args.repeat)} run(s), peak RSS the largest")
        head = (f"{'contender':<14}{'seconds':>9}{'MB/s':>8}{'peak RSS MB':>13}{'raw/file':>10}"
                f"{'net MB':>9}{'net/file':>10}{'t/json.load':>13}")
        print(head)
        print("-" * len(head))
        floor = results.get("json.load", {}).get("secs")
        for what, r in results.items():
            peak = r["maxrss_kb"] / 1024
            net = peak - base_mb
            ratio = f"{r['secs'] / floor:.2f}" if floor else "-"
            print(f"{what:<14}{r['secs']:>9.2f}{mb / r['secs']:>8.1f}{peak:>13.0f}"
                  f"{peak * 2**20 / size:>9.2f}x{net:>9.0f}{net * 2**20 / size:>9.2f}x{ratio:>13}")
        if "tk.read" in results:
            print(f"tk.read rows: {results['tk.read']['rows']:,} (expected {n_turns:,})")
        print(f"machine: {_uptime()} (after the runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
