"""Labelled plain-text transcripts: ``User:``/``Assistant:``, ``Human:``/``AI:``,
``You said:``/``ChatGPT said:`` and similar labels at the start of a line."""

from __future__ import annotations

import re

from toolkit.readers._common import Conv, Ctx

__all__ = ["fenced", "label_scheme", "read_plaintext"]

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
LABEL = re.compile(
    r"^(?P<label>You said|ChatGPT said|Claude said|Gemini said|User|Assistant|Human|AI"
    r"|ChatGPT|Claude|Gemini|You|System)[ \t]*:(?:[ \t]+|$)(?P<rest>.*)$"
)
_ROLE = {
    "You said": "user", "User": "user", "Human": "user", "You": "user",
    "ChatGPT said": "assistant", "Claude said": "assistant", "Gemini said": "assistant",
    "Assistant": "assistant", "AI": "assistant", "ChatGPT": "assistant",
    "Claude": "assistant", "Gemini": "assistant", "System": "system",
}


def fenced(lines: list[str]) -> list[bool]:
    """For each line, whether it is inside (or delimits) a fenced code block."""
    out: list[bool] = []
    fence: str | None = None
    for line in lines:
        m = _FENCE.match(line)
        if fence is None:
            if m:
                fence = m.group(1)
                out.append(True)
            else:
                out.append(False)
        else:
            out.append(True)
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) \
                    and not line.strip()[len(m.group(1)):].strip():
                fence = None
    return out


def label_scheme(lines: list[str]) -> list[tuple[int, str, str]] | None:
    """The label lines that split turns, as ``(line index, role, rest of line)``.

    Only the first user-side and the first assistant-side label of the file (plus
    ``System``) split turns, never inside a fenced block; when most labels follow a
    blank line, a label not after a blank line is quoted text inside a turn.
    Returns None when the text has no user and assistant label.

    Examples
    --------
    >>> label_scheme(["User: hi", "Human: quoted", "Assistant: ok"])
    [(0, 'user', 'hi'), (2, 'assistant', 'ok')]
    """
    in_fence = fenced(lines)
    cands: list[tuple[int, str, str, bool]] = []
    for i, line in enumerate(lines):
        if in_fence[i] or not line[:1].isalpha():
            continue
        m = LABEL.match(line)
        if m:
            blank = i == 0 or not lines[i - 1].strip()
            cands.append((i, m.group("label"), m.group("rest"), blank))
    user = next((c[1] for c in cands if _ROLE[c[1]] == "user"), None)
    bot = next((c[1] for c in cands if _ROLE[c[1]] == "assistant"), None)
    if user is None or bot is None:
        return None
    keep = [c for c in cands if c[1] in (user, bot, "System")]
    later = keep[1:]
    if later and sum(c[3] for c in later) * 3 >= 2 * len(later):
        keep = keep[:1] + [c for c in later if c[3]]
    return [(i, _ROLE[lab], rest) for i, lab, rest, _ in keep]


def read_plaintext(text: str, ctx: Ctx) -> list[Conv]:
    """One conversation per file; no timestamps (plain text carries none)."""
    lines = text.split("\n")
    scheme = label_scheme(lines)
    if scheme is None:
        raise ctx.fail("line 1", "speaker labels such as 'User:' and 'Assistant:' at line starts")
    cid = ctx.stem
    if any(s.strip() for s in lines[: scheme[0][0]]):
        ctx.skip(cid, "preamble", "text before the first speaker label")
    conv = Conv(cid, branch="main" if ctx.all_branches else None)
    bounds = [s[0] for s in scheme[1:]] + [len(lines)]
    for (i, role, rest), end in zip(scheme, bounds, strict=True):
        body = "\n".join([rest, *lines[i + 1 : end]]).strip("\n").rstrip()
        if body.strip():
            conv.add(role, body.lstrip(" "), None)
        else:
            ctx.skip(cid, "empty_message", f"empty {role} turn")
    return [conv]
