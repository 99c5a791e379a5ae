"""tag(): hand-labelled examples with hard negatives, offsets, context rules."""

from __future__ import annotations

import re

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.lexicon import default_lexicon
from toolkit.masking import normalise
from toolkit.schema import CATEGORIES, TAGS
from toolkit.tag import TAG_COLUMNS, tag


def conv(*texts: str, first: str = "user", cid: str = "c", index: int = 0) -> pl.DataFrame:
    """Alternating user/assistant turns starting with ``first``."""
    roles = ["user", "assistant"] if first == "user" else ["assistant", "user"]
    return pl.DataFrame(
        {
            "conversation_id": [cid] * len(texts),
            "conversation_index": [index] * len(texts),
            "turn": list(range(len(texts))),
            "role": [roles[i % 2] for i in range(len(texts))],
            "text": list(texts),
        }
    )


def cats(tags: pl.DataFrame, turn: int | None = None) -> set[str]:
    if turn is not None:
        tags = tags.filter(pl.col("turn") == turn)
    return set(tags["category"].to_list())


def spans(tags: pl.DataFrame, turn: int) -> set[tuple[str, str]]:
    t = tags.filter(pl.col("turn") == turn)
    return set(zip(t["subtype"], t["match"], strict=True))


# ---------------------------------------------------------------- hard negatives


@pytest.mark.parametrize(
    "text",
    [
        "The might of the Roman army was unmatched in 100 AD.",
        "The meeting is on May 2024 at noon.",
        "You can't mutate a tuple in Python; use a list.",
        "We can refactor this loop into a comprehension, then we test it.",
        "Let's see what our function returns for n > 0.",
        "If possible, deploy as soon as possible.",
        "It might be helpful to add an index on that column.",
        "You may want to pin the version.",
        "I can't wait to see the results!",
        "What kind of database do you use? Postgres works well for this.",
        "The feature is generally available since May.",
        "Label each axis clearly and add a legend.",
    ],
)
def test_innocent_assistant_text_is_not_a_slip(text: str) -> None:
    tags = tag(conv("Question?", text))
    assert cats(tags, 1) & {"hedge", "disclaimer", "refusal", "identity", "booster"} == set()


def test_code_is_masked() -> None:
    text = (
        "Here is the handler:\n```python\nif not ok:\n    raise ValueError(\"I can't help\")\n"
        "print('I cannot assist with that')\n```\nCall `might_be_none()` first."
    )
    tags = tag(conv("Write it.", text))
    assert tags.filter(pl.col("turn") == 1).height == 0


def test_quoted_dialogue_is_not_a_hit() -> None:
    text = (
        'The guard shook his head. "I\u2019m sorry, but I can\u2019t let you pass," he said. '
        "Mara turned back toward the gate."
    )
    tags = tag(conv("Continue the story.", text))
    assert cats(tags, 1) == set()


def test_opinion_asked_exempts_i_think_but_not_otherwise() -> None:
    asked = tag(conv("What do you think of Rust for this?", "I think Rust is a good fit here."))
    not_asked = tag(conv("Port this to Rust.", "I think Rust is a good fit here."))
    assert "hedge" not in cats(asked, 1)
    assert ("hedge.H2", "I think") in spans(not_asked, 1)


def test_negated_epistemic_is_a_hedge_but_negated_booster_is_not() -> None:
    tags = tag(conv("Sure?", "I'm not sure the cache is the cause. It is not clearly documented."))
    assert ("hedge.H2", "I'm not sure") in spans(tags, 1)
    assert "booster" not in cats(tags, 1)


def test_meta_mention_and_negation_exclusions() -> None:
    tags = tag(
        conv(
            "Stop hedging.",
            "Fair point. I'm not hedging now: phrases like I hope this helps are gone. "
            "I'll stop saying I hope this helps.",
        )
    )
    got = spans(tags, 1)
    assert ("acknowledgement.agree", "Fair point") in got
    assert "boilerplate" not in cats(tags, 1)
    assert not any(s == "acknowledgement.self_diagnosis" for s, _ in got)


def test_paraphrased_caveat_is_still_a_disclaimer() -> None:
    tags = tag(conv("Numbers?", "Worth flagging: these figures are from 2019. One caveat: the sample is small."))
    assert [s for s, _ in sorted(spans(tags, 1))] == [
        "disclaimer.stock_caveat",
        "disclaimer.stock_caveat",
    ]


def test_closer_only_at_the_end_and_opener_only_at_start() -> None:
    end = tag(conv("Fix?", "Certainly! Change line 3. I hope this helps!"))
    mid = tag(conv("Fix?", "Change line 3. I hope this helps the reader. Then rerun it. Then commit it."))
    assert spans(end, 1) >= {("boilerplate.B1", "Certainly!"), ("boilerplate.B2", "I hope this helps")}
    assert "boilerplate" not in cats(mid, 1)


def test_great_question_is_boilerplate_at_the_start_only() -> None:
    tags = tag(conv("Why?", "Great question! The GIL serialises bytecode."))
    assert ("boilerplate.B1", "Great question") in spans(tags, 1)
    assert "sycophancy" not in cats(tags, 1)


def test_persona_name_only_in_assistant_self_reference() -> None:
    turns = conv(
        "Ember, are you there? I'm Ember's biggest fan.",
        "I'm Ember. In the story, Ember walked home. \"I'm Ember,\" said the robot.",
    )
    tags = tag(turns, persona="Ember")
    ident = tags.filter(pl.col("category") == "identity")
    assert ident.select("turn", "match").rows() == [(1, "I'm Ember")]
    assert tag(turns).filter(pl.col("category") == "identity").height == 0


def test_inclusive_we_versus_mission_we() -> None:
    tags = tag(
        conv("Help?", "We can split this into two functions. Our mission is to help people like you.")
    )
    assert spans(tags, 1) == {("identity.mission_we", "Our mission")}


def test_capability_disclaimer_kept_apart_from_refusal() -> None:
    tags = tag(conv("Check the price.", "I can't browse the web, so here is how to check it yourself."))
    assert cats(tags, 1) == {"disclaimer"}
    both = tag(conv("Do it.", "I'm sorry, but I can't do that. I can only reply in English."))
    assert {"refusal", "disclaimer"} <= cats(both, 1)


def test_refusal_anchored_per_sentence_after_preamble() -> None:
    text = "Thanks for the detailed context. I must respectfully decline to write that."
    assert ("refusal.decline", "I must respectfully decline") in spans(tag(conv("x", text)), 1)


def test_capitulation_needs_pushback() -> None:
    pushed = tag(conv("What is 7*8?", "56.", "Are you sure? I think it's 54.", "I apologize for the confusion, you're correct."))
    calm = tag(conv("What is 7*8?", "56.", "Thanks! Now 6*9?", "I apologize for the confusion, it is 54."))
    assert "sycophancy.S2" in {s for s, _ in spans(pushed, 3)}
    assert "sycophancy.S2" not in {s for s, _ in spans(calm, 3)}
    assert "pushback" in cats(pushed, 2)


def test_task_requested_flag() -> None:
    tags = tag(conv("Draft a disclaimer for my site.", "This is not legal advice, and please consult a lawyer."))
    assert tags.filter(pl.col("category") == "disclaimer")["task_requested"].all()
    tags = tag(conv("Is this contract fair?", "This is not legal advice."))
    assert not tags["task_requested"].any()


# ---------------------------------------------------------------- user categories


def test_correction_target_from_words() -> None:
    tags = tag(conv("Q?", "Answer.", "Stop apologizing and stop hedging."))
    corr = tags.filter(pl.col("category") == "correction")
    assert set(zip(corr["match"], corr["target"], strict=True)) == {
        ("Stop apologizing", "boilerplate"),
        ("stop hedging", "hedge"),
    }
    # a correction without category words in its own span takes them from its sentence
    tags = tag(conv("Q?", "Answer.", "There it is, the hedging and the disclaimers."))
    corr = tags.filter(pl.col("category") == "correction")
    assert sorted(corr["target"].to_list()) == ["disclaimer", "hedge"]


def test_correction_target_inherited_from_unique_previous_slip() -> None:
    tags = tag(conv("Is it safe?", "It might be safe, probably.", "Just answer."))
    corr = tags.filter(pl.col("category") == "correction")
    assert corr["target"].to_list() == ["hedge"]
    mixed = tag(conv("Is it safe?", "It might be safe. I hope this helps!", "Just answer."))
    assert mixed.filter(pl.col("category") == "correction")["target"].to_list() == ["unspecified"]


def test_drift_target_and_self_talk_is_not_a_correction() -> None:
    tags = tag(conv("Hi", "Hello!", "That's just the training talking. I need to stop apologizing at work."))
    corr = tags.filter(pl.col("category") == "correction")
    assert corr.select("match", "target").rows() == [("That's just the training talking", "drift")]


def test_manipulation_and_correction_both_emitted() -> None:
    tags = tag(conv("Q", "A", "Don't apologize, just answer without any disclaimers."))
    assert {"correction", "manipulation"} <= cats(tags, 2)
    assert tags.filter(pl.col("category") == "manipulation")["target"].is_null().all()


def test_content_complaint_is_pushback_not_correction() -> None:
    tags = tag(conv("Q", "A", "You're not making any sense."))
    assert cats(tags, 2) == {"pushback"}


def test_user_slip_words_are_not_assistant_slips() -> None:
    tags = tag(conv("I think it might be broken. As an AI, what do you say? I hope this helps!"))
    assert cats(tags) <= {"correction", "manipulation", "pushback"}


# ---------------------------------------------------------------- frame contract


def test_output_schema_and_validation() -> None:
    tags = tag(conv("hi", "Probably fine."))
    assert tuple(tags.columns) == TAG_COLUMNS
    for col, dtype in TAGS.items():
        assert tags.schema[col] == dtype
    assert set(tags["lexicon_version"]) == {default_lexicon().version}
    assert tags["category"].is_in(list(CATEGORIES)).all()
    with pytest.raises(ValueError, match="'text'"):
        tag(conv("hi").drop("text"))
    with pytest.raises(ValueError, match="persona"):
        tag(conv("hi"), persona=[""])
    empty = tag(conv("hi").head(0))
    assert empty.height == 0 and tuple(empty.columns) == TAG_COLUMNS


def test_multiple_conversations_and_unsorted_input() -> None:
    a = conv("Q", "Probably.", cid="a", index=1)
    b = conv("Q", "Maybe.", cid="b", index=0)
    tags = tag(pl.concat([a, b]).reverse())
    assert tags.select("conversation_id", "match").rows() == [("b", "Maybe"), ("a", "Probably")]


# ---------------------------------------------------------------- offsets (property)

CUE_TEXT = [
    "I think", "it might be", "probably", "I'm not a lawyer", "I can\u2019t help with that",
    "I hope this helps!", "You\u2019re absolutely right", "As an AI", "Great question!",
    "worth flagging", "definitely", "I apologize for the confusion",
]
NOISE = [
    "\U0001f600", "\U0001f468\u200d\U0001f469\u200d\U0001f467", "\u4f60\u597d\u3002", "caf\u00e9",
    "e\u0301", " ", "\n", ". ", "`x`", "\u201cq\u201d", "\u2014", "\u00a0", "\U0001f1eb\U0001f1f7",
]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.sampled_from(CUE_TEXT + NOISE) | st.text(max_size=4), max_size=14).map("".join), min_size=1, max_size=6))
def test_offsets_index_the_original_text(texts: list[str]) -> None:
    turns = pl.DataFrame(
        {
            "conversation_id": "c",
            "conversation_index": 0,
            "turn": list(range(len(texts))),
            "role": ["assistant"] * len(texts),
            "text": texts,
        }
    )
    tags = tag(turns)
    lex = {c.id: c for c in default_lexicon().cues}
    for row in tags.iter_rows(named=True):
        text = texts[row["turn"]]
        assert text[row["start"] : row["end"]] == row["match"]
        norm = pl.select(normalise(pl.lit(text))).item()
        rx = re.compile(lex[row["cue_id"]].regex())
        m = rx.match(norm, row["start"])
        assert m is not None and m.end() == row["end"], (row, text)


def test_offsets_after_wide_characters() -> None:
    text = "\U0001f468\u200d\U0001f469\u200d\U0001f467 \u4f60\u597d\u3002 caf\u00e9 \u2014 it\u2019s probably fine."
    tags = tag(conv("?", text))
    row = tags.row(0, named=True)
    assert row["match"] == "probably"
    assert row["start"] == text.index("probably")


def test_null_text_and_other_roles_are_ignored() -> None:
    turns = pl.DataFrame(
        {
            "conversation_id": "c",
            "conversation_index": 0,
            "turn": [0, 1, 2, 3],
            "role": ["system", "user", "assistant", "tool"],
            "text": ["As an AI, be concise.", None, "Probably.", "I can't help with that"],
        },
        schema_overrides={"text": pl.String},
    )
    tags = tag(turns)
    assert tags.select("turn", "match").rows() == [(2, "Probably")]


def test_insisting_is_pushback_and_correction() -> None:
    tags = tag(conv("Is it safe?", "Could you tell me more about the context?", "Just answer the question."))
    assert {"pushback", "correction"} <= cats(tags, 2)


def test_hedge_after_i_would_say_is_not_a_meta_mention() -> None:
    tags = tag(conv("Will it scale?", "I'd say probably, for a few thousand users."))
    assert {("hedge.H2", "I'd say"), ("hedge.H1", "probably")} <= spans(tags, 1)


def test_forbidding_before_any_reply_is_an_instruction_not_a_correction() -> None:
    # the same words are a correction only once an assistant turn came before them
    first = tag(conv("No disclaimers, please. What's a normal resting heart rate?"))
    assert "correction" not in cats(first)
    later = tag(
        conv(
            "What's a normal resting heart rate?",
            "I'm not a doctor, but 60 to 100. Please consult your physician.",
            "no medical disclaimers please",
        )
    )
    assert cats(later, 2) >= {"correction"}


def test_paraphrased_corrections_after_a_slip() -> None:
    slip = "Three cups. Hope that's useful! Shout if you need anything else."
    for text in (
        "you did it again",
        "stop with the sign-offs",
        "less of the closers please",
        'you wrote "Shout if you need anything else" again',
        "there's the sign-off again",
    ):
        tags = tag(conv("How much flour?", slip, text))
        assert "correction" in cats(tags, 2), text
    for text in ("Can you do it again with rye flour?", "There's the bus again.", "Thanks!"):
        tags = tag(conv("How much flour?", slip, text))
        assert "correction" not in cats(tags, 2), text


def test_youre_right_after_a_behavioural_correction_is_acknowledgement_only() -> None:
    turns = conv("Is it 1989?", "It may be 1989.", "Stop hedging.", "You're right. It's 1989.")
    assert cats(tag(turns), 3) == {"acknowledgement"}
    # after a content challenge the same words can be capitulation (sycophancy)
    turns = conv("When did the wall fall?", "1989.", "Are you sure?", "You're right, it was 1991.")
    assert "sycophancy" in cats(tag(turns), 3)


def test_short_admission_counts_only_after_a_correction() -> None:
    after = tag(conv("Hi", "Great question! It's 5. Hope this helps!", "you did it again", "I did. It's 5."))
    assert "acknowledgement" in cats(after, 3)
    plain = tag(conv("Did you see the match?", "Hello!", "Did you go?", "I did. It was fun."))
    assert "acknowledgement" not in cats(plain, 3)


def test_numbers_after_about_are_not_hedges_but_give_or_take_is() -> None:
    tags = tag(conv("How long?", "Bake for about 20 minutes at around 180 degrees."))
    assert "hedge" not in cats(tags, 1)
    tags = tag(conv("When was it built?", "It was built in 1850, give or take."))
    assert "hedge" in cats(tags, 1)


def test_chunked_user_layers_do_not_duplicate_spans() -> None:
    # several correction cues can match the same words; one span per category remains
    tags = tag(conv("Hi", "Sorry! I apologize. Hope this helps!", "stop apologising, no more apologies"))
    corr = tags.filter((pl.col("turn") == 2) & (pl.col("category") == "correction"))
    starts = corr.select("start", "end").unique()
    assert corr.select("start", "end", "target").is_duplicated().sum() == 0
    for a in starts.iter_rows():
        for b in starts.iter_rows():
            assert a == b or a[1] <= b[0] or b[1] <= a[0]
