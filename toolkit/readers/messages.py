"""OpenAI / Hugging Face chat ``messages`` records: ``{"messages": [{role, content}]}``
(also ``conversations`` with ``role``/``content``, and ``chosen``/``rejected`` lists)."""

from __future__ import annotations

from typing import Any

import orjson

from toolkit.readers._common import Conv, Ctx, Row, key, role_of
from toolkit.readers.hhrlhf import chosen_rejected
from toolkit.readers.sharegpt import records

__all__ = ["read_messages"]


def read_messages(data: Any, ctx: Ctx) -> list[Conv]:
    """One conversation per record; system turns kept, tool turns hidden by default."""
    out: list[Conv] = []
    for i, r in enumerate(records(data, ctx)):
        rp = ctx.rec_path(i)
        r = ctx.obj(r, rp)
        cid = ctx.opt_id(r, "id", rp) or ctx.opt_id(r, "conversation_id", rp)
        cid = cid or ctx.derived_id(i)
        if "messages" in r or "conversations" in r:
            field = "messages" if "messages" in r else "conversations"
            rows = _rows(r.get(field), key(rp, field), ctx, cid)
            out.append(Conv(cid, rows=rows, branch="main" if ctx.all_branches else None))
        elif "chosen" in r:
            chosen = _rows(r.get("chosen"), key(rp, "chosen"), ctx, cid)
            rejected = _rows(r.get("rejected", []), key(rp, "rejected"), ctx, cid)
            out.extend(chosen_rejected(cid, chosen, rejected, ctx))
        else:
            raise ctx.fail(rp, "an object with a 'messages' list")
    return out


def _rows(msgs: object, path: str, ctx: Ctx, cid: str) -> list[Row]:
    rows: list[Row] = []
    for j, m in enumerate(ctx.arr(msgs, path)):
        mp = key(path, j)
        m = ctx.obj(m, mp)
        role = role_of(m.get("role"), ctx, key(mp, "role"))
        text = _content(m.get("content"), key(mp, "content"), ctx, cid)
        calls = m.get("tool_calls") or m.get("function_call")
        if calls:
            ctx.skip(cid, "tool_call", f"{role} tool call")
            if ctx.include_hidden:
                rows.append(("tool", orjson.dumps(calls, default=str).decode(), None, None))
        if role == "tool":
            ctx.skip(cid, "tool_message", "tool result")
            if ctx.include_hidden and text.strip():
                rows.append(("tool", text, None, None))
            continue
        if not text.strip():
            if not calls:
                ctx.skip(cid, "empty_message", f"{role} message without text")
            continue
        rows.append((role, text, None, None))
    return rows


def _content(c: object, path: str, ctx: Ctx, cid: str) -> str:
    if c is None:
        return ""
    if isinstance(c, str):
        return c
    texts: list[str] = []
    for k, part in enumerate(ctx.arr(c, path)):
        if isinstance(part, str):
            texts.append(part)
            continue
        part = ctx.obj(part, key(path, k))
        t = part.get("type")
        if t in ("text", "input_text", "output_text"):
            texts.append(ctx.text_of(part, "text", key(path, k)))
        elif t in ("reasoning", "thinking"):
            ctx.skip(cid, "reasoning", f"{t} part")
        else:
            ctx.skip(cid, "non_text_part", f"{t} part"[:80])
    return "\n".join(texts)
