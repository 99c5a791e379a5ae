"""Ad-hoc input/output pairs: ``[{"input", "output"}, ...]``, a list of such lists, or
``{"openings": [...], "conversations": [[...], ...], "endings": [...]}``."""

from __future__ import annotations

from typing import Any

from toolkit.readers._common import Conv, Ctx, key

__all__ = ["PAIR_KEYS", "is_pair", "read_pairs"]

PAIR_KEYS: tuple[tuple[str, ...], tuple[str, ...]] = (
    ("input", "prompt", "question", "instruction"),
    ("output", "response", "answer", "completion"),
)


def is_pair(x: object) -> bool:
    """True for an object with one user-side and one assistant-side string field."""
    return isinstance(x, dict) and any(
        isinstance(x.get(k), str) for k in PAIR_KEYS[0]
    ) and any(isinstance(x.get(k), str) for k in PAIR_KEYS[1])


def read_pairs(data: Any, ctx: Ctx) -> list[Conv]:
    """Each list of pairs is one conversation (user turn, assistant turn per pair);
    ``openings``/``endings`` entries are one-exchange conversations of their own."""
    groups: list[tuple[str, list[tuple[Any, str]]]] = []
    if isinstance(data, dict) and not is_pair(data):
        sections = [s for s in ("openings", "conversations", "endings") if s in data]
        if not sections:
            raise ctx.fail("$", "input/output pairs or openings/conversations/endings lists")
        for section in sections:
            sp = key("$", section)
            for j, item in enumerate(ctx.arr(data[section], sp)):
                ip = key(sp, j)
                cid = f"{ctx.stem}:{section}:{j}"
                if isinstance(item, list):
                    groups.append((cid, [(x, key(ip, k)) for k, x in enumerate(item)]))
                else:
                    groups.append((cid, [(item, ip)]))
    elif isinstance(data, dict):
        groups.append((ctx.derived_id(0), [(data, "$")]))
    else:
        items = ctx.arr(data, "$")
        if items and all(isinstance(x, list) for x in items):
            for j, x in enumerate(items):
                groups.append((ctx.derived_id(j), [(p, f"$[{j}][{k}]") for k, p in enumerate(x)]))
        else:
            groups.append((f"{ctx.stem}#0", [(p, f"$[{k}]") for k, p in enumerate(items)]))
    out: list[Conv] = []
    for cid, pairs in groups:
        conv = Conv(cid, branch="main" if ctx.all_branches else None)
        for p, pp in pairs:
            p = ctx.obj(p, pp)
            u = next((p[f] for f in PAIR_KEYS[0] if isinstance(p.get(f), str)), None)
            a = next((p[f] for f in PAIR_KEYS[1] if isinstance(p.get(f), str)), None)
            if u is None or a is None:
                raise ctx.fail(pp, "an object with input/prompt and output/response strings")
            for role, text in (("user", u), ("assistant", a)):
                if text.strip():
                    conv.add(role, text, None)
                else:
                    ctx.skip(cid, "empty_message", f"empty {role} side of a pair")
        out.append(conv)
    return out
