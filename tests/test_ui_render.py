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


# --- nothing in the UI is about one article ------------------------------------------------------------


def test_the_ui_module_names_nothing_of_the_shipped_article() -> None:
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    source = (root / "bot" / "ui.py").read_text(encoding="utf-8")
    names = set()
    for path in (root / "corpus").glob("*.facts.jsonl"):
        names |= {json.loads(line)["entity"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}
    for path in (root / "corpus").glob("*.knowledge.json"):
        entities = json.loads(path.read_text(encoding="utf-8")).get("entities", {})
        names |= set(entities) | {alias for aliases in entities.values() for alias in aliases}
    assert names
    found = sorted(n for n in names if re.search(rf"(?<!\w){re.escape(n)}(?!\w)", source, re.IGNORECASE))
    assert found == []
    for path in (root / "corpus").glob("*.facts.jsonl"):  # nor is any chart keyed on one of its metrics (a phrase or an acronym)
        metrics = {json.loads(line)["metric"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}
        keyed = [m for m in metrics if (" " in m or m.isupper()) and re.search(rf"(?<![\w-]){re.escape(m)}(?![\w-])", source, re.IGNORECASE)]
        assert sorted(keyed) == []


# --- the header ----------------------------------------------------------------------------------------


def _doc(doc_id: str, title: str, sections=(), text: str = "", path: str = "") -> SimpleNamespace:  # noqa: ANN001
    return SimpleNamespace(doc_id=doc_id, title=title, sections=tuple(sections), text=text, path=path or f"{doc_id}.txt")


def _section(title: str, level: int = 1, heading: bool = True) -> SimpleNamespace:
    return SimpleNamespace(title=title, level=level, start=10, end=20, heading_start=0, heading_end=5 if heading else 0)


@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_the_header_names_every_document(n: int) -> None:
    from bot.ui import header_markdown

    docs = {f"d{i}": _doc(f"d{i}", f"Report number {i} <on *things*>") for i in range(n)}
    out = header_markdown(docs)
    assert all(f"Report number {i}" in out for i in range(n))
    assert "<on" not in out and "*things*" not in out  # titles are text, never markup
    assert ("<details" in out) is (n > 3) and (f"{n} articles" in out) is (n > 1)
    assert "No article is loaded" in header_markdown({})


# --- starter questions ---------------------------------------------------------------------------------


def _fact(id_: str, entity: str, metric: str, kind: str = "percent", value: float | None = 10.0, period: str | None = None,
          doc_id: str = "d", start: int = 0, **kw) -> SimpleNamespace:  # noqa: ANN003
    base = {"quote": f"{value}%", "end": start + 1, "low": None, "high": None, "currency": None, "scale": None, "unit": None, "qualifier": None}
    return SimpleNamespace(id=id_, doc_id=doc_id, entity=entity, metric=metric, kind=kind, value=value, period=period, start=start, **{**base, **kw})


def test_starters_come_from_the_documents_rows_and_headings() -> None:
    from bot.ui import ABOUT_QUESTION, MAX_STARTERS, starter_questions

    doc = _doc("d", "T", [_section("Title", 0), _section("Introduction", 1, heading=False), _section("The Long Winter (2019-2020)"), _section("Why Prices Fell?")])
    rows = [
        _fact("c", "Acme", "stores", kind="count", value=12.0, quote="12", start=1),
        _fact("s", "Acme", "market share", period="2022", start=5),
        _fact("m", "Acme", "net loss", kind="money", value=2e9, period="2021-04", currency="EUR", quote="EUR 2 billion", start=9),
        _fact("m2", "Bolt", "net loss", kind="money", value=1e9, period="2021", currency="EUR", quote="EUR 1 billion", start=12),
    ]
    got = starter_questions({"d": doc}, rows)
    assert got == ("What was Acme's net loss in 2021?", "What does the article say about the Long Winter?",
                   "What was Acme's market share in 2022?", ABOUT_QUESTION)
    assert got == starter_questions({"d": doc}, list(reversed(rows)))  # deterministic: the article's order, not the table's
    assert len(got) <= MAX_STARTERS


def test_starters_without_rows_or_headings_still_ask_about_the_article() -> None:
    from bot.ui import ABOUT_QUESTION, section_question, starter_questions

    assert starter_questions({"d": _doc("d", "T")}, []) == (ABOUT_QUESTION,)
    assert starter_questions({}, []) == (ABOUT_QUESTION,)
    assert section_question(_doc("d", "T", [_section("Part 2: The Quiet Years")])) == "What does the article say about the Quiet Years?"
    assert section_question(_doc("d", "T", [_section("Why did it fail?")])) == "Why did it fail?"
    assert section_question(_doc("d", "T", [_section("Summary", 0, heading=False)])) is None


def test_starters_take_turns_across_documents_and_stop_at_four() -> None:
    from bot.ui import ABOUT_QUESTION, starter_questions

    docs = {d: _doc(d, d.upper(), [_section(f"Heading {d}")]) for d in ("a", "b", "c")}
    rows = [_fact(f"{d}1", f"Firm {d}", "revenue", kind="money", value=1e6, doc_id=d, currency="USD") for d in docs]
    got = starter_questions(docs, rows)
    assert got == ("What was Firm a's revenue?", "What was Firm b's revenue?", "What was Firm c's revenue?", ABOUT_QUESTION)
    assert starter_questions(docs, rows, limit=2) == ("What was Firm a's revenue?", ABOUT_QUESTION)


# --- charts from the shape of the fact rows --------------------------------------------------------------


def _share(entity: str, value: float | None, start: int, **kw) -> SimpleNamespace:  # noqa: ANN003
    return _fact(f"{entity.lower()}-{kw.get('period') or 'x'}", entity, kw.pop("metric", "market share"), value=value, start=start, **kw)


def test_one_metric_across_three_entities_is_a_bar_chart() -> None:
    from bot.ui import fact_charts

    rows = [_fact(f"{e}-rev", e, "revenue", kind="money", value=v, currency="EUR", scale=s, period="2023", quote=q, start=i, **extra)
            for i, (e, v, s, q, extra) in enumerate([
                ("Acme", 2.5e9, "billion", "EUR 2.5 billion", {}), ("Bolt", 900e6, "million", "EUR 900 million", {}),
                ("Crux", 1.2e9, "billion", "about EUR 1.2 billion", {"qualifier": "about"}), ("Acme", 9e9, "billion", "EUR 9 billion", {})])]
    (chart,) = fact_charts(rows)
    assert chart.kind == "bar" and chart.unit == "EUR billion" and chart.title == "Revenue (EUR billion, 2023)"
    assert dict(zip(chart.frame["label"], chart.frame["value"], strict=True)) == {"Acme": 2.5, "Bolt": 0.9, "Crux": 1.2}  # one bar an entity
    assert list(chart.frame["basis"]) == ["as stated", "as stated", "approximate"]
    assert "Acme-rev, Bolt-rev, Crux-rev" in chart.caption and "about EUR 1.2 billion" in chart.caption


@pytest.mark.parametrize(
    "change",
    [
        {"entities": 2},  # two entities: the table says as much
        {"currency": ["EUR", "USD", "EUR"]},  # another currency is another metric
        {"period": ["2022", "2023", "2023"]},  # another period is another comparison
        {"kind": ["percent", "percent", "count"]},
        {"metric": ["market share", "market share", "cloud revenue"]},
    ],
)
def test_rows_that_do_not_line_up_make_no_bar_chart(change) -> None:  # noqa: ANN001
    from bot.ui import bar_charts

    n = change.get("entities", 3)
    pick = lambda key, i, default: change.get(key, [default] * 3)[i]  # noqa: E731
    rows = [_fact(f"r{i}", f"Firm {i}", pick("metric", i, "market share"), kind=pick("kind", i, "percent"), value=10.0 + i,
                  currency=pick("currency", i, None), period=pick("period", i, None), start=i) for i in range(n)]
    assert bar_charts(rows) == []


def test_synonymous_metrics_make_one_bar_chart() -> None:
    from bot.ui import bar_charts

    rows = [_share("Acme", 30.0, 1), _share("Bolt", 20.0, 2, metric="share of the market"), _share("Crux", 10.0, 3)]
    (chart,) = bar_charts(rows)
    assert chart.title == "Market share (%)" and list(chart.frame["value"]) == [30.0, 20.0, 10.0]


def test_one_entitys_metric_over_periods_is_a_line_chart_in_date_order() -> None:
    from bot.ui import fact_charts

    rows = [_share("Acme", None, 1, period="2024", low=38.0, high=42.0, quote="around 40%"),
            _share("Acme", 50.0, 2, period="2021"), _share("Acme", 45.0, 3, period="2022-06"), _share("Bolt", 5.0, 4, period="2021")]
    (chart,) = fact_charts(rows)
    assert chart.kind == "line" and chart.title == "Acme's market share (%)" and chart.unit == "%"
    assert list(chart.frame["label"]) == ["2021", "June 2022", "2024 (≈)"] and list(chart.frame["value"]) == [50.0, 45.0, 40.0]
    assert "around 40%" in chart.caption and "the middle of the stated range" in chart.caption


def test_a_change_or_a_vague_range_is_not_plotted() -> None:
    from bot.ui import fact_charts

    rows = [_share("Acme", None, 1, low=3.0, high=13.0, qualifier="from", period="2023"),
            _share("Acme", None, 2, low=100.0, high=999.0, qualifier="triple-digit", period="2024"), _share("Acme", 7.0, 3, period="2022")]
    assert fact_charts(rows) == []


def test_chart_titles_fit_a_phone() -> None:
    from bot.ui import CHART_TITLE_MAX, fact_charts

    metric = "share of the domestic online marketplace for second-hand consumer electronics"
    rows = [_share(e, 10.0 + i, i, metric=metric, period="2023-11") for i, e in enumerate(("Acme Holdings International", "Bolt", "Crux"))]
    rows += [_share("Acme Holdings International", 5.0, 9, metric=metric, period="2019")]
    charts = fact_charts(rows)
    assert [c.kind for c in charts] == ["bar", "line"]
    for chart in charts:
        assert 0 < len(chart.title) <= CHART_TITLE_MAX and chart.title.endswith(" (%)")  # cut at a word, the unit kept


def test_no_rows_no_charts() -> None:
    from bot.ui import fact_charts

    assert fact_charts([]) == []
    assert fact_charts([_row("two", "rivals", unit="rivals")]) == []  # a bare count is no figure to plot


# --- Markdown articles in the source pane ------------------------------------------------------------------

MD = """# The Widget Report

A short summary of **widgets** and _gadgets_.

## Sales in 2023

Acme sold **1.2 million widgets** in 2023, up from 900,000.
The paragraph goes on with `code`, a [link](javascript:alert(1)) and <b>markup</b>.

- First point: widgets are *small*.
- Second point.
  It goes on.

1. One
2. Two

### Costs \\# and more

Plain 5 * 3 and snake_case_name.
"""


def _md_doc(text: str = MD):  # noqa: ANN202
    from bot.corpus import parse_document

    return parse_document("w", text, path="corpus/w.md", markdown=True)


def _marked(out: str) -> str:
    return html.unescape("".join(re.findall(r"<mark[^>]*>(.*?)</mark>", out, re.S)))


def _shown(out: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", out))


def test_markdown_renders_headings_bold_and_lists() -> None:
    from bot.ui import article_html

    out = article_html(_md_doc())
    assert "<h2>The Widget Report</h2>" in out and "<h3>Sales in 2023</h3>" in out and "<h4>Costs # and more</h4>" in out
    assert "#" not in _shown(out).replace("Costs # and", "")  # no heading marks shown
    assert "<strong>1.2 million widgets</strong>" in out and "<em>gadgets</em>" in out and "<code>code</code>" in out
    assert "<ul><li>First point: widgets are <em>small</em>.</li><li>Second point.\n  It goes on.</li></ul>" in out
    assert "<ol><li>One</li><li>Two</li></ol>" in out
    assert "**" not in out and "javascript" not in out and "<b>" not in out and "&lt;b&gt;markup&lt;/b&gt;" in out
    assert "Plain 5 * 3 and snake_case_name." in out  # not emphasis


def test_a_txt_article_is_not_read_as_markdown() -> None:
    from bot.ui import article_html

    doc = _doc("d", "T", text="Title\nSome **bold** text.\n- a dash\n", path="corpus/d.txt")
    out = article_html(doc)
    assert "<p>Some **bold** text.</p>" in out and "<p>- a dash</p>" in out and "<strong>" not in out


@pytest.mark.parametrize(
    ("first", "last", "shown"),
    [
        ("Acme sold", "900,000.", "Acme sold 1.2 million widgets in 2023, up from 900,000."),  # across bold
        ("million", "widgets**", "million widgets"),
        ("widgets are", "Second", "widgets are small.Second"),  # across two list items: the bullet is not text
        ("2023\n", "Acme", "2023Acme"),  # from a heading into a paragraph
        ("**1.2", "1.2", "1.2"),  # starting on the bold marks
        ("Costs", "more", "Costs # and more"),
    ],
)
def test_markdown_marks_exactly_the_cited_span(first, last, shown) -> None:  # noqa: ANN001
    from bot.ui import article_html

    doc = _md_doc()
    start, end = MD.index(first), MD.index(last, MD.index(first)) + len(last)
    out = article_html(doc, (start, end))
    assert _marked(out) == shown
    assert out.count('id="cite-span"') == 1 and out.index("<mark") == out.index('<mark id="cite-span">')
    assert re.sub(r"</?mark[^>]*>", "", out) == article_html(doc)  # marking changes nothing else


def test_marking_the_whole_markdown_article_marks_all_it_shows() -> None:
    from bot.ui import article_html

    for text in (MD, MD.replace("\n", "\r\n")):
        doc = _md_doc(text)
        out = article_html(doc, (0, len(text)))
        assert _marked(out) == _shown(article_html(doc))
        half = len(text) // 2  # two halves mark what the whole does
        assert _marked(article_html(doc, (0, half))) + _marked(article_html(doc, (half, len(text)))) == _marked(out)


def test_fenced_code_and_rules_in_markdown() -> None:
    from bot.ui import article_html

    text = "# T\n\nIntro.\n\n```\n**not bold** <x>\n\nline 3\n```\n\n---\n\nAfter.\n"
    out = article_html(_md_doc(text))
    assert "<pre><code>**not bold** &lt;x&gt;\n\nline 3</code></pre><hr><p>After.</p>" in out


def test_the_facts_status_says_which_rows_were_drafted_by_rule() -> None:
    from bot.ui import load_fact_rows

    rows = [_fact("a", "Acme", "share", start=1), _fact("b", "Bolt", "share", start=2, reviewed=False)]
    _, status = load_fact_rows(SimpleNamespace(facts=SimpleNamespace(facts=rows)), None)
    assert status.startswith("2 figures stated in the article") and "1 of them were drafted from the text by rule" in status
    _, status = load_fact_rows(SimpleNamespace(facts=SimpleNamespace(facts=rows[:1])), None)
    assert "drafted" not in status
