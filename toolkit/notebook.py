"""Helpers that keep notebooks thin: display settings and bundled sample paths."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import altair as alt
import polars as pl

__all__ = ["inline_renderer", "sample_path", "setup"]

_PACKAGE = Path(__file__).resolve().parent
_INLINE_STATE = {"bundle_sent": False, "charts": 0}


def inline_renderer(spec: dict[str, Any], **_: Any) -> dict[str, str]:
    """Altair renderer that draws charts with no network.

    The first chart of a kernel session carries the Vega/Vega-Lite/Vega-Embed bundle
    inline (about 0.9 MB); later charts reuse it. Used when notebooks are exported to
    HTML for a report (``TOOLKIT_CHARTS=inline``); interactive sessions keep Altair's
    default renderer so saved notebooks stay small.
    """
    from toolkit.html import _vega_bundle

    _INLINE_STATE["charts"] += 1
    div = f"tk-chart-{_INLINE_STATE['charts']}"
    head = ""
    if not _INLINE_STATE["bundle_sent"]:
        head = f'<script type="text/javascript">{_vega_bundle()}</script>'
        _INLINE_STATE["bundle_sent"] = True
    body = json.dumps(spec, sort_keys=True).replace("</", "<\\/")
    html = (
        f'{head}<div class="chart" id="{div}"></div><script type="text/javascript">'
        f'vegaEmbed("#{div}", {body}, {{"renderer": "svg", "actions": false}});</script>'
    )
    return {"text/html": html}


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
    if os.environ.get("TOOLKIT_CHARTS") == "inline":
        alt.renderers.register("toolkit-inline", inline_renderer)
        alt.renderers.enable("toolkit-inline")


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
