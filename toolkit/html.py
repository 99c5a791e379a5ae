"""Self-contained HTML pages: tables, Altair charts rendered offline, escaped text.

The page carries the Vega, Vega-Lite and Vega-Embed JavaScript inline once (from
``vl-convert-python``), so charts render with no network at viewing time.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import altair as alt
import polars as pl

__all__ = ["Page", "chart_html", "table_html"]


@lru_cache(maxsize=1)
def _vega_bundle() -> str:
    import vl_convert as vlc
    from altair.utils._importers import vl_version_for_vl_convert

    bundle: str = vlc.javascript_bundle(  # type: ignore[call-arg]
        vl_version=vl_version_for_vl_convert())
    # a literal "</script" inside the bundle would end the inline script early
    return bundle.replace("</script", "<\\/script")


def _cell(value: Any, precision: int) -> str:
    if value is None:
        return '<td class="null">–</td>'
    if isinstance(value, float):
        if math.isnan(value):
            return '<td class="num null">NaN</td>'
        return f'<td class="num">{value:.{precision}g}</td>'
    if isinstance(value, bool):
        return f"<td>{value}</td>"
    if isinstance(value, int):
        return f'<td class="num">{value:,}</td>'
    if isinstance(value, dt.datetime):
        return f"<td>{html.escape(value.isoformat(sep=' ', timespec='minutes'))}</td>"
    return f"<td>{html.escape(str(value))}</td>"


def table_html(
    df: pl.DataFrame, *, max_rows: int = 200, precision: int = 3, caption: str = ""
) -> str:
    """Render a polars frame as an escaped HTML table.

    Parameters
    ----------
    df
        The frame to show; nested values are shown as text.
    max_rows
        Rows beyond this are cut, and the cut is said in the caption.
    precision
        Significant digits for floats.
    caption
        Text above the table (escaped).

    Returns
    -------
    str
        An HTML ``<table>`` fragment.

    Examples
    --------
    >>> import polars as pl
    >>> print(table_html(pl.DataFrame({"a": ["<b>"]})))
    <table class="frame"><thead><tr><th>a</th></tr></thead><tbody><tr><td>&lt;b&gt;</td></tr></tbody></table>
    """
    shown = df.head(max_rows)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in shown.columns)
    body = "".join(
        "<tr>" + "".join(_cell(v, precision) for v in row) + "</tr>"
        for row in shown.iter_rows()
    )
    cap = caption
    if df.height > max_rows:
        cap = f"{cap} (first {max_rows:,} of {df.height:,} rows)".strip()
    cap_html = f"<caption>{html.escape(cap)}</caption>" if cap else ""
    return (
        f'<table class="frame">{cap_html}<thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def chart_html(chart: alt.TopLevelMixin, div_id: str) -> str:
    """A ``<div>`` plus the script that draws ``chart`` into it with Vega-Embed (SVG).

    The page must carry the Vega bundle (see :class:`Page`).

    Examples
    --------
    >>> import altair as alt
    >>> c = alt.Chart(alt.Data(values=[{"x": 1}])).mark_point().encode(x="x:Q")
    >>> '<div class="chart" id="c1">' in chart_html(c, "c1")
    True
    """
    spec = json.dumps(chart.to_dict(), sort_keys=True).replace("</", "<\\/")
    safe_id = html.escape(div_id, quote=True)
    return (
        f'<div class="chart" id="{safe_id}"></div>\n<script type="text/javascript">'
        f'vegaEmbed("#{safe_id}", {spec}, {{"renderer": "svg", "actions": false}})'
        f'.catch(function (e) {{ document.getElementById("{safe_id}").textContent = '
        f'"chart failed: " + e; }});</script>'
    )


_CSS = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1100px;
       padding: 1rem 2rem 4rem; color: #1d1d1f; }
h1 { font-size: 1.6rem; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2rem;
     margin-top: 2.4rem; }
table.frame { border-collapse: collapse; margin: .6rem 0 1rem; font-size: 13px; }
table.frame th, table.frame td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; }
table.frame th { background: #f4f4f6; }
table.frame td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.frame td.null { color: #999; }
table.frame caption { caption-side: top; text-align: left; color: #555; padding: 2px 0; }
.note { color: #444; background: #f7f7f2; border-left: 4px solid #c8b560;
        padding: .5rem .8rem; }
.chart { margin: .8rem 0 1.4rem; }
nav ol { columns: 2; }
"""


@dataclass
class Page:
    """An HTML report assembled section by section.

    Examples
    --------
    >>> p = Page("Report")
    >>> p.section("Counts", "<p>none</p>")
    >>> "<h2 id=\\"s1\\">Counts</h2>" in p.render(include_vega=False)
    True
    """

    title: str
    sections: list[tuple[str, str]] = field(default_factory=list)
    _charts: int = 0

    def section(self, heading: str, body: str) -> None:
        """Add a section with a heading (escaped) and an HTML body (trusted)."""
        self.sections.append((heading, body))

    def chart(self, chart: alt.TopLevelMixin) -> str:
        """HTML for a chart with a page-unique container id."""
        self._charts += 1
        return chart_html(chart, f"chart-{self._charts}")

    def render(self, *, include_vega: bool = True, preface: Sequence[str] = ()) -> str:
        """The whole page as one string."""
        vega = (
            f'<script type="text/javascript">{_vega_bundle()}</script>'
            if include_vega
            else ""
        )
        toc = "".join(
            f'<li><a href="#s{i}">{html.escape(h)}</a></li>'
            for i, (h, _) in enumerate(self.sections, 1)
        )
        body = "\n".join(
            f'<section><h2 id="s{i}">{html.escape(h)}</h2>\n{b}</section>'
            for i, (h, b) in enumerate(self.sections, 1)
        )
        pre = "\n".join(preface)
        return (
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(self.title)}</title><style>{_CSS}</style>{vega}"
            f"</head><body><h1>{html.escape(self.title)}</h1>{pre}"
            f"<nav><ol>{toc}</ol></nav>\n{body}\n</body></html>\n"
        )
