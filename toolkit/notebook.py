"""Helpers that keep notebooks thin: display settings and bundled sample paths."""

from __future__ import annotations

from pathlib import Path

import polars as pl

__all__ = ["sample_path", "setup"]

_PACKAGE = Path(__file__).resolve().parent


def setup(*, float_precision: int = 4, rows: int = 20) -> None:
    """Make notebook output stable: fixed float precision and table size.

    Parameters
    ----------
    float_precision
        Digits after the decimal point when frames print.
    rows
        How many rows a printed frame shows.

    Examples
    --------
    >>> import toolkit as tk
    >>> tk.notebook.setup()
    """
    pl.Config.set_float_precision(float_precision)
    pl.Config.set_tbl_rows(rows)
    pl.Config.set_tbl_cols(12)
    pl.Config.set_fmt_str_lengths(80)
    pl.Config.set_tbl_hide_dataframe_shape(False)


def sample_path(name: str = "") -> Path:
    """Path of a bundled sample transcript (``""`` for the folder itself).

    The samples live in ``transcripts/`` beside the package in a checkout, or in
    ``toolkit/_sample`` in an installed wheel.

    Parameters
    ----------
    name
        A path relative to ``transcripts/``, e.g. ``"ember/conversations.json"``.

    Returns
    -------
    pathlib.Path
        The absolute path.

    Raises
    ------
    FileNotFoundError
        If no bundled sample of that name exists.

    Examples
    --------
    >>> from toolkit.notebook import sample_path
    >>> sample_path().name in {"transcripts", "_sample"}
    True
    """
    for root in (_PACKAGE.parent / "transcripts", _PACKAGE / "_sample"):
        if root.is_dir():
            path = root / name
            if path.exists():
                return path
            raise FileNotFoundError(f"no bundled sample named {name!r} in {root}")
    raise FileNotFoundError("the bundled transcripts/ folder is not installed")
