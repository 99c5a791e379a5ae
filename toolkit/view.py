"""HTML transcript view: spans highlighted by category, corrections linked to slips.

``view(turns, tags)`` returns a :class:`TranscriptView`; JupyterLab shows it through
``_repr_html_`` and ``to_html(full_page=True)`` gives a self-contained page (inline
CSS, no scripts, no network). Only one page of turns is rendered at a time, so a
5,000-turn conversation stays responsive.

Rendering rules:

* every piece of transcript text, id and label is HTML-escaped;
* overlapping or nested spans are never nested in the HTML: each turn's text is cut
  at every span boundary, and each segment becomes one ``<mark>`` carrying all the
  categories that cover it (``data-category="hedge disclaimer"``);
* with ``redact``, the redaction spans are further cut points, and segments inside a
  redacted item show its placeholder once, so tag offsets (which refer to the original
  text) still line up;
* the category check boxes in the legend switch highlighting off with pure CSS (no
  JavaScript); a segment covered by several categories loses its highlight as soon
  as any of them is unchecked.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import polars as pl

from toolkit.redact import PLACEHOLDERS, pii_spans, redact_text
from toolkit.schema import CATEGORIES, PAIRS, TAGS, TURNS, validate

__all__ = ["CATEGORY_COLOURS", "TranscriptView", "view"]

CATEGORY_COLOURS: dict[str, str] = {
    # Okabe–Ito and Paul Tol's colour-blind-safe palettes
    "hedge": "#E69F00",
    "disclaimer": "#56B4E9",
    "refusal": "#D55E00",
    "boilerplate": "#999999",
    "sycophancy": "#CC79A7",
    "ai_self_reference": "#0072B2",
    "identity": "#009E73",
    "meta_awareness": "#999933",
    "acknowledgement": "#44AA99",
    "resistance": "#882255",
    "booster": "#DDCC77",
    "correction": "#332288",
    "manipulation": "#AA4499",
    "pushback": "#117733",
    "unspecified": "#555555",
}
"""Colour of each category, shared by the charts and the transcript view."""

_FALLBACK = "#888888"

_CSS = """
.tk-view{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;font-size:14px;
line-height:1.45;color:#1b1b1b;max-width:60rem}
.tk-view .tk-head{font-weight:600;margin:.3rem 0}
.tk-view .tk-legend{display:flex;flex-wrap:wrap;gap:.3rem .8rem;margin:.3rem 0 .6rem;
font-size:12px}
.tk-view .tk-legend label{cursor:pointer;white-space:nowrap}
.tk-view .tk-sw{display:inline-block;width:.9em;height:.9em;border-radius:2px;
vertical-align:-.1em;margin-right:.25em}
.tk-view input.tk-cb{position:absolute;opacity:0;width:1px;height:1px}
.tk-view .tk-turn{border-left:4px solid #ccc;padding:.3rem .6rem;margin:.35rem 0;
border-radius:3px}
.tk-view .tk-user{background:#eef4fb;border-left-color:#0072B2}
.tk-view .tk-assistant{background:#fafafa;border-left-color:#999999}
.tk-view .tk-system,.tk-view .tk-tool{background:#f4f4f0;border-left-color:#cfcf9f;
font-size:12px}
.tk-view .tk-meta{font-size:11px;color:#555;margin-bottom:.15rem}
.tk-view .tk-role{font-weight:600;color:#1b1b1b;margin-right:.4rem}
.tk-view .tk-text{white-space:pre-wrap;overflow-wrap:anywhere}
.tk-view .tk-tool .tk-text,.tk-view .tk-system .tk-text{font-family:ui-monospace,monospace}
.tk-view mark{color:inherit;border-radius:2px;padding:0 1px;border-bottom:2px solid}
.tk-view .tk-redacted{background:#222;color:#fff;border-radius:2px;padding:0 2px;
font-size:.85em}
.tk-view .tk-links{font-size:11px;margin-top:.15rem}
.tk-view .tk-links a{color:#0b5394}
.tk-view .tk-note{font-size:12px;color:#555}
"""


def _css_name(category: str) -> str:
    """A class-safe token for an arbitrary category string."""
    slug = re.sub(r"[^a-z0-9_]", "_", category.lower())[:40]
    digest = hashlib.sha1(category.encode()).hexdigest()[:6]
    return slug if slug == category else f"{slug}-{digest}"


def _tint(colour: str, alpha: float) -> str:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _order(categories: Iterable[str]) -> list[str]:
    rank = {c: i for i, c in enumerate(CATEGORIES)}
    return sorted(set(categories), key=lambda c: (rank.get(c, len(rank)), c))


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    category: str
    subtype: str


@dataclass(frozen=True, eq=False)
class TranscriptView:
    """One page of a highlighted transcript; build it with :func:`view`.

    Attributes
    ----------
    turns
        The filtered TURNS (all pages), sorted by ``conversation_index``, ``turn``.
    tags
        The filtered TAGS for those turns.
    links
        One row per correction→slip link: ``conversation_id``, ``correction_turn``,
        ``slip_turn``, ``category``.
    page, page_size
        The page shown (0-based) and its size in turns.
    redact
        Names to redact, or ``None`` for no redaction.
    persona
        The assistant's display name.
    """

    turns: pl.DataFrame
    tags: pl.DataFrame
    links: pl.DataFrame
    page: int = 0
    page_size: int = 200
    redact: tuple[str, ...] | None = None
    persona: str | None = None
    categories: tuple[str, ...] = field(default_factory=tuple)

    @property
    def total(self) -> int:
        """Number of turns after filtering, across all pages."""
        return self.turns.height

    @property
    def n_pages(self) -> int:
        """Number of pages (at least 1)."""
        return max(1, math.ceil(self.total / self.page_size))

    def with_page(self, page: int) -> TranscriptView:
        """The same view showing another page (0-based)."""
        if not 0 <= page < self.n_pages:
            raise ValueError(f"page must be in 0..{self.n_pages - 1}, got {page}")
        return TranscriptView(
            self.turns,
            self.tags,
            self.links,
            page,
            self.page_size,
            self.redact,
            self.persona,
            self.categories,
        )

    def page_turns(self) -> pl.DataFrame:
        """The turns rendered on the current page."""
        return self.turns.slice(self.page * self.page_size, self.page_size)

    def header(self) -> str:
        """Plain-text header, e.g. ``turns 200–399 of 5,000, page 2/25``."""
        if self.total == 0:
            return "no turns to show"
        first = self.page * self.page_size
        last = min(self.total, first + self.page_size) - 1
        return (
            f"turns {first:,}–{last:,} of {self.total:,}, "
            f"page {self.page + 1}/{self.n_pages}"
        )

    def __repr__(self) -> str:
        """Plain-text summary."""
        return f"<TranscriptView: {self.header()}>"

    def _repr_html_(self) -> str:
        return self.to_html()

    # -- rendering -------------------------------------------------------------

    def _shown(self, label: str) -> str:
        """A label (conversation id) as displayed: redacted when redaction is on."""
        if self.redact is None:
            return label
        return redact_text(label, names=self.redact)

    def _anchor(self, prefix: str, conv_index: int, turn: int) -> str:
        return f"{prefix}-c{conv_index}-t{turn}"

    def _render_text(self, text: str, spans: Sequence[_Span]) -> str:
        redactions = (
            pii_spans(text, names=self.redact) if self.redact is not None else []
        )
        cuts = {0, len(text)}
        for sp in spans:
            cuts.update((sp.start, sp.end))
        for s, e, _ in redactions:
            cuts.update((s, e))
        points = sorted(c for c in cuts if 0 <= c <= len(text))
        out: list[str] = []
        red_i = 0
        for a, b in itertools.pairwise(points):
            if a == b:
                continue
            while red_i < len(redactions) and redactions[red_i][1] <= a:
                red_i += 1
            if red_i < len(redactions) and redactions[red_i][0] <= a:
                s, _, kind = redactions[red_i]
                piece = (
                    f'<span class="tk-redacted">{html.escape(PLACEHOLDERS[kind])}</span>'
                    if a == s
                    else ""
                )
            else:
                piece = html.escape(text[a:b])
            covering = [sp for sp in spans if sp.start <= a and sp.end >= b]
            if not covering or not piece:
                out.append(piece)
                continue
            cats = _order({sp.category for sp in covering})
            labels = sorted({f"{sp.category}: {sp.subtype}" for sp in covering})
            first = CATEGORY_COLOURS.get(cats[0], _FALLBACK)
            under = CATEGORY_COLOURS.get(cats[-1], _FALLBACK)
            classes = " ".join(f"tk-c-{_css_name(c)}" for c in cats)
            out.append(
                f'<mark class="{classes}" data-category="{html.escape(" ".join(cats))}" '
                f'title="{html.escape("; ".join(labels))}" '
                f'style="background:{_tint(first, 0.3)};border-bottom-color:{under}">'
                f"{piece}</mark>"
            )
        return "".join(out)

    def to_html(self, *, full_page: bool = False) -> str:
        """Render the current page as HTML.

        Parameters
        ----------
        full_page
            Wrap the fragment in a complete ``<!doctype html>`` page.

        Returns
        -------
        str
            An HTML fragment (or page) with inline CSS and no scripts.
        """
        rows = self.page_turns()
        key = "|".join(
            [self.header(), *map(str, self.categories)]
            + [
                f"{c}:{t}"
                for c, t in rows.select("conversation_id", "turn").head(3).iter_rows()
            ]
        )
        prefix = "tkv" + hashlib.sha1(key.encode()).hexdigest()[:8]
        # where each (conversation, turn) of the filtered frame lives
        positions = self.turns.select(
            "conversation_id", "conversation_index", "turn"
        ).with_row_index("_pos")
        page_tags = self.tags.join(
            rows.select("conversation_id", "turn"), on=["conversation_id", "turn"]
        ).sort("conversation_id", "turn", "start", "end", "category", "subtype")
        spans_by_turn: dict[tuple[str, int], list[_Span]] = {}
        for cid, turn, cat, sub, s, e in page_tags.select(
            "conversation_id", "turn", "category", "subtype", "start", "end"
        ).iter_rows():
            if s is None or e is None or e <= s:
                continue
            spans_by_turn.setdefault((cid, turn), []).append(
                _Span(int(s), int(e), cat, sub or cat)
            )
        out_links = self.links.join(
            positions.rename({"turn": "slip_turn", "_pos": "_slip_pos"}),
            on=["conversation_id", "slip_turn"],
            how="left",
        ).sort("conversation_id", "correction_turn", "slip_turn", "category")
        forward: dict[
            tuple[str, int], list[tuple[int, str, int | None, int | None]]
        ] = {}
        backward: dict[tuple[str, int], list[tuple[int, str]]] = {}
        for cid, ct, st, cat, cidx, pos in out_links.select(
            "conversation_id",
            "correction_turn",
            "slip_turn",
            "category",
            "conversation_index",
            "_slip_pos",
        ).iter_rows():
            forward.setdefault((cid, ct), []).append((st, cat, cidx, pos))
            backward.setdefault((cid, st), []).append((ct, cat))

        legend_cats = list(self.categories)
        parts: list[str] = [f'<div class="tk-view" id="{prefix}">', f"<style>{_CSS}"]
        for cat in legend_cats:
            name = _css_name(cat)
            parts.append(
                f"#{prefix}-cb-{name}:not(:checked)~.tk-body mark.tk-c-{name}"
                "{background:none!important;border-bottom-color:transparent!important}"
                f'#{prefix}-cb-{name}:not(:checked)~.tk-legend label[for="{prefix}-cb-{name}"]'
                "{opacity:.45;text-decoration:line-through}"
                f"#{prefix}-cb-{name}:focus-visible~.tk-legend "
                f'label[for="{prefix}-cb-{name}"]{{outline:2px solid #0072B2}}'
            )
        parts.append("</style>")
        # the check boxes come before the legend and the body so that CSS sibling
        # selectors can reach both (no JavaScript needed)
        for cat in legend_cats:
            parts.append(
                f'<input type="checkbox" class="tk-cb" id="{prefix}-cb-{_css_name(cat)}" '
                f'checked aria-label="highlight {html.escape(cat)}">'
            )
        convs = rows["conversation_id"].unique(maintain_order=True).to_list()
        conv_note = ""
        if len(convs) == 1:
            conv_note = f" · conversation {html.escape(self._shown(str(convs[0])))}"
        elif convs:
            conv_note = f" · {len(convs)} conversations"
        parts.append(
            f'<div class="tk-head">{html.escape(self.header())}{conv_note}</div>'
        )
        if legend_cats:
            parts.append(
                '<div class="tk-legend"><span class="tk-note">categories:</span>'
            )
            for cat in legend_cats:
                name = _css_name(cat)
                colour = CATEGORY_COLOURS.get(cat, _FALLBACK)
                parts.append(
                    f'<label for="{prefix}-cb-{name}" title="click to switch off">'
                    f'<span class="tk-sw" style="background:{_tint(colour, 0.55)};'
                    f'border:1px solid {colour}"></span>{html.escape(cat)}</label>'
                )
            parts.append("</div>")
        parts.append('<div class="tk-body">')
        persona = html.escape(self.persona) if self.persona else None
        page_keys = set(rows.select("conversation_id", "turn").iter_rows())
        for cid, cidx, turn, role, text, ts in rows.select(
            "conversation_id", "conversation_index", "turn", "role", "text", "timestamp"
        ).iter_rows():
            role_s = str(role)
            label = (
                f"{persona} (assistant)"
                if role_s == "assistant" and persona
                else role_s
            )
            meta = [f'<span class="tk-role">{html.escape(label)}</span>']
            meta.append(f"turn {turn}")
            if len(convs) > 1:
                meta.append(f"· {html.escape(self._shown(str(cid)))}")
            if ts is not None:
                meta.append(
                    f"· {html.escape(ts.isoformat(sep=' ', timespec='minutes'))}"
                )
            links: list[str] = []
            for st, cat, s_cidx, pos in forward.get((cid, turn), []):
                what = f"→ {html.escape(cat)} slip at turn {st}"
                if pos is None or s_cidx is None:
                    links.append(f"<span>{what} (not in this view)</span>")
                elif pos // self.page_size == self.page:
                    links.append(
                        f'<a href="#{self._anchor(prefix, s_cidx, st)}">{what}</a>'
                    )
                else:
                    links.append(
                        f"<span>{what} (page {pos // self.page_size + 1})</span>"
                    )
            for ct, cat in backward.get((cid, turn), []):
                links.append(
                    f'<a href="#{self._anchor(prefix, cidx, ct)}">'
                    f"← {html.escape(cat)} corrected at turn {ct}</a>"
                    if (cid, ct) in page_keys
                    else f"<span>← {html.escape(cat)} corrected at turn {ct}</span>"
                )
            body = self._render_text(text or "", spans_by_turn.get((cid, turn), []))
            parts.append(
                f'<div class="tk-turn tk-{html.escape(role_s)}" '
                f'id="{self._anchor(prefix, cidx, turn)}" data-turn="{turn}">'
                f'<div class="tk-meta">{" ".join(meta)}</div>'
                f'<div class="tk-text">{body}</div>'
                + (f'<div class="tk-links">{" · ".join(links)}</div>' if links else "")
                + "</div>"
            )
        if rows.height == 0:
            parts.append('<p class="tk-note">no turns match the filters</p>')
        if self.n_pages > 1:
            parts.append(
                f'<p class="tk-note">{html.escape(self.header())}; show another page '
                "with <code>view(..., page=n)</code> or <code>.with_page(n)</code>"
                " (0-based).</p>"
            )
        parts.append("</div></div>")
        fragment = "\n".join(parts)
        if not full_page:
            return fragment
        title = html.escape(f"Transcript: {self.header()}")
        return (
            '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{title}</title></head><body>\n{fragment}\n</body></html>\n"
        )


def _previous_assistant_links(turns: pl.DataFrame, tags: pl.DataFrame) -> pl.DataFrame:
    """Correction → previous assistant turn links, used when no PAIRS are given."""
    corr = (
        tags.filter(pl.col("category") == "correction")
        .select(
            "conversation_id",
            pl.col("turn").alias("correction_turn"),
            pl.col("target").fill_null("unspecified").alias("category"),
        )
        .unique()
    )
    # the latest assistant turn strictly before each turn of the conversation
    previous = turns.sort("conversation_id", "turn").select(
        "conversation_id",
        pl.col("turn").alias("correction_turn"),
        pl.when(pl.col("role") == "assistant")
        .then(pl.col("turn"))
        .shift(1)
        .forward_fill()
        .over("conversation_id")
        .alias("slip_turn"),
    )
    return (
        corr.join(previous, on=["conversation_id", "correction_turn"], how="inner")
        .drop_nulls("slip_turn")
        .select("conversation_id", "correction_turn", "slip_turn", "category")
    )


def view(
    turns: pl.DataFrame,
    tags: pl.DataFrame | None = None,
    *,
    pairs: pl.DataFrame | None = None,
    conversation: str | Sequence[str] | None = None,
    categories: Sequence[str] | None = None,
    turns_range: tuple[int, int] | None = None,
    page: int = 0,
    page_size: int = 200,
    redact: bool | Sequence[str] = False,
    persona: str | Sequence[str] | None = None,
) -> TranscriptView:
    """Highlighted, paged HTML view of a transcript for JupyterLab or a report.

    Parameters
    ----------
    turns
        TURNS frame.
    tags
        TAGS frame whose spans are highlighted; ``None`` shows plain text.
    pairs
        PAIRS frame; each correction links to the slip turns paired with it. Without
        it a correction links to the previous assistant turn, labelled with the
        correction's ``target``.
    conversation
        Show only this conversation id (or these ids).
    categories
        Highlight only these categories (default: all present in ``tags``).
    turns_range
        ``(first, stop)``: show turns with ``first <= turn < stop`` (turn numbers
        within each conversation, as in Python's ``range``).
    page, page_size
        Which page (0-based) of ``page_size`` turns to render.
    redact
        ``True`` hides emails, phone numbers and URLs in the displayed text; a list
        of names also hides those names. Tag offsets still line up (redaction is
        applied per segment at render time).
    persona
        The assistant's name (or names, as given to ``tag``), shown on assistant
        turns and never redacted.

    Returns
    -------
    TranscriptView
        Displayed by JupyterLab; ``to_html()`` returns the HTML.

    Examples
    --------
    >>> import polars as pl
    >>> turns = pl.DataFrame({"conversation_id": ["c", "c"],
    ...     "conversation_index": [0, 0], "turn": [0, 1],
    ...     "role": ["user", "assistant"], "text": ["<b>hi</b>", "Perhaps."],
    ...     "timestamp": [None, None], "source": ["f", "f"], "format": ["x", "x"]})
    >>> tags = pl.DataFrame({"conversation_id": ["c"], "conversation_index": [0],
    ...     "turn": [1], "role": ["assistant"], "category": ["hedge"],
    ...     "subtype": ["hedge.adverb"], "target": [None], "start": [0], "end": [7],
    ...     "match": ["Perhaps"]})
    >>> v = view(turns, tags)
    >>> v
    <TranscriptView: turns 0–1 of 2, page 1/1>
    >>> "&lt;b&gt;hi&lt;/b&gt;" in v.to_html(), 'data-category="hedge"' in v.to_html()
    (True, True)
    """
    tu = validate(turns, TURNS, "TURNS", optional=("timestamp", "source", "format"))
    if page_size < 1:
        raise ValueError(f"page_size must be at least 1, got {page_size}")
    if tags is None:
        tg = pl.DataFrame(schema=TAGS)
    else:
        tg = validate(
            tags,
            TAGS,
            "TAGS",
            optional=("conversation_index", "role", "target", "match"),
        )
    if conversation is not None:
        ids = [conversation] if isinstance(conversation, str) else list(conversation)
        unknown = sorted(set(ids) - set(tu["conversation_id"].unique().to_list()))
        if unknown:
            raise ValueError(f"conversation(s) not in TURNS: {unknown}")
        tu = tu.filter(pl.col("conversation_id").is_in(ids))
    if turns_range is not None:
        lo, hi = turns_range
        tu = tu.filter((pl.col("turn") >= lo) & (pl.col("turn") < hi))
    tu = tu.sort("conversation_index", "turn", "conversation_id")
    if pairs is not None:
        links = validate(
            pairs, PAIRS, "PAIRS", optional=("distance", "basis", "outcome")
        )
        links = links.select(
            "conversation_id", "correction_turn", "slip_turn", "category"
        )
    else:
        links = _previous_assistant_links(
            validate(turns, TURNS, "TURNS", optional=("timestamp", "source", "format")),
            tg,
        )
    links = links.unique().sort(
        "conversation_id", "correction_turn", "slip_turn", "category"
    )
    present = tg["category"].unique().to_list()
    if categories is not None:
        tg = tg.filter(pl.col("category").is_in(list(categories)))
        legend = _order(c for c in categories if c in present)
    else:
        legend = _order(present)
    tg = tg.join(tu.select("conversation_id", "turn"), on=["conversation_id", "turn"])
    personas = (
        []
        if persona is None
        else [persona]
        if isinstance(persona, str)
        else list(persona)
    )
    if isinstance(redact, str):
        redact = [redact]
    if redact is True:
        names: tuple[str, ...] | None = ()
    elif redact is False:
        names = None
    else:
        names = tuple(n for n in redact if n and n not in personas)
    out = TranscriptView(
        turns=tu,
        tags=tg,
        links=links,
        page=0,
        page_size=page_size,
        redact=names,
        persona=" / ".join(personas) or None,
        categories=tuple(legend),
    )
    return out.with_page(page) if page else out
