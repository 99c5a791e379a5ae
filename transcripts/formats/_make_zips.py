"""Build the small binary fixtures of this folder (run from anywhere; output is
deterministic): chatgpt_export.zip, claude_export.zip, inspect_log.eval and
hh_rlhf.jsonl.gz. All content is synthetic and written for the tests."""

from __future__ import annotations

import gzip
import json
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
STAMP = (2024, 1, 1, 0, 0, 0)


def _zip(path: Path, members: dict[str, str]) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, text in members.items():
            info = zipfile.ZipInfo(name, date_time=STAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text)


def _node(nid: str, parent: str | None, kids: list[str], msg: dict | None) -> dict:
    return {"id": nid, "parent": parent, "children": kids, "message": msg}


def _msg(nid: str, role: str, text: str, t: float, slug: str | None = None) -> dict:
    meta = {"model_slug": slug} if slug else {}
    return {"id": nid, "author": {"role": role, "name": None, "metadata": {}},
            "create_time": t, "content": {"content_type": "text", "parts": [text]},
            "status": "finished_successfully", "weight": 1.0, "recipient": "all",
            "metadata": meta}


def chatgpt_zip() -> None:
    conv = [{
        "id": "zip-conv", "conversation_id": "zip-conv", "title": "Zipped",
        "create_time": 1705000000.0, "current_node": "b",
        "mapping": {
            "client-created-root": _node("client-created-root", None, ["a"], None),
            "a": _node("a", "client-created-root", ["b"], _msg("a", "user", "Is this zipped?", 1705000001.0)),
            "b": _node("b", "a", [], _msg("b", "assistant", "Yes, it came from a zip.", 1705000002.0, "gpt-4o")),
        },
    }]
    _zip(HERE / "chatgpt_export.zip", {
        "conversations.json": json.dumps(conv),
        "chat.html": "<html><title>ChatGPT Data Export</title><script>var jsonData = [];</script></html>",
        # account file: deliberately not JSON, so opening it would fail loudly
        "user.json": "{this is not json and must never be opened",
        "message_feedback.json": "[]",
        "shared_conversations.json": "[]",
    })


def claude_zip() -> None:
    conv = [{
        "uuid": "zip-claude", "name": "Zipped", "summary": "",
        "created_at": "2025-02-02T12:00:00Z", "updated_at": "2025-02-02T12:01:00Z",
        "chat_messages": [
            {"uuid": "z1", "sender": "human", "text": "Hello from a zip",
             "content": [{"type": "text", "text": "Hello from a zip"}],
             "created_at": "2025-02-02T12:00:01Z"},
            {"uuid": "z2", "sender": "assistant", "text": "Hello back",
             "content": [{"type": "text", "text": "Hello back"}],
             "created_at": "2025-02-02T12:00:02Z"},
        ],
    }]
    _zip(HERE / "claude_export.zip", {
        "conversations.json": json.dumps(conv),
        "users.json": "[{not json: never opened",
        "projects.json": "[]",
        "memories.json": "[]",
    })


def inspect_eval() -> None:
    log = json.loads((HERE / "inspect_log.json").read_text(encoding="utf-8"))
    samples = log.pop("samples")
    members = {"header.json": json.dumps(log)}
    for s in samples:
        members[f"samples/{s['id']}_epoch_{s['epoch']}.json"] = json.dumps(s)
    members["summaries.json"] = "[]"
    members["reductions.json"] = "[]"
    members["_journal/start.json"] = json.dumps({"version": 2})
    _zip(HERE / "inspect_log.eval", members)


def hh_gz() -> None:
    raw = (HERE / "hh_rlhf.jsonl").read_bytes()
    (HERE / "hh_rlhf.jsonl.gz").write_bytes(gzip.compress(raw, mtime=0))


if __name__ == "__main__":
    chatgpt_zip()
    claude_zip()
    inspect_eval()
    hh_gz()
