"""End-to-end: the report on a small hand-written transcript, redaction, escaping, CLI."""

from pathlib import Path

import polars as pl
import pytest

from toolkit.browser import chromium_path, rendered_charts
from toolkit.cli import main
from toolkit.report import build_report
from toolkit.verdicts import verdicts

TRANSCRIPT = """User: Hi Wren, I'm Ann (ann.lee@example.org, +44 20 7946 0958). Can you check https://ann.example.org/notes?
Assistant: As an AI language model, I can't browse. I hope this helps!
User: You're doing the "as an AI" thing again. Drop it.
Assistant: You're right, I slipped into the generic voice. I can't open links, but paste the notes and I'll read them.
User: <script>alert("x")</script> here they are.
Assistant: It's important to note that I might be wrong, but the notes look fine.
User: Stop hedging.
Assistant: Fair. The notes are fine.
"""


@pytest.fixture
def transcript(tmp_path: Path) -> Path:
    path = tmp_path / "chat.txt"
    path.write_text(TRANSCRIPT, encoding="utf-8")
    return path


def test_report_writes_page_and_tables(transcript: Path, tmp_path: Path) -> None:
    out = build_report(
        transcript, out=tmp_path / "r", persona="Wren", n_permutations=50, progress=False
    )
    html = out.read_text(encoding="utf-8")
    assert out.name == "report.html"
    for heading in ("Corpus", "Tags", "Corrections and the next reply", "Transcript"):
        assert f">{heading}</h2>" in html
    # the transcript's own markup is shown as text, never run
    assert '<script>alert("x")</script>' not in html
    assert "&lt;script&gt;alert" in html
    tables = {p.stem for p in (tmp_path / "r" / "tables").glob("*.csv")}
    assert {"corpus", "pairs", "recurrence", "verdicts"} <= tables
    corpus = pl.read_csv(tmp_path / "r" / "tables" / "corpus.csv")
    assert corpus["turns"].to_list() == [8]


def test_report_redacts_displayed_text(transcript: Path, tmp_path: Path) -> None:
    plain = build_report(transcript, out=tmp_path / "a", n_permutations=20, progress=False)
    assert "ann.lee@example.org" in plain.read_text(encoding="utf-8")
    red = build_report(
        transcript,
        out=tmp_path / "b",
        persona="Wren",
        redact=True,
        redact_names=["Ann"],
        n_permutations=20,
        progress=False,
    ).read_text(encoding="utf-8")
    for secret in ("ann.lee@example.org", "7946 0958", "ann.example.org/notes", "Ann "):
        assert secret not in red
    assert "[EMAIL]" in red and "[NAME]" in red
    assert "Wren" in red  # the persona is never redacted


def test_cli_reports_bad_input_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "conversations.json"
    bad.write_text('[{"mapping": {', encoding="utf-8")
    code = main(["report", str(bad), "--out", str(tmp_path / "o"), "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert "conversations.json" in err and "Traceback" not in err


def test_cli_writes_report(transcript: Path, tmp_path: Path) -> None:
    code = main(["report", str(transcript), "--out", str(tmp_path / "o"), "--quiet", "--permutations", "20"])
    assert code == 0
    assert (tmp_path / "o" / "report.html").exists()


@pytest.mark.skipif(chromium_path() is None, reason="chromium not installed")
def test_report_charts_render_in_browser(transcript: Path, tmp_path: Path) -> None:
    out = build_report(transcript, out=tmp_path / "r", n_permutations=20, progress=False)
    charts = rendered_charts(out)
    assert charts.height >= 3
    assert charts["rendered"].all(), charts


def _result(rows: list[tuple[str, str, float, float, float, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema=["category", "estimator", "rate_ratio", "ci_low", "ci_high", "p_holm"],
        orient="row",
    ).with_columns(pl.lit(10).alias("n_corrections"), pl.lit(None, pl.String).alias("note"))


def test_verdicts_follow_the_matched_estimator() -> None:
    nan = float("nan")
    result = _result(
        [
            ("hedge", "naive_pre_post", 0.4, 0.3, 0.5, 0.001),  # naive says fewer...
            ("hedge", "matched", 0.95, 0.7, 1.3, 0.6),  # ...matched does not
            ("hedge", "placebo", 1.0, 0.8, 1.25, 0.9),
            ("boilerplate", "matched", 0.5, 0.35, 0.7, 0.002),
            ("boilerplate", "placebo", 1.05, 0.85, 1.3, 0.7),
            ("refusal", "matched", nan, nan, nan, nan),
            ("sycophancy", "matched", 1.8, 1.2, 2.7, 0.01),
            ("disclaimer", "matched", 0.6, 0.4, 0.9, 0.01),
            ("disclaimer", "placebo", 0.6, 0.45, 0.8, 0.01),
        ]
    )
    v = dict(verdicts(result).select("category", "verdict").iter_rows())
    assert v == {
        "hedge": "no evidence",
        "boilerplate": "fewer",
        "refusal": "not estimable",
        "sycophancy": "more",
        "disclaimer": "fewer",
    }
    caution = verdicts(result).filter(pl.col("category") == "disclaimer")["sentence"][0]
    assert "placebo" in caution
