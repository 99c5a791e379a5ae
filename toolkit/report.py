"""The main job: read an export, tag, pair, estimate, and write one HTML report.

``build_report`` calls the same public functions a notebook calls, in the order of the
notebooks (corpus, tags, corrections, recurrence, hypothesis), and writes a single
self-contained page (``report.html``: inline CSS and JavaScript, charts drawn by the
Vega bundle embedded in the page, so it renders with no network) plus the tables as
CSV files beside it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import polars as pl

from toolkit.charts import (
    before_after_rates,
    forest_chart,
    rate_chart,
    timeline_chart,
)
from toolkit.html import Page, table_html
from toolkit.pair import pair, uncorrected_slips, unmatched_corrections
from toolkit.read import read
from toolkit.recurrence import recurrence
from toolkit.redact import redact as redact_turns
from toolkit.redact import redact_tags
from toolkit.summary import corpus_summary, tag_summary
from toolkit.tag import tag
from toolkit.verdicts import verdicts
from toolkit.view import view

__all__ = ["build_report"]

Source = str | os.PathLike[str]


class _Progress:
    def __init__(self, steps: int, enabled: bool) -> None:
        self.steps, self.enabled, self.i = steps, enabled, 0
        self.t0 = time.perf_counter()

    def __call__(self, what: str) -> None:
        self.i += 1
        if self.enabled:
            took = time.perf_counter() - self.t0
            print(f"[{self.i}/{self.steps}] {what} ({took:.1f} s)", file=sys.stderr, flush=True)


def _para(text: str) -> str:
    import html

    return f"<p>{html.escape(text)}</p>"


def _note(text: str) -> str:
    import html

    return f'<p class="note">{html.escape(text)}</p>'


def build_report(
    source: Source | Sequence[Source],
    *,
    out: Source = "reports",
    persona: str | Sequence[str] | None = None,
    redact: bool = False,
    redact_names: Sequence[str] = (),
    format: str = "auto",
    seed: int = 0,
    n_permutations: int = 2000,
    window: int = 20,
    progress: bool | Callable[[str], None] = True,
) -> Path:
    """Run the whole analysis on an export and write ``report.html`` into ``out``.

    Parameters
    ----------
    source
        Export file(s), folder or ``.zip`` (anything :func:`toolkit.read.read` takes).
    out
        Output folder (created); receives ``report.html`` and ``tables/*.csv``.
    persona
        The assistant's given name(s), for identity tags.
    redact
        Replace emails, phone numbers, URLs and ``redact_names`` in all displayed
        text (transcript view, chart tooltips, tables of matched text). The
        statistics are computed on the original text; only what is shown changes.
    redact_names
        Further names to replace by ``[NAME]`` when ``redact`` is on (the persona
        is never redacted).
    format
        Force a reader, else auto-detection.
    seed, n_permutations, window
        Passed to :func:`toolkit.recurrence.recurrence`.
    progress
        Print one line per step to stderr (or call this function with it).

    Returns
    -------
    pathlib.Path
        The path of ``report.html``.
    """
    step: Callable[[str], None] = (
        progress if callable(progress) else _Progress(11, enabled=bool(progress))
    )
    given = source if isinstance(source, list | tuple) else [source]
    step("reading " + ", ".join(str(g) for g in given))
    out_dir = Path(out)
    (out_dir / "tables").mkdir(parents=True, exist_ok=True)
    personas = [persona] if isinstance(persona, str) else list(persona or [])

    rep = read(source, format=format, report=True)
    turns = rep.turns
    step(f"read {turns.height:,} turns in {turns['conversation_id'].n_unique():,} conversations")
    if turns.height == 0:
        raise ValueError(f"no turns could be read from {source!r}")

    tags = tag(turns, persona=personas or None)
    step(f"tagged {tags.height:,} spans")
    pairs = pair(turns, tags, window=3)
    unmatched = unmatched_corrections(turns, tags, window=3)
    uncorrected = uncorrected_slips(turns, tags, window=3)
    step(f"paired {pairs.height:,} corrections with slips")
    result = recurrence(turns, tags, window=window, n_permutations=n_permutations, seed=seed)
    step("estimated recurrence (naive, matched, survival, placebo)")

    shown_turns, shown_tags = turns, tags
    if redact:
        names = [n for n in redact_names if n not in personas]
        shown_turns = redact_turns(turns, names=names)
        shown_tags = redact_tags(tags, turns, names=names)

    page = Page("Do corrected slips recur less often? — toolkit report")
    src_list = [str(s) for s in source] if isinstance(source, list | tuple) else [str(source)]
    formats_seen = ", ".join(sorted(set(rep.detections["format"].to_list())))
    verdict = verdicts(result)
    intro = [
        _para(
            f"Source: {', '.join(Path(s).name for s in src_list)} ({formats_seen}); "
            f"{turns.height:,} visible turns in {turns['conversation_id'].n_unique():,} "
            f"conversations; {tags.height:,} tagged spans; {pairs.height:,} "
            f"correction–slip links. Persona: {', '.join(personas) or 'none given'}."
            + (" Displayed text is redacted." if redact else "")
        ),
        _note(
            "Each category's verdict rests on the matched estimator, which compares "
            "corrected slip bursts with similar bursts that were not corrected. A "
            "plain before/after comparison is biased towards 'fewer' because "
            "corrections follow bursts (regression to the mean); it is shown only "
            "for contrast."
        ),
        table_html(verdict.select("category", "verdict", "sentence"), caption="Verdicts"),
    ]

    # 1 corpus
    summary = corpus_summary(turns)
    skipped = rep.skipped.group_by("kind", "reason").agg(pl.col("count").sum()).sort("kind")
    page.section(
        "Corpus",
        _para("One row per conversation (session), in chronological order.")
        + table_html(
            summary.select(
                "conversation_index", "turns", "user", "assistant", "assistant_chars",
                "start", "end",
            )
        )
        + _para("Left out on purpose by the reader, counted:")
        + table_html(skipped),
    )
    step("corpus summary")

    # 2 tags
    inventory = tag_summary(turns, tags)
    timeline = timeline_chart(shown_turns, shown_tags)
    page.section(
        "Tags",
        _para(
            "Tagged spans by category: how many spans, how many turns carry one, and "
            "the share of that role's turns."
        )
        + table_html(inventory)
        + _para(
            "Timeline: slips by category across the corpus, with user corrections as "
            "dashed rules coloured by their target (drag to zoom, hover for the text)."
        )
        + page.chart(timeline),
    )
    step("tag inventory and timeline")

    # 3 corrections
    outcomes = (
        pairs.group_by("category", "outcome").agg(pl.len().alias("links")).sort("category", "outcome")
    )
    basis = pairs.group_by("basis").agg(pl.len().alias("links")).sort("basis")
    page.section(
        "Corrections and the next reply",
        _para(
            "Each correction is linked to the slip it targets (by quote, the adjacent "
            "reply, or a window of replies); the next assistant reply is judged as "
            "acknowledging and/or repairing it."
        )
        + table_html(outcomes, caption="Outcome of the next reply, by slip category")
        + table_html(basis, caption="Link basis")
        + _para(
            f"Corrections that matched no slip: {unmatched.height:,}. "
            f"Slips never corrected: {uncorrected.height:,}."
        ),
    )
    step("corrections")

    # 4 recurrence
    rates = before_after_rates(turns, tags, window=window)
    cols = [
        c
        for c in (
            "category", "estimator", "n_corrections", "n_controls", "n_clusters",
            "rate_ratio", "ci_low", "ci_high", "p_value", "p_holm", "note",
        )
        if c in result.columns
    ]
    page.section(
        "Do corrected slips recur less often?",
        _para(
            f"Rate ratios over the {window} assistant turns after a correction, per "
            "category and estimator: below 1 means fewer slips than the counterfactual."
        )
        + page.chart(forest_chart(result))
        + table_html(result.select(cols))
        + _para("For contrast, the naive before/after rates (biased; see above):")
        + page.chart(rate_chart(rates)),
    )
    step("recurrence tables and charts")

    # 5 transcript
    busiest = (
        tags.filter(pl.col("category") == "correction")
        .group_by("conversation_id")
        .len()
        .sort("len", "conversation_id", descending=[True, False])
    )
    first_conv = (
        busiest["conversation_id"][0]
        if busiest.height
        else turns.sort("conversation_index")["conversation_id"][0]
    )
    tv = view(
        turns,
        tags,
        pairs=pairs,
        conversation=first_conv,
        page_size=400,
        redact=list(redact_names) if redact and redact_names else bool(redact),
        persona=personas or None,
    )
    page.section(
        "Transcript",
        _para(
            "The conversation with the most corrections, highlighted by category; a "
            "correction links to the slip it targets. In JupyterLab use tk.view(...) "
            "to page through any conversation."
        )
        + tv.to_html(),
    )
    step("transcript view")

    books = sorted((out_dir / "notebooks").glob("[0-9][0-9]_*.html"))
    if books:
        import html as _html

        links = "".join(
            f'<li><a href="notebooks/{_html.escape(b.name)}">{_html.escape(b.stem)}</a></li>'
            for b in books
        )
        page.section(
            "Notebooks",
            _para("The notebooks, run on the same transcripts, one question each:")
            + f"<ul>{links}</ul>",
        )

    page.section(
        "What this does and does not show",
        _para(
            "It shows, per slip category, whether replies after a user's correction "
            "carry fewer slips than replies after comparable uncorrected bursts in the "
            "same corpus, with intervals that account for clustering by conversation. "
            "It does not show why: a drop can come from the correction, from the model "
            "paraphrasing the slip into words the lexicon misses (check the tagger's "
            "recall after corrections in notebook 02), or from a model change. A "
            "corpus with few corrections or few conversations cannot answer the "
            "question; the report then says 'not estimable' rather than guess."
        ),
    )

    for name, frame in {
        "corpus": summary,
        "skipped": rep.skipped,
        "tags_by_category": inventory,
        "pairs": pairs,
        "recurrence": result,
        "verdicts": verdict,
    }.items():
        frame.write_csv(out_dir / "tables" / f"{name}.csv")
    path = out_dir / "report.html"
    path.write_text(page.render(preface=intro), encoding="utf-8")
    step(f"wrote {path}")
    return path

