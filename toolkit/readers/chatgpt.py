"""ChatGPT data export: ``conversations.json`` (a mapping tree per conversation) and
the ``chat.html`` page that embeds the same array as ``var jsonData = [...]``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from toolkit.readers._common import Conv, Ctx, Row, key, kind, tree_paths

__all__ = ["chatgpt_records", "read_chatgpt", "read_chatgpt_html"]

_REASONING_TYPES = frozenset({"thoughts", "reasoning_recap"})
_TOOL_KINDS = frozenset({"tool_addressed", "tool_message"})
_ROLES = frozenset({"system", "user", "assistant", "tool"})
_LO, _HI = -62135596800.0, 253402300799.0  # epoch seconds of years 1 and 9999


def read_chatgpt(data: Any, ctx: Ctx) -> list[Conv]:
    """Conversations of a ChatGPT export (a JSON array, or ``{"conversations": [...]}``)."""
    path = "$"
    if isinstance(data, dict) and "conversations" in data:
        data, path = data["conversations"], "$.conversations"
    out: list[Conv] = []
    for i, c in enumerate(ctx.arr(data, path)):
        out.extend(_conversation(c, i, ctx, key(path, i)))
    return out


def chatgpt_records(records: Iterable[tuple[int, Any]], ctx: Ctx) -> Iterator[Conv]:
    """Conversations from ``(index, record)`` pairs of a top-level array, one record
    at a time (for large files split by :func:`toolkit.readers._split.array_values`);
    the same rows, places and ids as :func:`read_chatgpt` on the whole array."""
    for i, c in records:
        yield from _conversation(c, i, ctx, f"$[{i}]")


def read_chatgpt_html(text: str, ctx: Ctx) -> list[Conv]:
    """Conversations embedded in ``chat.html`` as ``var jsonData = [...];``."""
    marker = "var jsonData"
    at = text.find(marker)
    if at < 0:
        raise ctx.fail("byte 0", "a 'var jsonData = [...]' line in chat.html")
    eq = text.find("=", at)
    start = eq + 1
    while start < len(text) and text[start] in " \t\r\n":
        start += 1
    try:
        data, _ = json.JSONDecoder().raw_decode(text, start)
    except (json.JSONDecodeError, RecursionError) as exc:
        place = f"character {getattr(exc, 'pos', start)}"
        raise ctx.fail(place, "a JSON array after 'var jsonData ='") from None
    return read_chatgpt(data, ctx)


def _conversation(c: object, i: int, ctx: Ctx, path: str) -> list[Conv]:
    c = ctx.obj(c, path)
    cid = ctx.opt_str(c, "conversation_id", path) or ctx.opt_str(c, "id", path)
    cid = cid or ctx.derived_id(i)
    start = ctx.ts_epoch(c.get("create_time"), key(path, "create_time"))
    mpath = key(path, "mapping")
    mapping = ctx.obj(c.get("mapping"), mpath)
    parent: dict[str, str | None] = {}
    children: dict[str, list[str]] = {}
    order: dict[str, list[str]] = {}
    roots: list[str] = []
    for nid, node in mapping.items():
        if not isinstance(node, dict):
            raise ctx.fail(key(mpath, nid, data=True), "a JSON object (a mapping node)")
        p = node.get("parent")
        if p is not None and not isinstance(p, str):
            raise ctx.fail(key(key(mpath, nid, data=True), "parent"), "a node id or null")
        parent[nid] = p
        kids = node.get("children")
        if kids is not None and not isinstance(kids, list):
            raise ctx.fail(key(key(mpath, nid, data=True), "children"), "an array of node ids")
        if kids:
            order[nid] = kids
        msg = node.get("message")
        if msg is not None and not isinstance(msg, dict):
            raise ctx.fail(key(key(mpath, nid, data=True), "message"), "a JSON object or null")
    # children from parent links (the truth), ordered as the parent's children list
    for nid, p in parent.items():
        if p is None or p not in mapping:
            roots.append(nid)
        else:
            children.setdefault(p, []).append(nid)
    for p, kids in children.items():
        if len(kids) > 1:
            rank = {k: r for r, k in enumerate(order.get(p, [])) if isinstance(k, str)}
            kids.sort(key=lambda k: (rank.get(k, len(rank)), _ctime(mapping[k])))
    if len(roots) > 1:
        roots.sort(key=lambda k: _ctime(mapping[k]))
    if mapping and not roots:
        raise ctx.fail(mpath, "a tree with a root node (parent null); found only a cycle")

    cache: dict[str, Row | None] = {}

    def visible(nid: str) -> Row | None:
        if nid not in cache:
            msg = mapping[nid].get("message")
            cache[nid] = None if msg is None else _message(msg, mpath, nid, ctx, cid)
        return cache[nid]

    current = ctx.opt_str(c, "current_node", path)
    if current is None or current not in mapping:
        leaves = [n for n in mapping if not children.get(n)]
        if not leaves:
            return []
        current = max(leaves, key=lambda n: _ctime(mapping[n]))
        ctx.note(cid, "no_current_node", "active branch = latest leaf by create_time")
    active = _path_to(current, parent, mapping, ctx, mpath)
    if not ctx.all_branches:
        conv = Conv(cid, start)
        for nid in active:
            row = visible(nid)
            if row is not None:
                conv.rows.append(row)
        if len(active) < len(mapping):
            on = set(active)
            off = sum(1 for n, node in mapping.items() if n not in on and node.get("message"))
            ctx.skip(cid, "inactive_branch", "message not on the current_node branch", off)
        return [conv]
    out: list[Conv] = []
    for nodes in tree_paths(children, roots):
        leaf = nodes[-1]
        conv = Conv(cid, start, branch=leaf, active=leaf == current)
        for nid in nodes:
            row = visible(nid)
            if row is not None:
                conv.rows.append(row)
        out.append(conv)
    return out


def _ctime(node: object) -> float:
    msg = node.get("message") if isinstance(node, dict) else None
    t = msg.get("create_time") if isinstance(msg, dict) else None
    return float(t) if isinstance(t, int | float) and not isinstance(t, bool) else 0.0


def _path_to(
    leaf: str, parent: dict[str, str | None], mapping: dict[str, Any], ctx: Ctx, mpath: str
) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    n: str | None = leaf
    while n is not None and n in mapping:
        if n in seen:
            raise ctx.fail(key(mpath, n, data=True), "parent links without a cycle")
        seen.add(n)
        out.append(n)
        n = parent[n]
    out.reverse()
    return out


def _message(msg: dict[str, Any], mpath: str, nid: str, ctx: Ctx, cid: str) -> Row | None:
    def mp() -> str:
        return key(key(mpath, nid, data=True), "message")

    author = msg.get("author")
    role = author.get("role") if isinstance(author, dict) else None
    if not isinstance(role, str) or role not in _ROLES:
        if not isinstance(author, dict):
            raise ctx.fail(key(mp(), "author"), f"a JSON object, got {kind(author)}")
        raise ctx.fail(key(key(mp(), "author"), "role"), f"system/user/assistant/tool, got {role!r}"[:120])
    content = msg.get("content")
    if not isinstance(content, dict):
        raise ctx.fail(key(mp(), "content"), f"a JSON object, got {kind(content)}")
    ctype = content.get("content_type") or "text"
    if not isinstance(ctype, str):
        raise ctx.fail(key(key(mp(), "content"), "content_type"), "a string")
    meta = msg.get("metadata") or {}
    if not isinstance(meta, dict):
        raise ctx.fail(key(mp(), "metadata"), f"a JSON object, got {kind(meta)}")
    t = msg.get("create_time")
    if t is None:
        ts = None
    elif type(t) is float and _LO < t < _HI:
        ts = round(t * 1_000_000)
    else:
        ts = ctx.ts_epoch(t, key(mp(), "create_time"))
    recipient = msg.get("recipient")
    if recipient is not None and not isinstance(recipient, str):
        raise ctx.fail(key(mp(), "recipient"), "a string or null")
    slug = meta.get("model_slug")
    model = slug if isinstance(slug, str) and role == "assistant" else None
    if ctype in _REASONING_TYPES or msg.get("channel") == "analysis":
        ctx.skip(cid, "reasoning", f"hidden reasoning ({ctype})")
        return None
    what: str | None = None
    reason = ""
    if meta.get("is_visually_hidden_from_conversation") is True:
        what, reason = "hidden_scaffolding", f"{role} message marked visually hidden"
    elif ctype == "user_editable_context":
        what, reason = "hidden_scaffolding", "custom instructions (user_editable_context)"
    elif role == "system":
        what, reason = "hidden_scaffolding", "system message (not shown in the chat)"
    elif role == "tool":
        name = author.get("name")  # type: ignore[union-attr]
        what, reason = "tool_message", f"tool output ({name if isinstance(name, str) else 'tool'})"
    elif recipient not in (None, "all"):
        what, reason = "tool_addressed", f"{role} message addressed to {recipient}"
    if what is not None:
        ctx.skip(cid, what, reason)
        if not ctx.include_hidden:
            return None
        text = _content_text(content, ctype, mp, ctx, cid)
        if text.strip():
            return ("tool" if what in _TOOL_KINDS else "system", text, ts, model)
        return None
    text = _content_text(content, ctype, mp, ctx, cid)
    if not text or text.isspace():
        ctx.skip(cid, "empty_message", f"{role} message without text ({ctype})")
        return None
    return (role, text, ts, model)


def _content_text(
    content: dict[str, Any], ctype: str, mp: Callable[[], str], ctx: Ctx, cid: str
) -> str:
    parts = content.get("parts")
    if parts is not None:
        if not isinstance(parts, list):
            raise ctx.fail(key(key(mp(), "content"), "parts"), f"a JSON array, got {kind(parts)}")
        if len(parts) == 1 and isinstance(parts[0], str):
            return parts[0]
        texts: list[str] = []
        for j, p in enumerate(parts):
            if isinstance(p, str):
                texts.append(p)
            elif isinstance(p, dict) and isinstance(p.get("text"), str):
                texts.append(p["text"])  # audio_transcription and similar
            elif p is not None:
                pk = p.get("content_type") if isinstance(p, dict) else None
                where = f"{key(key(mp(), 'content'), 'parts')}[{j}]"
                ctx.skip(cid, "non_text_part", f"{pk or 'non-text'} part at {where}")
        return "\n".join(texts)
    if ctype == "user_editable_context":
        fields = (content.get("user_profile"), content.get("user_instructions"))
        return "\n\n".join(f for f in fields if isinstance(f, str) and f)
    for field in ("text", "result"):
        v = content.get(field)
        if isinstance(v, str):
            return v
    ctx.skip(cid, "unsupported_content", f"content_type {ctype} has no text")
    return ""
