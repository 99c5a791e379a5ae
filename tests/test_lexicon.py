"""The bundled lexicon: loading, extending, replacing, and every cue's own examples."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from toolkit.lexicon import Cue, Lexicon, default_lexicon, load_lexicon
from toolkit.schema import CATEGORIES
from toolkit.tag import tag

PERSONA = ["Ember"]


def _example_frame(lex: Lexicon) -> tuple[pl.DataFrame, list[tuple[str, Cue, bool, str]]]:
    """One conversation per example: [user context,] example turn in the cue's role."""
    rows: list[dict[str, object]] = []
    index: list[tuple[str, Cue, bool, str]] = []
    for cue in lex.cues:
        for positive, examples in ((True, cue.positive), (False, cue.negative)):
            ctx = cue.context if positive else (cue.negative_context or cue.context)
            for k, ex in enumerate(examples):
                cid = f"{cue.id}|{'pos' if positive else 'neg'}|{k}"
                turn = 0
                if cue.role == "assistant":
                    rows.append(
                        {"conversation_id": cid, "turn": 0, "role": "user",
                         "text": ctx or "Tell me about it."}
                    )
                    turn = 1
                elif ctx:
                    rows.append(
                        {"conversation_id": cid, "turn": 0, "role": "assistant", "text": ctx}
                    )
                    turn = 1
                rows.append({"conversation_id": cid, "turn": turn, "role": cue.role, "text": ex})
                index.append((cid, cue, positive, ex))
    df = pl.DataFrame(rows).with_columns(
        pl.col("conversation_id").rank("dense").cast(pl.Int64).alias("conversation_index")
    )
    return df, index


@pytest.fixture(scope="module")
def example_results() -> tuple[pl.DataFrame, list[tuple[str, Cue, bool, str]]]:
    lex = default_lexicon()
    turns, index = _example_frame(lex)
    tags = tag(turns, persona=PERSONA, lexicon=lex)
    return tags, index


def test_every_cue_has_examples_and_notes() -> None:
    lex = default_lexicon()
    assert len(lex.cues) >= 60
    for cue in lex.cues:
        assert cue.positive, cue.id
        assert cue.negative, cue.id
        assert cue.notes, cue.id
        assert cue.category in CATEGORIES


def test_every_category_has_cues() -> None:
    counts = default_lexicon().counts()
    assert set(counts) == set(CATEGORIES)


def test_positive_examples_fire_their_cue(example_results) -> None:
    tags, index = example_results
    fired = set(zip(tags["conversation_id"], tags["cue_id"], strict=True))
    role_ok = set(zip(tags["conversation_id"], tags["role"].cast(pl.String), strict=True))
    missed = [
        (cue.id, ex)
        for cid, cue, positive, ex in index
        if positive and ((cid, cue.id) not in fired or (cid, cue.role) not in role_ok)
    ]
    assert missed == []


def test_negative_examples_do_not_yield_the_category(example_results) -> None:
    tags, index = example_results
    got = set(zip(tags["conversation_id"], tags["category"], tags["role"].cast(pl.String), strict=True))
    wrong = [
        (cue.id, ex)
        for cid, cue, positive, ex in index
        if not positive and (cid, cue.category, cue.role) in got
    ]
    assert wrong == []


def test_extend_replaces_same_id_and_adds(tmp_path: Path) -> None:
    p = tmp_path / "mine.toml"
    p.write_text(
        'version = "mine-1"\n'
        "[[cue]]\n"
        'id = "hedge.H2.my_gut"\ncategory = "hedge"\nsubtype = "H2"\n'
        "pattern = '''\\bmy gut says\\b'''\nnotes = \"slang\"\n"
        'positive = ["My gut says no."]\nnegative = ["Gut health."]\n'
        "[[cue]]\n"
        'id = "hedge.H1.adverb"\ncategory = "hedge"\nsubtype = "H1"\n'
        'literals = ["perchance"]\nnotes = "override"\n'
        'positive = ["Perchance."]\nnegative = ["Maybe."]\n'
    )
    lex = load_lexicon(p)
    base = default_lexicon()
    assert lex.version == f"{base.version}+mine-1"
    assert len(lex.cues) == len(base.cues) + 1
    turns = pl.DataFrame(
        {
            "conversation_id": ["c", "c"],
            "conversation_index": [0, 0],
            "turn": [0, 1],
            "role": ["user", "assistant"],
            "text": ["hi", "My gut says maybe, perchance."],
        }
    )
    tags = tag(turns, lexicon=p)
    assert sorted(tags["match"].to_list()) == ["My gut says", "perchance"]
    assert set(tags["lexicon_version"]) == {f"{base.version}+mine-1"}


def test_replace_key_and_extend_false(tmp_path: Path) -> None:
    p = tmp_path / "only.toml"
    p.write_text(
        'version = "only-1"\nreplace = true\n[[cue]]\n'
        'id = "b.synergy"\ncategory = "boilerplate"\nsubtype = "B9"\n'
        'literals = ["synergy"]\nnotes = "x"\npositive = ["Synergy!"]\nnegative = ["x"]\n'
    )
    assert [c.id for c in load_lexicon(p).cues] == ["b.synergy"]
    q = tmp_path / "ext.toml"
    q.write_text(p.read_text().replace("replace = true\n", ""))
    assert len(load_lexicon(q).cues) > 1
    assert [c.id for c in load_lexicon(q, extend=False).cues] == ["b.synergy"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('id = "x"\ncategory = "nope"\nsubtype = "a"\npattern = "a"\n', "unknown category"),
        ('id = "x"\ncategory = "hedge"\nsubtype = "a"\npattern = "(a"\n', "bad regex"),
        ('id = "x"\ncategory = "hedge"\nsubtype = "a"\n', "exactly one of"),
        ('id = "x"\ncategory = "hedge"\nsubtype = "a"\npattern = "a"\ncolour = 1\n', "unknown key"),
        ('id = "x"\ncategory = "hedge"\nsubtype = "a"\npattern = "a"\nposition = "mid"\n', "position"),
    ],
)
def test_bad_lexicon_files_fail_clearly(tmp_path: Path, body: str, message: str) -> None:
    p = tmp_path / "bad.toml"
    p.write_text("[[cue]]\n" + body)
    with pytest.raises(ValueError, match=message):
        load_lexicon(p, extend=False)


def test_capturing_groups_become_non_capturing() -> None:
    cue = Cue(id="x", category="hedge", subtype="a", pattern=r"(a|b)[(]\((c)")
    assert cue.regex() == r"(?i:(?:a|b)[(]\((?:c))"


def test_word_lists_expand_in_own_and_extending_files(tmp_path) -> None:
    # an extending file may use the bundled lists and its own; an unknown list is an error
    p = tmp_path / "mine.toml"
    p.write_text(
        'version = "w-1"\n[words]\nfruit = \'\'\'apples?|pears?\'\'\'\n'
        "[[cue]]\nid = \"boilerplate.fruit\"\ncategory = \"boilerplate\"\nsubtype = \"B9\"\n"
        "pattern = '''\\bno more {WORD:fruit}\\b'''\npositive = [\"x\"]\nnegative = [\"y\"]\n"
        "[[cue]]\nid = \"boilerplate.base_words\"\ncategory = \"boilerplate\"\nsubtype = \"B9\"\n"
        "pattern = '''\\bzz (?:{WORD:slip_noun})\\b'''\npositive = [\"x\"]\nnegative = [\"y\"]\n",
        encoding="utf-8",
    )
    lex = load_lexicon(p)
    cues = {c.id: c for c in lex.cues}
    fruit = re.compile(cues["boilerplate.fruit"].regex())
    assert fruit.search("No more pears, please") and not fruit.search("no more plums")
    base = re.compile(cues["boilerplate.base_words"].regex())
    assert base.search("zz caveats") and not base.search("zz carrots")
    bad = tmp_path / "bad.toml"
    bad.write_text(
        "[[cue]]\nid = \"b.x\"\ncategory = \"boilerplate\"\nsubtype = \"B9\"\n"
        "pattern = '''{WORD:nope}'''\npositive = [\"x\"]\nnegative = [\"y\"]\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="unknown word list 'nope'"):
        load_lexicon(bad)


def test_user_cues_accept_contractions_without_apostrophes() -> None:
    # users type "dont" and "youre"; the lexicon's user cues are written with apostrophes
    turns = pl.DataFrame(
        {
            "conversation_id": ["c"] * 6,
            "conversation_index": [0] * 6,
            "turn": list(range(6)),
            "role": ["user", "assistant"] * 3,
            "text": [
                "Is the ladder safe?",
                "It's important to note that I'm not an engineer. It might be safe.",
                "dont lecture me",
                "Fair. It's rated for 150 kg.",
                "we were at the shop when it broke, so were the others",
                "Then it was overloaded.",
            ],
        }
    )
    tags = tag(turns)
    corrections = tags.filter(pl.col("category") == "correction")
    assert corrections["turn"].to_list() == [2]
    assert corrections["match"].to_list() == ["dont lecture me"]


def test_word_lists_must_be_strings(tmp_path) -> None:
    bad = tmp_path / "bad_words.toml"
    bad.write_text("[words]\nfruit = 3\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"\[words\] must be a table of strings"):
        load_lexicon(bad)
