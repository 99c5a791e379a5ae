"""Command line: ``python -m toolkit report PATH --out DIR [--persona NAME] [--redact]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m toolkit",
        description="Measure whether corrected assistant slips recur less often.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser(
        "report",
        help="read an export, tag, pair, estimate, and write a self-contained HTML report",
    )
    rep.add_argument("path", type=Path, nargs="+", help="export file(s), folder or .zip")
    rep.add_argument("--out", type=Path, default=Path("reports"), help="output folder")
    rep.add_argument(
        "--persona", action="append", default=[], help="the assistant's given name"
    )
    rep.add_argument(
        "--redact",
        action="store_true",
        help="replace emails, phone numbers, URLs and the names given with placeholders",
    )
    rep.add_argument(
        "--redact-name",
        action="append",
        default=[],
        help="a further name to replace by [NAME] with --redact (repeatable)",
    )
    rep.add_argument("--format", default="auto", help="force a reader (see formats)")
    rep.add_argument("--seed", type=int, default=0)
    rep.add_argument("--permutations", type=int, default=2000)
    rep.add_argument("--quiet", action="store_true", help="no progress lines")
    nbs = sub.add_parser(
        "notebooks", help="run the notebooks headless on a transcript and export them to HTML"
    )
    nbs.add_argument("--transcripts", type=Path, default=None)
    nbs.add_argument("--persona", action="append", default=[])
    nbs.add_argument("--out", type=Path, default=Path("reports/notebooks"))
    nbs.add_argument("--only", action="append", default=[], help="notebook stem to run")
    sub.add_parser("formats", help="list the supported export formats")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = _parser().parse_args(argv)
    if args.command == "formats":
        from toolkit.read import formats

        print("\n".join(formats()))
        return 0
    if args.command == "notebooks":
        from toolkit.run_notebooks import run_notebooks

        pages = run_notebooks(
            out=args.out,
            transcripts=args.transcripts,
            persona=args.persona or None,
            names=args.only or None,
        )
        print(f"{len(pages)} notebooks written to {args.out}")
        return 0
    from toolkit.report import build_report

    try:
        path = build_report(
            args.path,
            out=args.out,
            persona=args.persona or None,
            redact=args.redact,
            redact_names=args.redact_name,
            format=args.format,
            seed=args.seed,
            n_permutations=args.permutations,
            progress=not args.quiet,
        )
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"report written to {path}")
    return 0
