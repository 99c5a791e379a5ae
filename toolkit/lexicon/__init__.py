"""The cue lexicon as data: load, extend or replace it.

The bundled lexicon is ``toolkit/lexicon/default.toml``. A user file has the same shape
(see that file's header) and **extends** the bundled one by default: its cues are
added, and a cue with an ``id`` already present replaces the bundled cue of that id.
To use only your own cues, put ``replace = true`` at the top of your file, or call
``load_lexicon(path, extend=False)``.

Example user file::

    version = "mylab-1"
    [[cue]]
    id = "hedge.H2.my_gut"
    category = "hedge"
    subtype = "H2"
    pattern = '''\\bmy gut says\\b'''
    notes = "lab slang"
    positive = ["My gut says the cache is stale."]
    negative = ["The gut microbiome is complex."]
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

from toolkit.schema import CATEGORIES, USER_CATEGORIES

__all__ = [
    "POSITIONS",
    "Cue",
    "Lexicon",
    "ascii_boundaries",
    "default_lexicon",
    "load_lexicon",
]

POSITIONS: tuple[str, ...] = ("any", "start", "sstart", "first", "first2", "last2")
"""Where a cue may fire: anywhere, at the start of the turn, at the start of any
sentence, in the first sentence, the first two (or within the first 200
characters), or the last two sentences."""

_NAME_SLOT = "{NAME}"
_WORD_BOUNDARY = re.compile(r"(?<!\\)((?:\\\\)*)\\b")


def ascii_boundaries(pattern: str, *, engine: str = "rust") -> str:
    r"""Make every ``\b`` an ASCII word boundary.

    The Rust ``regex`` crate's fast DFA gives up on Unicode word boundaries as soon
    as a turn contains a non-ASCII character (an emoji, an em dash), which made
    matching 20-40x slower; the cues are English, so ASCII boundaries lose nothing
    that matters. ``engine="python"`` writes the same thing for Python ``re``.

    Examples
    --------
    >>> print(ascii_boundaries(r"\bmay\b|a\\b"))
    (?-u:\b)may(?-u:\b)|a\\b
    >>> print(ascii_boundaries(r"\bmay", engine="python"))
    (?a:\b)may
    """
    flag = "(?-u:\\b)" if engine == "rust" else "(?a:\\b)"
    return _WORD_BOUNDARY.sub(lambda m: m.group(1) + flag, pattern)


@dataclass(frozen=True)
class Cue:
    """One cue: a regular expression (or literal list) with its category and rules.

    Attributes
    ----------
    id
        Unique id, recorded as ``cue_id`` on every tag.
    category, subtype
        ``category`` is one of :data:`toolkit.schema.CATEGORIES`; the tag's subtype is
        ``f"{category}.{subtype}"``.
    pattern
        A regular expression in the common subset of Python ``re`` and the Rust
        ``regex`` crate (no look-around, no backreferences). ``{NAME}`` is replaced
        by the persona names; ``{WORD:name}`` by the lexicon's ``[words]`` list of
        that name (substituted when the file is parsed). Matched case-insensitively unless ``case_sensitive``.
    role
        ``"user"`` for user categories, else ``"assistant"``.
    position
        One of :data:`POSITIONS`.
    exclude_negated
        Drop the hit when a negation ("not", "n't", "never", "no", "without") comes
        at most three words before it in the same sentence.
    exclude_left, exclude_right
        Drop the hit when this regex matches the same-sentence text just before
        (``...$``-style) or after (``^...``-style) the match.
    require_sentence
        Keep the hit only when its sentence also matches this regex.
    require_turn
        Keep the hit only when its (masked) turn also matches this regex.
    skip_code
        Drop the hit when its sentence contains masked code.
    opinion_exempt
        Drop the hit when the previous user turn asked for the assistant's opinion.
    after_pushback
        Keep the hit only when the previous user turn carries a ``pushback`` tag.
    not_after_pushback
        Drop the hit when the previous user turn carries a ``pushback`` tag (an
        apology answering a challenge is capitulation or acknowledgement, not reflex).
    not_after_correction
        Drop the hit when the previous user turn carries a ``correction`` tag (a
        "you're right" answering a behavioural correction is an acknowledgement).
    after_challenge
        Keep the hit only when the previous user turn carries a ``correction`` or
        ``pushback`` tag (a bare "I did." only acknowledges something after one).
    after_assistant
        Keep the hit only when an assistant turn came before it in the conversation
        (a user "no caveats" before any reply is an instruction, not a correction).
    """

    id: str
    category: str
    subtype: str
    pattern: str
    notes: str = ""
    role: str = "assistant"
    position: str = "any"
    case_sensitive: bool = False
    exclude_negated: bool = False
    exclude_left: str | None = None
    exclude_right: str | None = None
    require_sentence: str | None = None
    require_turn: str | None = None
    skip_code: bool = False
    opinion_exempt: bool = False
    after_pushback: bool = False
    not_after_pushback: bool = False
    not_after_correction: bool = False
    after_challenge: bool = False
    after_assistant: bool = False
    positive: tuple[str, ...] = ()
    negative: tuple[str, ...] = ()
    context: str | None = None
    negative_context: str | None = None

    @property
    def full_subtype(self) -> str:
        """``category.subtype``."""
        return f"{self.category}.{self.subtype}"

    @property
    def needs_persona(self) -> bool:
        """Whether the pattern has a ``{NAME}`` slot."""
        return _NAME_SLOT in self.pattern

    def regex(self, persona: tuple[str, ...] = (), *, engine: str = "python") -> str | None:
        """The concrete pattern (flags scoped), or ``None`` if it needs a persona.

        ``engine`` is ``"python"`` (``re``) or ``"rust"`` (polars); both get ASCII
        word boundaries (see :func:`ascii_boundaries`).
        """
        pat = self.pattern
        if self.needs_persona:
            if not persona:
                return None
            names = "|".join(re.escape(p) for p in persona)
            pat = pat.replace(_NAME_SLOT, f"(?:{names})")
        if self.role == "user":
            pat = loose_apostrophes(pat)
        pat = ascii_boundaries(_non_capturing(pat), engine=engine)
        return f"(?:{pat})" if self.case_sensitive else f"(?i:{pat})"


@dataclass(frozen=True)
class Lexicon:
    """A versioned set of cues plus the context tables the taggers use.

    Attributes
    ----------
    version
        Recorded as ``lexicon_version`` on every tag.
    cues
        The cues, in priority order (earlier wins when two cues of one category
        start at the same place).
    targets
        Category -> regex: words in a correction that name the slip it targets.
    requested
        Category -> regex: words in the previous user turn that mean the cue was
        asked for (sets ``task_requested``).
    opinion
        Regex: the previous user turn asked for the assistant's opinion.
    habitual
        Regex: a correction about a habit ("you keep ...").
    words
        Name -> regex alternation: named word lists that patterns use as
        ``{WORD:name}`` (already substituted into ``cues``; kept so an extending
        file can use the bundled lists).
    """

    version: str
    cues: tuple[Cue, ...]
    targets: dict[str, str] = field(default_factory=dict)
    requested: dict[str, str] = field(default_factory=dict)
    opinion: str = ""
    habitual: str = ""
    words: dict[str, str] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Number of cues per category."""
        out: dict[str, int] = {}
        for c in self.cues:
            out[c.category] = out.get(c.category, 0) + 1
        return out


_APOSTROPHE = re.compile(r"(?<=[A-Za-z])'(?=(?:t|s|ve|m)\b)|(?<=you)'(?=re\b)|(?<=\(\?:)'(?=(?:s|ve|m|re)\b)")


def loose_apostrophes(pat: str) -> str:
    r"""Make the apostrophe of common contractions optional in a pattern.

    Users type "dont", "youre", "thats", "im"; the user-turn cues are written with
    apostrophes, so ``n't``, ``'s``, ``'ve``, ``'m`` and ``you're`` become ``n'?t``,
    ``'?s`` and so on. ``'re``, ``'ll`` and ``'d`` stay strict elsewhere ("were",
    "well", "ill" are words).

    Examples
    --------
    >>> import re
    >>> rx = loose_apostrophes(r"\bdon't (?:lecture|preach)\b|\byou're (?:hedging)\b")
    >>> bool(re.search(rx, "dont lecture me")), bool(re.search(rx, "youre hedging"))
    (True, True)
    >>> bool(re.search(loose_apostrophes(r"\bwe're\b"), "were"))
    False
    """
    return _APOSTROPHE.sub("'?", pat)


def _non_capturing(pat: str) -> str:
    """Turn capturing groups into non-capturing ones (escapes and classes respected)."""
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pat):
        ch = pat[i]
        if ch == "\\":
            out.append(pat[i : i + 2])
            i += 2
            continue
        if in_class:
            if ch == "]":
                in_class = False
        elif ch == "[":
            in_class = True
            out.append(ch)
            i += 1
            if i < len(pat) and pat[i] == "^":
                out.append("^")
                i += 1
            if i < len(pat) and pat[i] == "]":
                out.append("]")
                i += 1
            continue
        elif ch == "(" and not pat.startswith("(?", i):
            out.append("(?:")
            i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _as_tuple(v: object) -> tuple[str, ...]:
    if v is None:
        return ()
    if isinstance(v, str):
        return (v,)
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return tuple(v)
    raise ValueError(f"expected a string or a list of strings, got {v!r}")


_CUE_KEYS = {f for f in Cue.__dataclass_fields__} | {"literals"}


_WORD_SLOT = re.compile(r"\{WORD:([A-Za-z_][A-Za-z0-9_]*)\}")
_RULE_KEYS = ("pattern", "exclude_left", "exclude_right", "require_sentence", "require_turn")


def _expand_words(raw: dict[str, object], words: dict[str, str], where: str) -> dict[str, object]:
    """Replace ``{WORD:name}`` slots in a cue's pattern and rules by ``(?:list)``."""

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in words:
            raise ValueError(f"{where}: cue {raw.get('id')!r} uses unknown word list {name!r}")
        return f"(?:{words[name]})"

    out = dict(raw)
    for key in _RULE_KEYS:
        val = out.get(key)
        if isinstance(val, str):
            out[key] = _WORD_SLOT.sub(sub, val)
    return out


def _parse_cue(raw: dict[str, object], where: str) -> Cue:
    unknown = set(raw) - _CUE_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {sorted(unknown)}")
    for key in ("id", "category", "subtype"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise ValueError(f"{where}: cue needs a non-empty string {key!r}")
    cid = str(raw["id"])
    category = str(raw["category"])
    if category not in CATEGORIES:
        raise ValueError(f"{where}: cue {cid!r} has unknown category {category!r}")
    if ("pattern" in raw) == ("literals" in raw):
        raise ValueError(f"{where}: cue {cid!r} needs exactly one of pattern, literals")
    if "literals" in raw:
        lits = _as_tuple(raw["literals"])
        pattern = r"\b(?:" + "|".join(re.escape(s) for s in lits) + r")\b"
    else:
        pattern = str(raw["pattern"])
    position = str(raw.get("position", "any"))
    if position not in POSITIONS:
        raise ValueError(f"{where}: cue {cid!r} has position {position!r}")
    kwargs: dict[str, object] = {
        k: v
        for k, v in raw.items()
        if k not in {"literals", "pattern", "positive", "negative", "role"}
    }
    cue = Cue(
        **kwargs,  # type: ignore[arg-type]
        pattern=pattern,
        role="user" if category in USER_CATEGORIES else "assistant",
        positive=_as_tuple(raw.get("positive")),
        negative=_as_tuple(raw.get("negative")),
    )
    rxs = (cue.exclude_left, cue.exclude_right, cue.require_sentence, cue.require_turn)
    for rx in (cue.regex(("Name",)), *rxs):
        if rx is None:
            continue
        try:
            re.compile(rx)
        except re.error as exc:
            raise ValueError(f"{where}: cue {cid!r} has a bad regex: {exc}") from None
    return cue


def _parse(data: dict[str, object], where: str, words: dict[str, str] | None = None) -> Lexicon:
    raw_cues = data.get("cue", [])
    if not isinstance(raw_cues, list):
        raise ValueError(f"{where}: [[cue]] must be an array of tables")
    own_words = data.get("words", {})
    if not isinstance(own_words, dict) or not all(isinstance(v, str) for v in own_words.values()):
        raise ValueError(f"{where}: [words] must be a table of strings")
    all_words = {**(words or {}), **{str(k): str(v) for k, v in own_words.items()}}
    cues = tuple(_parse_cue(_expand_words(c, all_words, where), where) for c in raw_cues)
    ids = [c.id for c in cues]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ValueError(f"{where}: duplicate cue id(s) {dup}")

    def table(key: str) -> dict[str, str]:
        t = data.get(key, {})
        if not isinstance(t, dict):
            raise ValueError(f"{where}: [{key}] must be a table")
        return {str(k): str(v) for k, v in t.items()}

    return Lexicon(
        version=str(data.get("version", "unversioned")),
        cues=cues,
        targets=table("targets"),
        requested=table("requested"),
        opinion=str(data.get("opinion", "")),
        habitual=str(data.get("habitual", "")),
        words=all_words,
    )


@functools.lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    """The lexicon bundled with the package (parsed once, then cached).

    Examples
    --------
    >>> lex = default_lexicon()
    >>> lex.version.startswith("default-")
    True
    >>> sorted(lex.counts())[:3]
    ['acknowledgement', 'ai_self_reference', 'boilerplate']
    """
    text = resources.files("toolkit.lexicon").joinpath("default.toml").read_text("utf-8")
    return _parse(tomllib.loads(text), "default.toml")


def load_lexicon(path: str | Path | None = None, *, extend: bool | None = None) -> Lexicon:
    """Load a lexicon TOML file, by default on top of the bundled one.

    Parameters
    ----------
    path
        A TOML file; ``None`` gives the bundled lexicon.
    extend
        ``True`` adds the file's cues to the bundled lexicon (same ``id`` replaces),
        ``False`` uses the file alone. ``None`` (default) reads the file's top-level
        ``replace`` key (``replace = true`` means ``extend=False``).

    Returns
    -------
    Lexicon
        Its ``version`` is the file's, joined to the bundled one with ``+`` when
        extending.

    Raises
    ------
    ValueError
        For an unknown category, a bad regex, a duplicate id or an unknown key.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "mine.toml"
    >>> _ = p.write_text('version = "mine-1"\\nreplace = true\\n[[cue]]\\n'
    ...     'id = "b.x"\\ncategory = "boilerplate"\\nsubtype = "B9"\\n'
    ...     'literals = ["synergy"]\\npositive = ["Synergy!"]\\nnegative = ["x"]\\n')
    >>> lex = load_lexicon(p)
    >>> lex.version, [c.id for c in lex.cues]
    ('mine-1', ['b.x'])
    """
    base = default_lexicon()
    if path is None:
        return base
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"cannot read lexicon {p}: {exc}") from None
    own = _parse(data, str(p), words=base.words)
    if extend is None:
        extend = not bool(data.get("replace", False))
    if not extend:
        if not own.opinion or not own.habitual or not own.targets:
            own = replace(
                own,
                targets=own.targets or base.targets,
                requested=own.requested or base.requested,
                opinion=own.opinion or base.opinion,
                habitual=own.habitual or base.habitual,
            )
        return own
    theirs = {c.id: c for c in own.cues}
    cues = tuple(theirs.pop(c.id, c) for c in base.cues) + tuple(theirs.values())
    return Lexicon(
        version=f"{base.version}+{own.version}",
        cues=cues,
        targets={**base.targets, **own.targets},
        requested={**base.requested, **own.requested},
        opinion=own.opinion or base.opinion,
        habitual=own.habitual or base.habitual,
        words={**base.words, **own.words},
    )
