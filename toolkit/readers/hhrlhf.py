"""Anthropic HH-RLHF lines: ``{"chosen": "\\n\\nHuman: ...\\n\\nAssistant: ...",
"rejected": ...}`` (or a red-team ``transcript`` string)."""

from __future__ import annotations

import re
from typing import Any

from toolkit.readers._common import Conv, Ctx, Row, key
from toolkit.readers.sharegpt import records

__all__ = ["chosen_rejected", "read_hh_rlhf", "split_hh"]

# a label only counts after a blank line: "Human:" inside a turn never splits it
_LABEL = re.compile(r"\n\n(Human|Assistant):(?: |(?=\n)|$)")


def split_hh(s: str, ctx: Ctx, path: str, cid: str | None = None) -> list[Row]:
    """Turns of one HH-RLHF string; empty turns (an empty final reply) are dropped.

    Examples
    --------
    >>> from toolkit.readers._common import Ctx
    >>> split_hh("\\n\\nHuman: Say 'Human: hi'\\n\\nAssistant: Human: hi", Ctx("x", "hh_rlhf"), "$")
    [('user', "Say 'Human: hi'", None, None), ('assistant', 'Human: hi', None, None)]
    """
    if not s.startswith("\n\n") and s.lstrip().startswith(("Human:", "Assistant:")):
        s = "\n\n" + s.lstrip()
    pieces = _LABEL.split(s)
    if pieces[0].strip():
        raise ctx.fail(path, "a string starting with '\\n\\nHuman: '")
    rows: list[Row] = []
    for label, text in zip(pieces[1::2], pieces[2::2], strict=True):
        role = "user" if label == "Human" else "assistant"
        if text.strip():
            rows.append((role, text, None, None))
        else:
            ctx.skip(cid, "empty_message", f"empty {role} turn")
    return rows


def chosen_rejected(cid: str, chosen: list[Row], rejected: list[Row], ctx: Ctx) -> list[Conv]:
    """One conversation whose ``chosen`` path is active and ``rejected`` an alternative."""
    shared = 0
    while shared < min(len(chosen), len(rejected)) and chosen[shared] == rejected[shared]:
        shared += 1
    if not ctx.all_branches:
        ctx.skip(cid, "inactive_branch", "rejected alternative turn", len(rejected) - shared)
        return [Conv(cid, rows=chosen)]
    out = [Conv(cid, rows=chosen, branch="chosen")]
    if rejected:
        out.append(Conv(cid, rows=rejected, branch="rejected", active=False))
    return out


def read_hh_rlhf(data: Any, ctx: Ctx) -> list[Conv]:
    """One conversation per line; the rejected reply is an alternative final branch."""
    out: list[Conv] = []
    for i, r in enumerate(records(data, ctx)):
        rp = ctx.rec_path(i)
        r = ctx.obj(r, rp)
        cid = ctx.derived_id(i)
        if "chosen" in r:
            c = r.get("chosen")
            if not isinstance(c, str):
                raise ctx.fail(key(rp, "chosen"), "an HH-RLHF transcript string")
            chosen = split_hh(c, ctx, key(rp, "chosen"), cid)
            rj = r.get("rejected")
            if rj is not None and not isinstance(rj, str):
                raise ctx.fail(key(rp, "rejected"), "an HH-RLHF transcript string")
            rejected = split_hh(rj, ctx, key(rp, "rejected")) if rj else []
            out.extend(chosen_rejected(cid, chosen, rejected, ctx))
        elif isinstance(r.get("transcript"), str):
            rows = split_hh(r["transcript"], ctx, key(rp, "transcript"), cid)
            out.append(Conv(cid, rows=rows, branch="main" if ctx.all_branches else None))
        else:
            raise ctx.fail(rp, "an object with 'chosen'/'rejected' or 'transcript' strings")
    return out
