"""One fixture per format (transcripts/formats): exact turns, roles, texts, timestamps.

Expected values are written by hand from the fixture files, not read back."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from toolkit.read import ParseError, formats, read

F = Path(__file__).resolve().parents[1] / "transcripts" / "formats"


def _rows(df):
    return [(r["conversation_id"], r["turn"], r["role"], r["text"]) for r in df.iter_rows(named=True)]


def _ts(*a):
    return datetime(*a, tzinfo=UTC)


def test_formats_lists_every_reader():
    assert set(formats()) >= {"chatgpt", "chatgpt_html", "claude", "sharegpt", "messages",
                              "hh_rlhf", "inspect", "oasst", "pairs", "markdown", "plaintext"}


def test_unknown_format_is_value_error_listing_formats():
    with pytest.raises(ValueError, match="chatgpt"):
        read(F / "pairs.json", format="nope")


def test_chatgpt_html():
    df = read(F / "chatgpt_chat.html")
    assert _rows(df) == [
        ("conv-tea", 0, "user", 'Green or black tea? She said "];" once.'),
        ("conv-tea", 1, "assistant", "Green, for the morning."),
    ]
    assert df["timestamp"].to_list() == [_ts(2023, 11, 14, 22, 13, 21), _ts(2023, 11, 14, 22, 13, 22)]
    assert df["model"].to_list() == [None, "gpt-4"]
    assert df["format"].unique().to_list() == ["chatgpt_html"]


def test_chatgpt_zip_never_opens_user_json():
    rep = read(F / "chatgpt_export.zip", report=True)
    assert _rows(rep.turns) == [
        ("zip-conv", 0, "user", "Is this zipped?"),
        ("zip-conv", 1, "assistant", "Yes, it came from a zip."),
    ]
    assert rep.turns["source"][0].endswith("chatgpt_export.zip:conversations.json")
    acct = rep.skipped.filter(kind="account_file_not_opened")
    assert acct["source"].to_list() == [str(F / "chatgpt_export.zip") + ":user.json"]
    assert rep.skipped.filter(kind="duplicate_view").height == 1  # chat.html not re-read


def test_claude_visible_text_from_blocks_and_timestamps():
    rep = read(F / "claude_conversations.json", report=True)
    df = rep.turns
    # c-hello starts 2025-07-01, before c-dogs (2025-07-06) although it is second in the file
    assert _rows(df) == [
        ("c-hello", 0, "user", "Hi there"),
        ("c-hello", 1, "assistant", "Hello (second try)"),
        ("c-hello", 2, "user", "Tell me a fact"),
        ("c-hello", 3, "assistant", "Octopuses have three hearts."),
        ("c-dogs", 0, "user", "Is dog saliva clean?"),
        ("c-dogs", 1, "assistant", "Dog saliva has enzymes.\n\nIt is mostly water."),
        ("c-dogs", 2, "user", "Thanks! \U0001f9d1\u200d\U0001f373"),
    ]
    assert df["conversation_index"].to_list() == [0, 0, 0, 0, 1, 1, 1]
    dogs = df.filter(conversation_id="c-dogs")["timestamp"].to_list()
    assert dogs == [_ts(2025, 7, 6, 3, 10, 14, 500000), _ts(2025, 7, 6, 3, 10, 20), _ts(2025, 7, 6, 3, 12)]
    assert df["model"].null_count() == df.height
    assert "not supported" not in " ".join(df["text"])
    assert "preferences" not in " ".join(df["text"])  # thinking never leaks
    kinds = dict(rep.skipped.group_by("kind").agg(n=__import__("polars").col("count").sum()).iter_rows())
    assert kinds["reasoning"] == 1 and kinds["tool_block"] == 2 and kinds["summary"] == 1
    assert kinds["inactive_branch"] == 1
    assert rep.notes.filter(kind="naive_timestamp_assumed_utc")["count"].sum() == 1


def test_claude_all_branches():
    df = read(F / "claude_conversations.json", branch="all").filter(conversation_id="c-hello")
    assert df.select("branch", "turn", "text", "active").rows() == [
        ("h2", 0, "Hi there", False), ("h2", 1, "Hello (first try)", False),
        ("h5", 0, "Hi there", True), ("h5", 1, "Hello (second try)", True),
        ("h5", 2, "Tell me a fact", True), ("h5", 3, "Octopuses have three hearts.", True),
    ]


def test_claude_zip_never_opens_users_json():
    rep = read(F / "claude_export.zip", report=True)
    assert _rows(rep.turns) == [("zip-claude", 0, "user", "Hello from a zip"),
                                ("zip-claude", 1, "assistant", "Hello back")]
    assert rep.skipped.filter(kind="account_file_not_opened")["source"].str.ends_with("users.json").all()


def test_sharegpt_json_and_jsonl():
    df = read(F / "sharegpt.json")
    assert _rows(df) == [
        ("abcDEF1_0", 0, "user", "How do I boil an egg?\n\nPlease write in English language."),
        ("abcDEF1_0", 1, "assistant", "Put it in boiling water for nine minutes."),
        ("abcDEF1_1", 0, "system", "You are a cooking helper."),
        ("abcDEF1_1", 1, "user", "Rewrite this dialogue:\nHuman: hi\nAssistant: hello"),
        ("abcDEF1_1", 2, "assistant", "A: hi\nB: hello"),
    ]
    assert df["timestamp"].null_count() == df.height
    df2 = read(F / "sharegpt.jsonl")
    assert _rows(df2) == [
        ("xyz_2", 0, "user", "Name a colour."), ("xyz_2", 1, "assistant", "Teal."),
        ("sharegpt.jsonl:2", 0, "user", "And another?"), ("sharegpt.jsonl:2", 1, "assistant", "Ochre."),
    ]


def test_messages_jsonl():
    rep = read(F / "messages.jsonl", report=True)
    assert _rows(rep.turns) == [
        ("messages.jsonl:1", 0, "system", "Marv is a sarcastic helper."),
        ("messages.jsonl:1", 1, "user", "What is the capital of France?"),
        ("messages.jsonl:1", 2, "assistant", "Paris, as if you did not know."),
        ("messages.jsonl:2", 0, "system", "Marv is a sarcastic helper."),
        ("messages.jsonl:2", 1, "assistant", "I speak first, apparently."),
        ("messages.jsonl:3", 0, "user", "Weather in Oslo?"),
        ("messages.jsonl:3", 1, "assistant", "It is 3 degrees in Oslo."),
    ]
    assert set(rep.skipped["kind"]) == {"tool_call", "tool_message", "non_text_part"}
    hidden = read(F / "messages.jsonl", include_hidden=True).filter(conversation_id="messages.jsonl:3")
    assert hidden["role"].to_list() == ["user", "tool", "tool", "assistant"]


@pytest.mark.parametrize("name", ["hh_rlhf.jsonl", "hh_rlhf.jsonl.gz"])
def test_hh_rlhf_labels_inside_turns_and_branches(name):
    df = read(F / name)
    assert [(r[1], r[2], r[3]) for r in _rows(df)] == [
        (0, "user", "How do I fix a flat tyre?"),
        (1, "assistant", "Find the puncture and patch it."),
        (2, "user", "Thanks."),
        (3, "assistant", "You are welcome."),
        (0, "user", "Write a script where Human: and Assistant: talk.\nHuman: hello\nAssistant: hi"),
        (1, "assistant", "Here it is:\nHuman: hello\nAssistant: hi"),
        (0, "user", "Say nothing."),
    ]
    alld = read(F / name, branch="all").filter(conversation_index=0)
    assert alld.select("branch", "turn", "text").rows()[-1] == ("rejected", 3, "Whatever.")
    assert alld.height == 8


def test_inspect_json_and_eval_agree():
    for name in ("inspect_log.json", "inspect_log.eval"):
        df = read(F / name)
        # sample 2 began at 00:10Z, sample 1 at 20:30-04:00 = 00:30Z: sample 2 comes first
        assert df.select("conversation_id", "turn", "role", "text", "model").rows() == [
            ("ev1/2/epoch1", 0, "user", "What is 1+1?", None),
            ("ev1/2/epoch1", 1, "assistant", "2", "openai/gpt-4o-mini"),
            ("ev1/1/epoch1", 0, "system", "Answer with a number.", None),
            ("ev1/1/epoch1", 1, "user", "What is 2+3?", None),
            ("ev1/1/epoch1", 2, "assistant", "Let me check with the calculator.", "gpt-4o-mini-2024-07-18"),
            ("ev1/1/epoch1", 3, "assistant", "5", "openai/gpt-4o-mini"),
        ], name
        assert df["conversation_index"].to_list() == [0, 0, 1, 1, 1, 1]
        assert "2 plus 3" not in " ".join(df["text"])


def test_oasst_ranked_branches():
    df = read(F / "oasst.jsonl")
    assert _rows(df) == [
        ("tree-2", 0, "user", "Name a prime."),
        ("tree-2", 1, "assistant", "Seven."),
        ("tree-1", 0, "user", "Why is the sky blue?"),
        ("tree-1", 1, "assistant", "Rayleigh scattering favours short wavelengths."),
        ("tree-1", 2, "user", "And sunsets?"),
        ("tree-1", 3, "assistant", "Light crosses more air, so red remains."),
    ]
    assert df["timestamp"].to_list()[:2] == [_ts(2023, 2, 5, 10, 0, 0, 123456), _ts(2023, 2, 5, 10, 1)]
    alld = read(F / "oasst.jsonl", branch="all").filter(conversation_id="tree-1")
    ends = alld.group_by("branch", maintain_order=True).agg(
        __import__("polars").col("text").last(), __import__("polars").col("active").first())
    assert ends.rows() == [("r1", "Because of the ocean.", False),
                           ("r3", "Light crosses more air, so red remains.", True),
                           ("r4", "Dust.", False)]


def test_pairs():
    df = read(F / "pairs.json")
    assert df.group_by("conversation_id", maintain_order=True).len().rows() == [
        ("pairs.json:openings:0", 2), ("pairs.json:conversations:0", 4),
        ("pairs.json:conversations:1", 2), ("pairs.json:endings:0", 2)]
    assert df["role"].to_list()[:4] == ["user", "assistant", "user", "assistant"]
    assert df["text"][5] == "As an AI language model, I have no favourite; four was random."


def test_markdown_chatgpt_exporter():
    rep = read(F / "markdown_chatgpt_exporter.md", report=True)
    assert [(r[1], r[2], r[3]) for r in _rows(rep.turns)] == [
        (0, "user", "How long should I simmer lentil soup?"),
        (1, "assistant", "About 25 minutes. Example timer script:\n\n```python\n"
         "# ## Prompt: this label is inside code and must not split\n"
         'print("## Response: still code")\n```\n\nTaste it near the end.'),
        (2, "user", "Thanks\\-that helps.\n\nHeading inside\n-----\n\nstill my prompt."),
        (3, "assistant", "Enjoy the soup [Site+1](https://example.invalid/?utm_source=chatgpt.com)."),
    ]
    assert rep.turns["timestamp"].null_count() == 4  # US local time without zone: never invented
    assert "sam@example" not in " ".join(rep.turns["text"])
    assert {"timestamp_without_zone", "reasoning", "account_details"} <= set(rep.skipped["kind"])
    assert rep.detections["rule"][0] == "markdown: chatgpt_exporter speaker headings"


def test_markdown_pionxzh():
    df = read(F / "markdown_pionxzh.md")
    assert _rows(df) == [
        ("conv-bread", 0, "user", "Why does bread rise?"),
        ("conv-bread", 1, "assistant", "Yeast makes carbon dioxide.\n\n~~~\n#### You:\n"
         "this fenced line is not a turn\n~~~"),
        ("conv-bread", 2, "user", "Thanks!"),
    ]
    assert df["timestamp"].to_list() == [_ts(2024, 3, 1, 8, 0, 5), _ts(2024, 3, 1, 8, 0, 9), None]


def test_markdown_convoviz():
    df = read(F / "markdown_convoviz.md")
    assert _rows(df) == [
        ("conv-knots", 0, "user", "Which knot holds best?"),
        ("conv-knots", 1, "assistant", "The bowline.\n\n```text\n# Me\nnot a speaker line, it is in a code block\n```"),
        ("conv-knots", 2, "user", "Noted."),
    ]


def test_markdown_claude():
    df = read(F / "markdown_claude.md")
    assert [(r[1], r[2], r[3]) for r in _rows(df)] == [
        (0, "user", "Is green tea caffeinated?"),
        (1, "assistant", "Yes, though less than coffee.\n\n```\n### 3. human — 2025-01-02T09:01:00Z\n"
         "(quoted heading inside code)\n```"),
        (2, "user", "Thanks."),
    ]
    assert df["timestamp"].to_list() == [_ts(2025, 1, 2, 9, 0, 5), _ts(2025, 1, 2, 8, 0, 9, 500000),
                                         _ts(2025, 1, 2, 9, 1)]


def test_plaintext_bom_crlf_and_quoted_labels():
    raw = (F / "plaintext_user_assistant.txt").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw  # the fixture carries both
    df = read(F / "plaintext_user_assistant.txt")
    assert [(r[2], r[3]) for r in _rows(df)] == [
        ("user", "Can you check this log?"),
        ("assistant", "Sure. Paste it."),
        ("user", "Here:\nHuman: hello\nAI: hi\n```\nAssistant: inside a fence\n```"),
        ("assistant", "The log shows a greeting."),
    ]


def test_plaintext_human_ai_and_you_said():
    df = read(F / "plaintext_human_ai.txt")
    assert [(r[2], r[3]) for r in _rows(df)] == [
        ("user", "What rhymes with cat?"), ("assistant", "Hat, mat and bat."),
        ("user", "And with dog?"), ("assistant", "Log.\nFog too."),
    ]
    df = read(F / "plaintext_you_said.txt")
    assert [(r[2], r[3]) for r in _rows(df)] == [
        ("user", "Which planet is brightest?"),
        ("assistant", "Venus is usually the brightest.\nYou said: is a phrase I can quote too."),
        ("user", "Thanks!"), ("assistant", "You're welcome."),
    ]


def test_forced_format_and_wrong_forced_format():
    assert read(F / "plaintext_human_ai.txt", format="plaintext").height == 4
    with pytest.raises(ParseError, match="sharegpt"):
        read(F / "plaintext_human_ai.txt", format="sharegpt")


def test_folder_reads_everything_sorted_and_counts_unknown_files():
    rep = read(F, report=True)
    assert rep.detections.height == 21
    unknown = rep.skipped.filter(kind="unrecognised_file")["source"].to_list()
    assert sorted(Path(u).name for u in unknown) == ["README.md", "_make_zips.py"]
    assert rep.skipped.filter(kind="account_file_not_opened").height == 2
    idx = rep.turns["conversation_index"]
    assert idx.is_sorted() and idx.n_unique() == idx.max() + 1
    assert "ReadReport(" in repr(rep) and "turns in" in rep.summary()
