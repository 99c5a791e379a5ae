"""Check in a real headless browser that a report's charts rendered.

Uses Debian's ``chromium`` (``--dump-dom`` after a virtual-time budget); nothing is
fetched from the network.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import polars as pl

__all__ = ["chromium_path", "rendered_charts", "screenshot"]

_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
)


def chromium_path() -> str | None:
    """The Chromium executable, or None when it is not installed."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _run(args: list[str], *, timeout: float) -> subprocess.CompletedProcess[str]:
    exe = chromium_path()
    if exe is None:
        raise FileNotFoundError("chromium is not installed (Debian package 'chromium')")
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [exe, *_FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={**os.environ, "HOME": profile},
        )


def rendered_charts(
    html_path: str | os.PathLike[str], *, budget_ms: int = 15000, timeout: float = 120
) -> pl.DataFrame:
    """Open a report in headless Chromium and say, per chart container, if it drew.

    Parameters
    ----------
    html_path
        A report written by :func:`toolkit.report.build_report`.
    budget_ms
        Virtual time given to the page's scripts before the DOM is read.
    timeout
        Seconds before the browser is given up on.

    Returns
    -------
    polars.DataFrame
        One row per ``div.chart``: ``chart`` (its id) and ``rendered`` (an ``<svg>`` or
        ``<canvas>`` is inside it).
    """
    url = Path(html_path).resolve().as_uri()
    done = _run([f"--virtual-time-budget={budget_ms}", "--dump-dom", url], timeout=timeout)
    dom = done.stdout
    rows = [
        (m.group(1), ("<svg" in m.group(2)) or ("<canvas" in m.group(2)))
        for m in re.finditer(
            r'<div class="chart[^"]*" id="([^"]+)"[^>]*>(.*?)(?=<div class="chart|</section>|\Z)',
            dom,
            re.S,
        )
    ]
    return pl.DataFrame(rows, schema={"chart": pl.String, "rendered": pl.Boolean}, orient="row")


def screenshot(
    html_path: str | os.PathLike[str],
    png_path: str | os.PathLike[str],
    *,
    width: int = 1200,
    height: int = 3000,
    budget_ms: int = 15000,
) -> Path:
    """Save a PNG screenshot of a report page (for a person to look at)."""
    out = Path(png_path).resolve()
    url = Path(html_path).resolve().as_uri()
    _run(
        [
            f"--virtual-time-budget={budget_ms}",
            f"--window-size={width},{height}",
            f"--screenshot={out}",
            url,
        ],
        timeout=120,
    )
    if not out.exists():
        raise RuntimeError(f"chromium wrote no screenshot for {html_path}")
    return out
