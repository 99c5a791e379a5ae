"""ShareGPT dumps: records with ``conversations: [{from, value}, ...]`` (JSON or JSONL)."""

from __future__ import annotations

from typing import Any

from toolkit.readers._common import Conv, Ctx, key, role_of

__all__ = ["read_sharegpt", "records"]


def records(data: Any, ctx: Ctx) -> list[Any]:
    """The records of a JSON array, a JSONL file, or a single JSON object."""
    if isinstance(data, dict):
        return [data]
    return ctx.arr(data, "$")


def read_sharegpt(data: Any, ctx: Ctx) -> list[Conv]:
    """One conversation per record; each record keeps its own id (never re-joined)."""
    out: list[Conv] = []
    for i, r in enumerate(records(data, ctx)):
        rp = ctx.rec_path(i)
        r = ctx.obj(r, rp)
        cid = ctx.opt_id(r, "id", rp) or ctx.opt_id(r, "conversation_id", rp)
        cid = cid or ctx.derived_id(i)
        conv = Conv(cid, branch="main" if ctx.all_branches else None)
        cp = key(rp, "conversations")
        for j, m in enumerate(ctx.arr(r.get("conversations"), cp)):
            mp = key(cp, j)
            m = ctx.obj(m, mp)
            role = role_of(m.get("from", m.get("role")), ctx, key(mp, "from"))
            v = m.get("value", m.get("content"))
            if v is not None and not isinstance(v, str):
                raise ctx.fail(key(mp, "value"), f"a string, got {type(v).__name__}")
            text = v or ""
            if role == "tool" and not ctx.include_hidden:
                ctx.skip(cid, "tool_message", "tool/function turn")
                continue
            if not text.strip():
                ctx.skip(cid, "empty_message", f"{role} turn without text")
                continue
            conv.add(role, text, None)
        out.append(conv)
    return out
