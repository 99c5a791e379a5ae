"""Markdown transcripts from the popular exporters (spec section 9): ChatGPT Exporter
(``## Prompt:``/``## Response:``), pionxzh/chatgpt-exporter (``#### You:``/``#### ChatGPT:``),
convoviz (``# Me``/``# ChatGPT``) and Claude-export renderers
(``### 1. human — <ISO time>``). Labels split turns only outside fenced code."""

from __future__ import annotations

import re

from toolkit.readers._common import Conv, Ctx, iso_to_us
from toolkit.readers.plaintext import fenced

__all__ = ["STYLES", "detect_style", "read_markdown"]

STYLES: dict[str, re.Pattern[str]] = {
    "chatgpt_exporter": re.compile(r"^## (?P<label>Prompt|Response):\s*$"),
    "pionxzh": re.compile(
        r"^#### (?P<label>You|ChatGPT|Assistant|System|Tool|Plugin(?: \([^)]*\))?):\s*$"
    ),
    "claude_markdown": re.compile(
        r"^### \d+\. (?P<label>human|assistant) — (?P<ts>\S+)\s*$"
    ),
    "convoviz": re.compile(r"^#{1,6} (?P<label>Me|ChatGPT|System|Tool output)\s*$"),
}
_ROLE = {
    "Prompt": "user", "Response": "assistant", "You": "user", "ChatGPT": "assistant",
    "Assistant": "assistant", "System": "system", "Tool": "tool", "human": "user",
    "assistant": "assistant", "Me": "user", "Tool output": "tool",
}
_THOUGHT_LINE = re.compile(
    r"^\s*(?:Thought|Reasoned|Thinking|Nachgedacht|Réflexion|Pensé|Pensó|Ragionato)\b"
    r".{0,40}?\b\d+\s*(?:s|sec|secs|seconds|Sekunden|secondes|segundos|secondi|m|min)\s*$"
)
_US_DATE = re.compile(r"^\*\*Created:\*\*\s*(\d{1,2}/\d{1,2}/\d{4}[^\n]*?)\s*$")
_TIME_TAG = re.compile(r'^\s*<time datetime="([^"]+)"[^>]*>.*</time>\s*$')
_FRONT_KEY = re.compile(r"^(create_time|created|date|conversation_id|id|model)\s*:\s*(.*?)\s*$")
_REASONING_WORD = re.compile(r"(?i)\b(?:thought|thinking|reasoning|reasoned)\b")
_FOOTER = re.compile(r"^Powered by \[ChatGPT Exporter\]")


def detect_style(text: str) -> str | None:
    """The exporter style whose label lines appear (both speakers) in ``text``."""
    lines = text.split("\n")
    mask = fenced(lines)
    for name, rx in STYLES.items():
        roles = {
            _ROLE.get(m.group("label"), "tool")
            for line, f in zip(lines, mask, strict=True)
            if not f and (m := rx.match(line))
        }
        if {"user", "assistant"} <= roles:
            return name
    return None


def read_markdown(text: str, ctx: Ctx) -> list[Conv]:
    """One conversation per file, in the style :func:`detect_style` finds."""
    style = detect_style(text)
    if style is None:
        raise ctx.fail("line 1", "exporter Markdown speaker headings (e.g. '## Prompt:')")
    rx = STYLES[style]
    lines = text.split("\n")
    mask = fenced(lines)
    heads = [(i, m) for i, line in enumerate(lines) if not mask[i] and (m := rx.match(line))]
    header = lines[: heads[0][0]]
    cid, start = _header(header, ctx)
    cid = cid or ctx.stem
    conv = Conv(cid, start, branch="main" if ctx.all_branches else None)
    bounds = [h[0] for h in heads[1:]] + [len(lines)]
    for (i, m), end in zip(heads, bounds, strict=True):
        label = m.group("label")
        role = _ROLE.get(label, "tool")
        ts = None
        if style == "claude_markdown":
            ts = iso_to_us(m.group("ts"), ctx, f"line {i + 1}", cid)
        body = lines[i + 1 : end]
        body, ts2 = _clean(body, mask[i + 1 : end], role, style, ctx, cid)
        ts = ts if ts is not None else ts2
        text_ = "\n".join(body).strip("\n").rstrip()
        if role in ("tool", "system"):
            ctx.skip(cid, "tool_message" if role == "tool" else "hidden_scaffolding",
                     f"{label} section")
            if ctx.include_hidden and text_.strip():
                conv.add(role, text_, ts)
            continue
        if text_.strip():
            conv.add(role, text_, ts)
        else:
            ctx.skip(cid, "empty_message", f"empty {label} section")
    return [conv]


def _header(header: list[str], ctx: Ctx) -> tuple[str | None, int | None]:
    cid: str | None = None
    start: int | None = None
    front = header[1:header.index("---", 1)] if header[:1] == ["---"] and "---" in header[1:] else []
    for j, line in enumerate(front):
        m = _FRONT_KEY.match(line)
        if not m:
            continue
        k, v = m.group(1), m.group(2).strip("'\"")
        if k in ("conversation_id", "id") and v:
            cid = v
        elif k in ("create_time", "created", "date") and v:
            try:
                start = iso_to_us(v, ctx, f"line {j + 2}", cid)
            except ValueError:
                ctx.skip(cid, "timestamp_unreadable", f"front matter {k}: {v[:30]}")
    for line in header:
        m = _US_DATE.match(line)
        if m:
            ctx.skip(cid, "timestamp_without_zone", f"local time without zone: {m.group(1)}")
        if line.startswith("**User:**"):
            ctx.skip(cid, "account_details", "exporter header line with the account (not read)")
    return cid, start


def _clean(
    body: list[str], mask: list[bool], role: str, style: str, ctx: Ctx, cid: str
) -> tuple[list[str], int | None]:
    out: list[str] = []
    ts: int | None = None
    in_details = 0
    block: list[str] = []
    in_callout = False
    first_text = True
    for line, f in zip(body, mask, strict=True):
        if not f:
            s = line.strip()
            if in_details or s.startswith("<details"):
                in_details += s.count("<details") - s.count("</details>")
                block.append(s)
                if in_details <= 0:
                    in_details = 0
                    what = "reasoning" if _REASONING_WORD.search(" ".join(block)) else "details_block"
                    ctx.skip(cid, what, "<details> block")
                    block = []
                continue
            if in_callout:
                if s.startswith(">"):
                    continue
                in_callout = False
            if style == "convoviz" and s.startswith("> [!") and _REASONING_WORD.search(s):
                ctx.skip(cid, "reasoning", "reasoning callout")
                in_callout = True
                continue
            tm = _TIME_TAG.match(line)
            if tm and style == "pionxzh":
                try:
                    ts = iso_to_us(tm.group(1), ctx, "time tag", cid)
                except ValueError:
                    ts = None
                continue
            if style == "chatgpt_exporter" and _FOOTER.match(s):
                while out and out[-1].strip() in ("", "---"):
                    out.pop()
                break
            if style == "convoviz" and s == "***":
                continue
            if role == "assistant" and first_text and s and _THOUGHT_LINE.match(s):
                ctx.skip(cid, "reasoning", "'Thought for Ns' line")
                first_text = False
                continue
            if s:
                first_text = False
        out.append(line)
    if style == "chatgpt_exporter":
        while out and out[-1].strip() in ("", "---"):
            out.pop()
    return out, ts
