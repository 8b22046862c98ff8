"""The page's rendering and its chat handler, without a browser: answers as prose, figure badges, notes,
copy text, the browser-kept conversation, the Facts table, and the order in which the chat shows things.

Answers here are hand-made `Answer.to_dict()` shapes, so the tests pin the UI's rules, not the bot's wording.
"""

from __future__ import annotations

import html
import inspect
import logging
import re
from types import SimpleNamespace

import pytest

from bot.errors import InvalidQuestionError


def _answer(text: str, citations=(), **kw):  # noqa: ANN001, ANN202
    base = {"text": text, "citations": list(citations), "answerable": True, "question": "q", "standalone_question": "q",
            "figures": [], "notes": [], "backend": "extractive"}
    return {**base, **kw}


def _cite(n: int = 1) -> dict:
    return {"n": n, "doc_id": "d", "section": "S", "start": 0, "end": 5, "text": "x", "score": 1.0}


def _fig(text: str, value: float, status: str = "ok", expected: str | None = None) -> dict:
    return {"text": text, "value": value, "status": status, "fact_id": None, "start": 0, "end": 1, "expected": expected}


# --- kinds, badges, rewrite, notes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "answerable", "badge"),
    [
        ("smalltalk", False, None),
        ("smalltalk", True, None),
        ("refusal", False, "Not in the article"),
        (None, False, "Not in the article"),  # a bot that gives no kind: unanswerable is a refusal
        ("quote", True, None),
        ("correction", True, "Corrects the question"),
    ],
)
def test_badges_follow_the_answers_kind(kind, answerable, badge) -> None:  # noqa: ANN001
    from bot.ui import answer_html

    extra = {"kind": kind} if kind else {}
    out = answer_html(_answer("Hello! Ask me about the article.", answerable=answerable, **extra), 0)
    for text in ("Not in the article", "Corrects the question"):
        assert (text in out) == (text == badge)


def test_notes_are_behind_a_closed_disclosure() -> None:
    from bot.ui import answer_html

    out = answer_html(_answer("A [1]", [_cite()], notes=["answered from the fact table", "<b>x</b>"]), 0)
    assert "Note:" not in out
    details = re.search(r"<details[^>]*>(.*)</details>", out).group(0)
    assert " open" not in details.split(">")[0] and "answered from the fact table" in details
    assert "<b>" not in out and "&lt;b&gt;" in out
    assert "<details" not in answer_html(_answer("A"), 0)


@pytest.mark.parametrize(
    ("asked", "standalone", "shown"),
    [
        ("And Douyin's?", "What was Douyin's GMV in 2024?", True),
        ("What was Douyin's GMV in 2024?", "What was Douyin's GMV in 2024?", False),
        ("what was douyin’s GMV in 2024", "What was Douyin's GMV in 2024?", False),  # case, apostrophe, "?" only
        ("What?", "", False),
    ],
)
def test_searched_as_only_when_the_question_was_rewritten(asked, standalone, shown) -> None:  # noqa: ANN001
    from bot.ui import answer_html

    assert ("Searched as" in answer_html(_answer("A", question=asked, standalone_question=standalone), 0)) is shown


# --- figures -----------------------------------------------------------------------------------------


def test_checked_figures_get_one_quiet_mark_not_a_chip_each() -> None:
    from bot.ui import FIGURES_CHECKED, answer_html

    figs = [_fig("CNY 18.2 billion", 18.2e9), _fig("US$2.8 billion", 2.8e9), _fig("CNY 18.2 billion", 18.2e9)]
    out = answer_html(_answer("The fine was CNY 18.2 billion (US$2.8 billion). [1]", [_cite()], figures=figs), 0)
    assert out.count(FIGURES_CHECKED) == 1
    assert "fig-ok" not in out and "matches the article" not in out


def test_a_computed_figure_shows_its_arithmetic_and_never_the_article_says() -> None:
    from bot.ui import answer_html

    figs = [_fig("CNY 8 trillion", 8e12), _fig("approximately CNY 5.2 trillion", 5.2e12),
            {**_fig("about CNY 2.8 trillion", 2.8e12, "derived", expected="CNY 2.8 trillion"),
             "derivation": "CNY 8 trillion − approximately CNY 5.2 trillion = about CNY 2.8 trillion"}]
    out = answer_html(_answer("Alibaba: CNY 8 trillion. Pinduoduo: approximately CNY 5.2 trillion. A difference of about CNY 2.8 trillion.",
                              figures=figs, kind="computed"), 0)
    assert "CNY 8 trillion − approximately CNY 5.2 trillion = about CNY 2.8 trillion" in html.unescape(out)
    assert "the article says" not in out


def test_a_computed_figure_without_its_arithmetic_says_it_is_computed() -> None:
    from bot.ui import answer_html

    out = answer_html(_answer("Five months passed.", figures=[_fig("48 hours", 48.0), _fig("five months", 5.0, "derived", expected="5 months")]), 0)
    assert "five months: computed, not stated in the article" in out and "the article says" not in out and "48 hours −" not in out


@pytest.mark.parametrize(
    ("status", "verdict"),
    [("mismatch", "differs from the article"), ("period_mismatch", "another period"), ("entity_mismatch", "another company"),
     ("over_precise", "more precise"), ("unsupported", "not found in the article")],
)
def test_a_figure_the_guard_did_not_pass_gets_a_badge(status, verdict) -> None:  # noqa: ANN001
    from bot.ui import FIGURES_CHECKED, answer_html

    expected = None if status == "unsupported" else "CNY 18.2 billion"
    out = answer_html(_answer("It was CNY 19 billion.", figures=[_fig("CNY 19 billion", 19e9, status, expected), _fig("US$2.8 billion", 2.8e9)]), 0)
    assert "CNY 19 billion" in out and verdict in out and FIGURES_CHECKED not in out
    assert ("the article says CNY 18.2 billion" in out) is (expected is not None)


def test_a_correction_shows_the_articles_figures() -> None:
    from bot.ui import answer_html

    out = answer_html(_answer("No: the article gives CNY 18.2 billion. [1]", [_cite()], kind="correction", figures=[_fig("CNY 18.2 billion", 18.2e9)]), 0)
    assert "Corrects the question" in out and "CNY 18.2 billion: as the article states" in out


# --- copy text -----------------------------------------------------------------------------------------


def test_copy_button_carries_the_plain_text() -> None:
    from bot.ui import answer_html

    text = 'Line one with *stars* & <tags> "quoted" [1]\nLine two [2]'
    out = answer_html(_answer(text, [_cite(1), _cite(2)]), 7)
    value = re.search(r'<button class="copy-answer" value="([^"]*)"', out).group(1)
    assert html.unescape(value) == text
    assert "<tags>" not in out


# --- the conversation the browser sends back -------------------------------------------------------


def test_clean_turns_keeps_only_well_formed_turns() -> None:
    from bot.ui import MAX_UI_TURNS, chat_messages, clean_turns

    good = {"id": 0, "question": "q", "answer": _answer("A [1]", [_cite()])}
    bad_cite = {"id": 1, "question": "q", "answer": _answer("B [1]", [{**_cite(), "start": "0; alert(1)"}])}
    junk = [None, "x", {"id": "2", "question": "q", "answer": {}}, {"id": 3, "question": 5, "answer": _answer("C")}, {"id": 4, "question": "q", "answer": {"text": 1}}]
    kept = clean_turns([good, bad_cite, *junk])
    assert [t["id"] for t in kept] == [0, 1] and kept[1]["answer"]["citations"] == []
    assert clean_turns("not a list") == [] and clean_turns(None) == []
    assert len(clean_turns([good] * (MAX_UI_TURNS + 5))) == MAX_UI_TURNS
    assert len(chat_messages(kept)) == 4


# --- the chat handler ----------------------------------------------------------------------------------


class _StubBot:
    """A bot whose ask_stream records when it is first asked for an answer, then yields one."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.started = False

    def ask_stream(self, question, history=None):  # noqa: ANN001, ANN201
        from bot.types import Answer

        self.started = True
        if self.error:
            raise self.error
        yield Answer(text="Provisional", question=question, standalone_question=question)
        yield Answer(text="Final [1]", question=question, standalone_question=question)


def test_the_question_shows_before_the_bot_is_asked() -> None:
    from bot.ui import ask_turns

    bot = _StubBot()
    steps = ask_turns(bot, "What happened?", [])
    chat, turns, box, notice = next(steps)
    assert not bot.started  # nothing asked of the bot yet
    assert chat == [{"role": "user", "content": "What happened?"}] and box == "" and notice == ""
    rest = list(steps)
    assert "Provisional" in rest[0][0][-1]["content"] and "Final" in rest[1][0][-1]["content"]
    stored = rest[-1][1]  # the turns are stored once, with the final answer
    assert stored[-1]["answer"]["text"] == "Final [1]" and stored[-1]["id"] == 0


def test_a_refused_question_is_one_log_line_and_goes_back_in_the_box(caplog) -> None:  # noqa: ANN001
    from bot.ui import ask_turns

    earlier = [{"id": 4, "question": "q", "answer": _answer("A")}]
    with caplog.at_level(logging.INFO, logger="bot.ui"):
        steps = list(ask_turns(_StubBot(InvalidQuestionError("The question is too long.")), "x" * 50, earlier))
    chat, _, box, notice = steps[-1]
    assert len(chat) == 2 and box == "x" * 50 and "The question is too long." in notice
    records = [r for r in caplog.records if r.name == "bot.ui"]
    assert len(records) == 1 and records[0].exc_info is None


def test_a_blank_question_never_shows_in_the_chat() -> None:
    from bot.ui import ask_turns

    steps = list(ask_turns(_StubBot(InvalidQuestionError("The question is empty.")), "   ", []))
    assert len(steps) == 1 and steps[0][0] == [] and "The question is empty." in steps[0][3]


def test_starter_handlers_are_generator_functions() -> None:
    from bot.ui import starter_handler

    handler = starter_handler(_StubBot(), "Why?")
    assert inspect.isgeneratorfunction(handler)  # what Gradio checks to stream its outputs
    assert len(list(handler([]))) == 4


# --- facts -------------------------------------------------------------------------------------------


def _row(quote: str, metric: str, kind: str = "count", unit: str | None = None, period: str | None = None, id_: str = "r") -> SimpleNamespace:
    return SimpleNamespace(id=id_, doc_id="d", entity="Acme <Co>", metric=metric, kind=kind, quote=quote, start=0, end=1,
                           value=None, low=None, high=None, currency=None, scale=None, unit=unit, period=period, qualifier=None)


@pytest.mark.parametrize(
    ("quote", "metric", "kind", "unit", "bare"),
    [
        ("two", "e-commerce rivals", "count", "rivals", True),
        ("triple", "pressures", "count", "pressures", True),
        ("two", "members", "count", "members", False),  # people are measured
        ("46 million", "members", "count", "members", False),
        ("over 900 million", "total users", "count", None, False),
        ("three short years", "horizon", "duration", "year", False),  # not a count
        ("12", "stores", "count", None, False),  # written in digits: a figure, listed
    ],
)
def test_bare_counts_are_not_listed(quote, metric, kind, unit, bare) -> None:  # noqa: ANN001
    from bot.ui import is_bare_count

    assert is_bare_count(_row(quote, metric, kind, unit)) is bare


def test_facts_table_shows_formatted_figures_escaped_and_a_message_for_no_match() -> None:
    from bot.ui import facts_frame, facts_html

    frame = facts_frame([_row("CNY 18.2 billion", "antitrust fine", "money", period="2021-04", id_="fine"), _row("two", "rivals", unit="rivals")])
    out = facts_html(frame)
    assert out.count("<tr>") == 2 and out.count("<th scope") == 4  # header and one row: the bare count is left out
    assert '<button class="fact-chip" value="fine"' in out and "CNY 18.2 billion" in out and "April 2021" in out
    assert "Acme &lt;Co&gt;" in out and "<Co>" not in out
    none = facts_html(frame, "zebra <i>")
    assert "No figure matches “zebra &lt;i&gt;”." in none and "<i>" not in none


def test_a_fact_opens_its_sentence_in_the_source_pane() -> None:
    from bot.ui import fact_source_html

    text = "Title\nFirst. The fine was CNY 18.2 billion in 2021. After.\n"
    doc = SimpleNamespace(text=text, title="T", sections=())
    start = text.index("CNY")
    fact = SimpleNamespace(doc_id="d", start=start, end=start + 16, quote="CNY 18.2 billion", entity="Alibaba", metric="antitrust fine")
    sentence = (text.index("The fine"), text.index(" After."))
    out = fact_source_html({"d": doc}, fact, sentence)
    assert '<mark id="cite-span">The fine was CNY 18.2 billion in 2021.</mark>' in out
    assert fact_source_html({}, fact) is None
