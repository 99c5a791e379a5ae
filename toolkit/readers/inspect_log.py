"""Inspect AI eval logs: a ``.json`` log (``version``, ``eval``, ``samples``) or the
``.eval`` zip (``header.json`` + ``samples/<id>_epoch_<n>.json``), one conversation per
sample and epoch."""

from __future__ import annotations

from typing import Any

import orjson

from toolkit.readers._common import Conv, Ctx, Row, key, role_of

__all__ = ["read_inspect", "read_inspect_samples"]


def read_inspect(data: Any, ctx: Ctx) -> list[Conv]:
    """Conversations of a ``.json`` eval log."""
    log = ctx.obj(data, "$")
    samples = log.get("samples")
    if samples is None:
        ctx.skip(None, "no_samples", f"log without samples (status {log.get('status')!r})")
        return []
    return read_inspect_samples(log, [(s, key("$.samples", i), None) for i, s in
                                      enumerate(ctx.arr(samples, "$.samples"))], ctx)


def read_inspect_samples(
    header: dict[str, Any], samples: list[tuple[Any, str, str | None]], ctx: Ctx
) -> list[Conv]:
    """Conversations from a header object and ``(sample, path, source)`` triples."""
    ev = ctx.obj(header.get("eval"), "$.eval")
    eval_model = ctx.opt_str(ev, "model", "$.eval")
    eval_id = ctx.opt_str(ev, "eval_id", "$.eval") or ctx.opt_str(ev, "run_id", "$.eval") or ctx.stem
    created = ctx.ts_iso(ev.get("created"), "$.eval.created", None)
    out: list[Conv] = []
    for s, sp, source in samples:
        s = ctx.obj(s, sp)
        sid = ctx.opt_id(s, "id", sp) or "?"
        epoch = s.get("epoch", 1)
        cid = f"{eval_id}/{sid}/epoch{epoch}"
        start = _first_event_time(s, sp, ctx, cid)
        conv = Conv(cid, start if start is not None else created, source=source,
                    branch="main" if ctx.all_branches else None)
        mpath = key(sp, "messages")
        msgs = s.get("messages")
        if msgs is None:
            msgs = s.get("input") if isinstance(s.get("input"), list) else []
            mpath = key(sp, "input")
        for j, m in enumerate(ctx.arr(msgs, mpath)):
            conv.rows.extend(_message(m, key(mpath, j), ctx, cid, eval_model))
        out.append(conv)
    return out


def _first_event_time(s: dict[str, Any], sp: str, ctx: Ctx, cid: str) -> int | None:
    events = s.get("events")
    if not isinstance(events, list):
        return None
    for k, e in enumerate(events):
        if isinstance(e, dict) and e.get("timestamp") is not None:
            return ctx.ts_iso(e.get("timestamp"), key(key(key(sp, "events"), k), "timestamp"), cid)
    return None


def _message(m: object, mp: str, ctx: Ctx, cid: str, eval_model: str | None) -> list[Row]:
    m = ctx.obj(m, mp)
    role = role_of(m.get("role"), ctx, key(mp, "role"))
    ts = ctx.ts_iso(m.get("timestamp"), key(mp, "timestamp"), cid)
    model = (ctx.opt_str(m, "model", mp) or eval_model) if role == "assistant" else None
    content = m.get("content")
    cp = key(mp, "content")
    texts: list[str] = []
    if isinstance(content, str):
        texts.append(content)
    elif content is not None:
        for k, part in enumerate(ctx.arr(content, cp)):
            part = ctx.obj(part, key(cp, k))
            t = part.get("type")
            if t == "text":
                texts.append(ctx.text_of(part, "text", key(cp, k)))
            elif t == "reasoning":
                ctx.skip(cid, "reasoning", "reasoning content part")
            else:
                ctx.skip(cid, "non_text_part", f"{t} content part"[:80])
    text = "\n".join(texts)
    rows: list[Row] = []
    if m.get("tool_calls"):
        ctx.skip(cid, "tool_call", "assistant tool call")
    if role == "tool":
        ctx.skip(cid, "tool_message", f"tool result ({m.get('function')})"[:80])
        if ctx.include_hidden:
            err = m.get("error")
            body = text if text.strip() or not err else orjson.dumps(err, default=str).decode()
            rows.append(("tool", body, ts, None))
        return rows
    if text.strip():
        rows.append((role, text, ts, model))
    elif not m.get("tool_calls"):
        ctx.skip(cid, "empty_message", f"{role} message without text")
    if ctx.include_hidden and m.get("tool_calls"):
        rows.append(("tool", orjson.dumps(m["tool_calls"], default=str).decode(), ts, None))
    return rows
