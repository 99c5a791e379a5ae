"""Run the project's notebooks headless on a transcript and export them to HTML.

Used by ``make report`` (``python -m toolkit notebooks``). Each notebook's
``parameters`` cell is overridden with the transcript path and persona; charts are
drawn by the inline Vega bundle (``TOOLKIT_CHARTS=inline``), so the exported pages
render with no network.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["notebook_dir", "run_notebooks"]


def notebook_dir() -> Path:
    """The ``notebooks/`` folder of this checkout."""
    path = Path(__file__).resolve().parent.parent / "notebooks"
    if not path.is_dir():
        raise FileNotFoundError(
            "the notebooks/ folder is not here (it ships with the source checkout, "
            "not with an installed wheel)"
        )
    return path


def run_notebooks(
    *,
    out: str | os.PathLike[str],
    transcripts: str | os.PathLike[str] | None = None,
    persona: Sequence[str] | None = None,
    names: Sequence[str] | None = None,
    timeout: int = 1200,
    progress: bool = True,
) -> list[Path]:
    """Execute notebooks with papermill and write ``<name>.ipynb`` and ``<name>.html``.

    Parameters
    ----------
    out
        Output folder.
    transcripts
        Passed as the notebooks' ``TRANSCRIPTS`` parameter (None: the bundled sample).
    persona
        Passed as ``PERSONA`` where a notebook declares it.
    names
        Notebook stems to run (default: all, in order).
    timeout
        Seconds one cell may take.
    progress
        Print one line per notebook to stderr.

    Returns
    -------
    list of pathlib.Path
        The HTML files written.
    """
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    books = sorted(notebook_dir().glob("[0-9][0-9]_*.ipynb"))
    if names:
        books = [b for b in books if b.stem in set(names)]
    written: list[Path] = []
    t0 = time.perf_counter()
    previous = os.environ.get("TOOLKIT_CHARTS")
    os.environ["TOOLKIT_CHARTS"] = "inline"  # read by the kernels papermill starts
    try:
        for i, book in enumerate(books, 1):
            written.append(_run_one(book, i, len(books), out_dir, transcripts, persona,
                                    timeout, progress, t0))
    finally:
        if previous is None:
            os.environ.pop("TOOLKIT_CHARTS", None)
        else:
            os.environ["TOOLKIT_CHARTS"] = previous
    return written


def _run_one(
    book: Path,
    i: int,
    n: int,
    out_dir: Path,
    transcripts: str | os.PathLike[str] | None,
    persona: Sequence[str] | None,
    timeout: int,
    progress: bool,
    t0: float,
) -> Path:
    import nbformat
    import papermill as pm
    from nbconvert import HTMLExporter

    declared = pm.inspect_notebook(str(book))
    params: dict[str, Any] = {}
    if transcripts is not None and "TRANSCRIPTS" in declared:
        params["TRANSCRIPTS"] = str(Path(transcripts).resolve())
    if persona and "PERSONA" in declared:
        params["PERSONA"] = list(persona)
    if progress:
        took = time.perf_counter() - t0
        print(f"[notebook {i}/{n}] {book.name} ({took:.0f} s)", file=sys.stderr, flush=True)
    target = out_dir / book.name
    pm.execute_notebook(
        str(book),
        str(target),
        parameters=params,
        cwd=str(book.parent),
        execution_timeout=timeout,
        progress_bar=False,
        kernel_name="python3",
    )
    nb = nbformat.read(target, as_version=4)
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    page = out_dir / f"{book.stem}.html"
    page.write_text(body, encoding="utf-8")
    return page
