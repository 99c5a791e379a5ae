"""Claude.ai data export ``conversations.json``: flat ``chat_messages`` with typed
content blocks and, in newer exports, ``parent_message_uuid`` links."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from toolkit.readers._common import Conv, Ctx, Row, key, tree_paths

__all__ = ["claude_records", "read_claude"]

ROOT_SENTINEL = "00000000-0000-4000-8000-000000000000"
_SENDERS = {"human": "user", "user": "user", "assistant": "assistant"}


def read_claude(data: Any, ctx: Ctx) -> list[Conv]:
    """Conversations of a Claude.ai export (a JSON array of conversation objects)."""
    out: list[Conv] = []
    for i, c in enumerate(ctx.arr(data, "$")):
        out.extend(_conversation(c, i, ctx, f"$[{i}]"))
    return out


def claude_records(records: Iterable[tuple[int, Any]], ctx: Ctx) -> Iterator[Conv]:
    """Conversations from ``(index, record)`` pairs of a top-level array, one record
    at a time; the same rows, places and ids as :func:`read_claude` on the whole array."""
    for i, c in records:
        yield from _conversation(c, i, ctx, f"$[{i}]")


def _conversation(c: object, i: int, ctx: Ctx, path: str) -> list[Conv]:
    c = ctx.obj(c, path)
    cid = ctx.opt_str(c, "uuid", path) or ctx.derived_id(i)
    start = ctx.ts_iso(c.get("created_at"), key(path, "created_at"), cid)
    summary = c.get("summary")
    if isinstance(summary, str) and summary.strip():
        ctx.skip(cid, "summary", "conversation summary written by the model (not a turn)")
    mpath = key(path, "chat_messages")
    msgs = ctx.arr(c.get("chat_messages"), mpath)
    ids: list[str] = []
    parents: dict[str, str | None] = {}
    rows: dict[str, list[Row]] = {}
    linked = False
    for j, m in enumerate(msgs):
        mp = key(mpath, j)
        m = ctx.obj(m, mp)
        uid = ctx.opt_str(m, "uuid", mp) or f"#{j}"
        if uid in rows:
            uid = f"{uid}#{j}"
        p = ctx.opt_str(m, "parent_message_uuid", mp)
        if p is not None:
            linked = True
        parents[uid] = None if p in (None, ROOT_SENTINEL) else p
        ids.append(uid)
        rows[uid] = _message(m, mp, ctx, cid)
    if not linked:
        conv = Conv(cid, start, branch="main" if ctx.all_branches else None)
        for uid in ids:
            conv.rows.extend(rows[uid])
        return [conv]
    children: dict[str, list[str]] = {}
    roots: list[str] = []
    for uid in ids:
        p = parents[uid]
        if p is None or p not in rows:
            roots.append(uid)
        else:
            children.setdefault(p, []).append(uid)
    leaf = ctx.opt_str(c, "current_leaf_message_uuid", path)
    if leaf not in rows:
        leaf = ids[-1]
    paths = tree_paths(children, roots)
    if not ctx.all_branches:
        active: list[str] = []
        seen: set[str] = set()
        n: str | None = leaf
        while n is not None and n in rows and n not in seen:
            seen.add(n)
            active.append(n)
            n = parents[n]
        active.reverse()
        conv = Conv(cid, start)
        for uid in active:
            conv.rows.extend(rows[uid])
        off = sum(1 for u in ids if u not in seen)
        ctx.skip(cid, "inactive_branch", "message not on the latest branch", off)
        return [conv]
    out = []
    for nodes in paths:
        conv = Conv(cid, start, branch=nodes[-1], active=nodes[-1] == leaf)
        for uid in nodes:
            conv.rows.extend(rows[uid])
        out.append(conv)
    return out


def _message(m: dict[str, Any], mp: str, ctx: Ctx, cid: str) -> list[Row]:
    sender = m.get("sender")
    role = _SENDERS.get(sender) if isinstance(sender, str) else None
    if role is None:
        raise ctx.fail(key(mp, "sender"), f"'human' or 'assistant', got {sender!r}"[:120])
    ts = ctx.ts_iso(m.get("created_at"), key(mp, "created_at"), cid)
    cpath = key(mp, "content")
    content = m.get("content")
    tools: list[str] = []
    if isinstance(content, list) and content:
        texts: list[str] = []
        for k, b in enumerate(content):
            bp = key(cpath, k)
            b = ctx.obj(b, bp)
            t = b.get("type")
            if t == "text":
                texts.append(ctx.text_of(b, "text", bp))
            elif t in ("thinking", "redacted_thinking"):
                ctx.skip(cid, "reasoning", f"{t} block")
            elif t == "tool_use":
                ctx.skip(cid, "tool_block", "tool_use block")
                name = b.get("name")
                tools.append(f"{name}: {orjson.dumps(b.get('input'), default=str).decode()}")
            elif t == "tool_result":
                ctx.skip(cid, "tool_block", "tool_result block")
                tools.append(_result_text(b.get("content")))
            else:
                ctx.skip(cid, "unsupported_block", f"content block type {t!r}"[:80])
        text = "\n\n".join(t for t in texts if t.strip())
    elif content is None or content == []:
        text = ctx.text_of(m, "text", mp)
    else:
        raise ctx.fail(cpath, f"an array of content blocks, got {type(content).__name__}")
    out: list[Row] = []
    if text.strip():
        out.append((role, text, ts, None))
    else:
        ctx.skip(cid, "empty_message", f"{role} message without visible text")
    if ctx.include_hidden:
        out.extend(("tool", t, ts, None) for t in tools if t.strip())
    return out


def _result_text(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            b["text"] for b in content if isinstance(b, dict) and isinstance(b.get("text"), str)
        )
    return ""
