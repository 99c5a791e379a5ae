"""Real-browser checks: charts in our HTML pages draw offline in headless Chromium.

Skips cleanly where Debian's chromium is not installed.
"""

from pathlib import Path

import altair as alt
import pytest

from toolkit.browser import chromium_path, rendered_charts
from toolkit.html import Page

pytestmark = pytest.mark.skipif(chromium_path() is None, reason="chromium not installed")


def _chart() -> alt.Chart:
    data = alt.Data(values=[{"x": i, "y": i * i} for i in range(5)])
    return alt.Chart(data).mark_line().encode(x="x:Q", y="y:Q")


def _write(tmp_path: Path, page: Page, *, include_vega: bool = True) -> Path:
    path = tmp_path / "page.html"
    path.write_text(page.render(include_vega=include_vega), encoding="utf-8")
    return path


def test_charts_render_offline(tmp_path: Path) -> None:
    page = Page("t")
    page.section("a", page.chart(_chart()))
    page.section("b", page.chart(_chart().mark_point()))
    result = rendered_charts(_write(tmp_path, page))
    assert result["chart"].to_list() == ["chart-1", "chart-2"]
    assert result["rendered"].all()


def test_missing_bundle_is_detected(tmp_path: Path) -> None:
    # without the inline Vega bundle (and no network) nothing can draw: the check
    # must say so rather than pass
    page = Page("t")
    page.section("a", page.chart(_chart()))
    result = rendered_charts(_write(tmp_path, page, include_vega=False))
    assert result.height == 1
    assert not result["rendered"].any()


def test_broken_spec_is_detected(tmp_path: Path) -> None:
    page = Page("t")
    page.section(
        "a",
        '<div class="chart" id="bad"></div><script>vegaEmbed("#bad", '
        '{"mark": 12}).catch(function (e) {});</script>',
    )
    result = rendered_charts(_write(tmp_path, page))
    assert result.to_dicts() == [{"chart": "bad", "rendered": False}]
