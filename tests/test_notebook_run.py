"""Notebook helpers: the offline chart renderer and the headless notebook run."""

import json
import os
from pathlib import Path

import altair as alt
import polars as pl
import pytest

from toolkit import notebook
from toolkit.browser import chromium_path, rendered_charts
from toolkit.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_inline_renderer_sends_the_bundle_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(notebook._INLINE_STATE, "bundle_sent", False)
    monkeypatch.setitem(notebook._INLINE_STATE, "charts", 0)
    spec = {"mark": "point", "data": {"values": [{"t": "</script><b>"}]}}
    first = notebook.inline_renderer(spec)["text/html"]
    second = notebook.inline_renderer(spec)["text/html"]
    assert "vegaEmbed" in first and len(first) > 100_000  # carries the Vega bundle
    assert len(second) < 2_000  # reuses it
    assert 'id="tk-chart-1"' in first and 'id="tk-chart-2"' in second
    # data cannot close the script element early
    assert "</script><b>" not in second
    payload = second.split('vegaEmbed("#tk-chart-2", ', 1)[1].rsplit(", {", 1)[0]
    assert json.loads(payload.replace("<\\/", "</")) == spec


def test_setup_enables_the_inline_renderer_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    before = alt.renderers.active
    try:
        with pl.Config():  # setup() changes global display options; restore them
            monkeypatch.delenv("TOOLKIT_CHARTS", raising=False)
            notebook.setup()
            assert alt.renderers.active == before
            monkeypatch.setenv("TOOLKIT_CHARTS", "inline")
            notebook.setup()
            assert alt.renderers.active == "toolkit-inline"
    finally:
        alt.renderers.enable(before)


def test_notebooks_command_runs_one_notebook_on_given_transcripts(tmp_path: Path) -> None:
    plain = ROOT / "transcripts" / "ember-plain.txt"
    code = main(
        ["notebooks", "--transcripts", str(plain), "--out", str(tmp_path), "--only", "02_tags"]
    )
    assert code == 0
    assert "TOOLKIT_CHARTS" not in os.environ  # the kernel's setting does not leak
    assert sorted(p.name for p in tmp_path.iterdir()) == ["02_tags.html", "02_tags.ipynb"]
    executed = (tmp_path / "02_tags.ipynb").read_text(encoding="utf-8")
    assert str(plain.resolve()) in executed  # the parameter was injected
    if chromium_path() is not None:  # its charts draw offline in the exported page
        charts = rendered_charts(tmp_path / "02_tags.html")
        assert charts.height == 2 and charts["rendered"].all()
