"""OpenAssistant message trees: ``{"message_tree_id", "prompt": {..., "replies": [...]}}``
(or bare root messages with nested ``replies``), one tree per JSONL line."""

from __future__ import annotations

from typing import Any

from toolkit.readers._common import Conv, Ctx, Row, key, role_of
from toolkit.readers.sharegpt import records

__all__ = ["read_oasst"]


def read_oasst(data: Any, ctx: Ctx) -> list[Conv]:
    """Active branch: from the root follow the best-ranked reply (``rank`` 0; unranked
    siblings: the first in file order) to a leaf. ``branch="all"``: every root-to-leaf
    path, named by its leaf ``message_id``."""
    out: list[Conv] = []
    for i, r in enumerate(records(data, ctx)):
        rp = ctx.rec_path(i)
        r = ctx.obj(r, rp)
        if "prompt" in r and isinstance(r.get("prompt"), dict):
            root, root_path = r["prompt"], key(rp, "prompt")
        else:
            root, root_path = r, rp
        cid = ctx.opt_id(r, "message_tree_id", rp) or ctx.opt_id(root, "message_id", root_path)
        cid = cid or ctx.derived_id(i)
        # flatten the tree iteratively: node -> (row, children, rank)
        rows: dict[str, Row | None] = {}
        kids: dict[str, list[str]] = {}
        ranks: dict[str, float] = {}
        names: dict[str, str] = {}
        stack: list[tuple[object, str, str]] = [(root, root_path, "0")]
        while stack:
            node, np, nid = stack.pop()
            node = ctx.obj(node, np)
            role = role_of(node.get("role"), ctx, key(np, "role"))
            text = ctx.text_of(node, "text", np)
            names[nid] = ctx.opt_id(node, "message_id", np) or nid
            ts = ctx.ts_iso(node.get("created_date"), key(np, "created_date"), cid)
            rank = node.get("rank")
            ranks[nid] = float(rank) if isinstance(rank, int | float) and not isinstance(rank, bool) else float("inf")
            if node.get("deleted") is True:
                ctx.skip(cid, "deleted_message", "message marked deleted (subtree dropped)")
                rows[nid] = None
                kids[nid] = []
                continue
            rows[nid] = (role, text, ts, None) if text.strip() else None
            if rows[nid] is None:
                ctx.skip(cid, "empty_message", f"{role} message without text")
            rp2 = key(np, "replies")
            replies = ctx.arr(node.get("replies") or [], rp2)
            kids[nid] = [f"{nid}.{j}" for j in range(len(replies))]
            for j in reversed(range(len(replies))):
                stack.append((replies[j], key(rp2, j), f"{nid}.{j}"))
        if not ctx.all_branches:
            path = ["0"]
            while kids[path[-1]]:
                # min over (rank, file order): rank 0 first, unranked in file order
                path.append(min(kids[path[-1]], key=lambda k: (ranks[k], int(k.rsplit(".", 1)[1]))))
            conv = Conv(cid)
            for nid in path:
                row = rows[nid]
                if row is not None:
                    conv.rows.append(row)
            ctx.skip(cid, "inactive_branch", "lower-ranked reply subtree", len(rows) - len(path))
            out.append(conv)
            continue
        # the active branch is the one the ranked walk picks
        best = "0"
        while kids[best]:
            best = min(kids[best], key=lambda k: (ranks[k], int(k.rsplit(".", 1)[1])))
        stack2 = [["0"]]
        while stack2:
            p = stack2.pop()
            if not kids[p[-1]]:
                conv = Conv(cid, branch=names[p[-1]], active=p[-1] == best)
                conv.rows.extend(row for n in p if (row := rows[n]) is not None)
                out.append(conv)
                continue
            for k in reversed(kids[p[-1]]):
                stack2.append([*p, k])
    return out
