"""The page in a real Chromium (Debian's /usr/bin/chromium, driven by Playwright's sync API).

Never `playwright install`: CI installs Debian's chromium (`.ci/run`); without it these tests skip.
Each test opens a fresh browser context (its own localStorage) on the module's server, so they do
not depend on one another. Every control is exercised by clicking it, as a reader would; the answers'
wording belongs to the bot and may change, so the tests check what any correct answer has.
"""

from __future__ import annotations

import json
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.ui import CONVERSATION_KEY, fact_charts, load_fact_rows, starter_questions
from tests.test_app import FINE_Q, ROOT, start_server

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
REPORT_SCREENSHOT = ROOT / "eval" / "reports" / "ui.png"
TIMEOUT_MS = 20_000
DESKTOP = {"width": 1400, "height": 1000}
PHONE = {"width": 390, "height": 844}
BOTS = "#chat [data-testid='bot']"
USERS = "#chat [data-testid='user']"
THEME_FONT = "Source Sans Pro"

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium) to run the browser tests", allow_module_level=True)


@pytest.fixture(scope="module")
def served(bot, tmp_path_factory):  # noqa: ANN001, ANN201 - (url, feedback path)
    feedback = tmp_path_factory.mktemp("feedback") / "feedback.jsonl"
    app, url = start_server(bot, feedback)
    try:
        yield url, feedback
    finally:
        app.close()


@pytest.fixture(scope="module")
def browser():  # noqa: ANN201
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def open_page(browser, url: str, **context):  # noqa: ANN001, ANN201 - a Playwright page, its context closed with it
    """A fresh context and page on `url`, dialogs recorded in `page.dialogs`, font responses in `page.fonts`."""
    ctx = browser.new_context(**{"viewport": DESKTOP, **context})
    pg = ctx.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    pg.dialogs = []  # type: ignore[attr-defined]
    pg.fonts = []  # type: ignore[attr-defined]
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    pg.on("response", lambda r: pg.fonts.append((r.status, r.url)) if r.url.endswith((".woff2", ".woff", ".ttf")) else None)
    pg.goto(url)
    pg.locator("#question textarea").wait_for()
    return pg


@pytest.fixture
def page(browser, served) -> Iterator:  # noqa: ANN001
    pg = open_page(browser, served[0])
    try:
        yield pg
    finally:
        pg.context.close()


def wait_for_answers(pg, n: int) -> None:  # noqa: ANN001
    """Wait until the chat shows `n` answers, the last one whole (its copy button comes at its end)."""
    pg.wait_for_function(
        "([sel, n]) => { const b = document.querySelectorAll(sel); return b.length >= n && !!b[b.length - 1].querySelector('button.copy-answer'); }",
        arg=[BOTS, n],
    )


def ask(pg, question: str) -> None:  # noqa: ANN001
    """Type a question, send it with Enter, wait for its answer (one more bot message)."""
    before = pg.locator(BOTS).count()
    box = pg.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    wait_for_answers(pg, before + 1)


def wait_for_mark(pg, text: str) -> None:  # noqa: ANN001
    """Wait until the source pane highlights a span holding `text`."""
    pg.wait_for_function("t => { const m = document.querySelector('#source-pane mark#cite-span'); return !!m && m.innerText.includes(t); }", arg=text)


def assert_no_error_marks(pg) -> None:  # noqa: ANN001
    """No red "Error" anywhere: no error toast, no component in its error state."""
    assert pg.locator(".toast-body.error, .toast-wrap .error").count() == 0
    assert pg.get_by_text("Error", exact=True).count() == 0
    assert pg.get_by_text(re.compile("didn't return enough output values")).count() == 0


def feedback_records(path: Path, pg, n: int) -> list[dict]:  # noqa: ANN001
    """The feedback file's records once it holds at least `n` (appends are fsync'ed but land asynchronously)."""
    for _ in range(100):
        if path.exists() and len(path.read_text().splitlines()) >= n:
            break
        pg.wait_for_timeout(100)
    return [json.loads(line) for line in path.read_text().splitlines()]


def contrast(fg: str, bg: str) -> float:
    """WCAG contrast ratio of two computed CSS colours "rgb(r, g, b)" / "rgba(...)"."""

    def luminance(css: str) -> float:
        r, g, b = (int(v) / 255 for v in re.findall(r"[\d.]+", css)[:3])
        lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


_VISIBLE_JS = """el => { const r = el.getBoundingClientRect();
  if (r.width === 0 || r.bottom <= 0 || r.top >= window.innerHeight || r.left < 0 || r.right > window.innerWidth) return false;
  const first = el.getClientRects()[0];  // an inline span over several lines: its first line's box
  const hit = document.elementFromPoint(first.left + first.width / 2, first.top + first.height / 2);
  return !!hit && (hit === el || el.contains(hit)); }"""


def visible_on_screen(locator) -> bool:  # noqa: ANN001
    """In the viewport and not covered by anything (the element's own centre is what a tap would hit)."""
    return locator.evaluate(_VISIBLE_JS)


# --- chat ------------------------------------------------------------------------------------------


def chart_ids(bot) -> list[str]:  # noqa: ANN001
    """The Facts tab's charts for the bot's fact table: its bar and line charts, then the timeline."""
    return [f"#chart-{c.kind}-{i}" for i, c in enumerate(fact_charts(load_fact_rows(bot, None)[0]))] + ["#chart-timeline"]


def test_every_starter_question_is_answered(page, bot) -> None:  # noqa: ANN001
    starters = starter_questions(bot.documents, load_fact_rows(bot, None)[0])
    assert page.locator("#starters button").count() == len(starters)
    for i, question in enumerate(starters, 1):
        page.locator("#starters button", has_text=question).click()
        wait_for_answers(page, i)
        assert page.locator(USERS).nth(i - 1).inner_text().strip() == question
        assert page.locator(BOTS).nth(i - 1).inner_text().strip()
        assert_no_error_marks(page)


@pytest.mark.parametrize("blank", ["", "   "])
def test_empty_question_shows_a_message_and_the_next_one_is_answered(page, blank) -> None:  # noqa: ANN001
    page.locator("#question textarea").fill(blank)
    page.locator("#ask-button").click()
    page.locator("#notice .notice").wait_for()
    assert "The question is empty" in page.locator("#notice").inner_text()
    assert page.locator(USERS).count() == 0
    assert_no_error_marks(page)
    page.wait_for_function("() => document.activeElement === document.querySelector('#question textarea')")
    ask(page, FINE_Q)
    assert "CNY 18.2 billion" in page.locator(BOTS).last.inner_text()
    assert page.locator("#notice .notice").count() == 0  # the message went with the next question
    assert_no_error_marks(page)


def test_chip_follow_up_feedback_and_new_chat(page, served, bot, tmp_path) -> None:  # noqa: ANN001
    expected = bot.ask(FINE_Q).citations[0]
    ask(page, FINE_Q)
    answer = page.locator(BOTS).last
    assert "CNY 18.2 billion" in answer.inner_text()
    chip = answer.locator("button.cite-chip").first
    assert chip.inner_text().strip() == "1"

    chip.click()
    mark = page.locator("#source-pane mark#cite-span")
    mark.wait_for()
    assert mark.inner_text().strip() == expected.text.strip()
    assert expected.section in page.locator("#source-pane .src-head").inner_text()
    page.wait_for_function(  # scrolled into the pane's view
        """() => { const m = document.querySelector('#source-pane mark#cite-span'); const r = m.getBoundingClientRect();
                   return r.top >= 0 && r.bottom <= window.innerHeight; }"""
    )

    # A follow-up keeps the conversation; its chips open its own sources.
    follow_up = "And what happened to Ant Group's IPO in November 2020?"
    second = bot.ask(follow_up, [(FINE_Q, bot.ask(FINE_Q).text)]).citations[0]
    ask(page, follow_up)
    assert page.locator(USERS).count() == 2
    page.locator(BOTS).last.locator("button.cite-chip").first.click()
    wait_for_mark(page, second.text.strip())

    # Thumbs up comes first; each button is acknowledged and lands in the feedback file with its answer.
    like, dislike = page.locator("#chat button[aria-label='Like']").last, page.locator("#chat button[aria-label='Dislike']").first
    assert like.bounding_box()["x"] < page.locator("#chat button[aria-label='Dislike']").last.bounding_box()["x"]
    like.click()
    page.get_by_text("Thanks for the feedback").wait_for()
    records = feedback_records(served[1], page, 1)
    assert records[-1]["rating"] == "up" and "Ant Group" in records[-1]["question"]
    first_ack = page.locator("#notice .notice").get_attribute("data-key")
    dislike.click()
    page.wait_for_function("k => { const n = document.querySelector('#notice .notice'); return n && n.dataset.key !== k && n.innerText.includes('Thanks'); }",
                           arg=first_ack)
    records = feedback_records(served[1], page, 2)
    assert records[-1]["rating"] == "down" and records[-1]["question"] == FINE_Q

    # Back to the first answer's source for the picture people look at.
    page.locator(BOTS).first.locator("button.cite-chip").first.click()
    wait_for_mark(page, "CNY 18.2 billion")
    shot = tmp_path / "ui.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    REPORT_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, REPORT_SCREENSHOT)

    # New chat clears the conversation and the source pane.
    page.locator("#new-chat").click()
    page.wait_for_function("sel => document.querySelectorAll(sel).length === 0", arg=USERS)
    page.wait_for_function("() => !document.querySelector('#source-pane mark')")
    assert_no_error_marks(page)


def test_answers_read_as_prose(page) -> None:  # noqa: ANN001
    ask(page, FINE_Q)
    answer = page.locator(BOTS).last
    text = answer.inner_text()
    assert "Note:" not in text and "matches the article" not in text
    assert answer.locator(".fig-ok").count() == 0 and answer.locator(".figs-checked").count() == 1
    notes = answer.locator("details.answer-notes")
    assert notes.count() <= 1 and (notes.count() == 0 or not notes.evaluate("d => d.open"))
    assert "Searched as" not in text  # no rewrite for a standalone question


def test_copy_button_copies_the_plain_answer_text(browser, served, bot) -> None:  # noqa: ANN001
    pg = open_page(browser, served[0])
    try:
        pg.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=served[0].rstrip("/"))
        ask(pg, FINE_Q)
        button = pg.locator(BOTS).last.locator("button.copy-answer")
        button.click()
        pg.wait_for_function("b => b.textContent === 'Copied'", arg=button.element_handle())
        copied = pg.evaluate("() => navigator.clipboard.readText()")
        assert copied == bot.ask(FINE_Q).text.strip()
        assert "<" not in copied and "cite-chip" not in copied and "&#" not in copied
    finally:
        pg.context.close()


def test_conversation_survives_a_reload(page) -> None:  # noqa: ANN001
    ask(page, FINE_Q)
    page.wait_for_function("k => !!localStorage.getItem(k)", arg=CONVERSATION_KEY)  # stored before the reload
    page.reload()
    page.locator("#question textarea").wait_for()
    wait_for_answers(page, 1)
    assert page.locator(USERS).first.inner_text().strip() == FINE_Q
    restored = page.locator(BOTS).first
    assert "CNY 18.2 billion" in restored.inner_text()
    restored.locator("button.cite-chip").first.click()  # the restored turn still cites
    wait_for_mark(page, "CNY 18.2 billion")
    ask(page, "And when was that?")  # and the conversation goes on from it
    assert page.locator(USERS).count() == 2

    page.locator("#new-chat").click()
    page.wait_for_function("sel => document.querySelectorAll(sel).length === 0", arg=USERS)
    page.wait_for_timeout(300)
    page.reload()
    page.locator("#question textarea").wait_for()
    page.wait_for_timeout(1000)
    assert page.locator(USERS).count() == 0  # a new chat stays new


@pytest.mark.parametrize("payload", ["<img src=x onerror=alert(1)>", "<script>alert(1)</script> and <b>bold</b> [1](javascript:alert(1))"])
def test_markup_in_a_question_shows_as_text(page, payload) -> None:  # noqa: ANN001
    ask(page, payload)
    user = page.locator(USERS).last
    assert user.inner_text().strip() == payload
    page.wait_for_timeout(500)  # give an injected handler time to fire
    assert page.dialogs == []  # type: ignore[attr-defined]
    assert page.locator("#chat img[src='x'], #chat script, #chat b, #chat a[href^='javascript']").count() == 0
    # The answer's chips still open the (escaped) article.
    chips = page.locator(BOTS).last.locator("button.cite-chip")
    if chips.count():
        chips.first.click()
        page.locator("#source-pane mark#cite-span").wait_for()
        assert page.dialogs == []  # type: ignore[attr-defined]


# --- streaming: the question shows before the bot has said anything ----------------------------------


class GatedBot:
    """The real bot, except that `ask_stream` waits for the test before each answer it yields.

    The first wait is before anything: what the page shows then came from the UI alone. Then a
    provisional answer (as an LLM stream yields), a second wait, and the bot's real final answer.
    """

    PROVISIONAL = "Provisional words of a streaming answer"

    def __init__(self, bot) -> None:  # noqa: ANN001
        self._bot = bot
        self.gates = [threading.Event(), threading.Event()]

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self._bot, name)

    def ask_stream(self, question: str, history=None):  # noqa: ANN001, ANN201
        from bot.types import Answer

        final = list(self._bot.ask_stream(question, history=history))[-1]  # raises a BotError before any wait
        self.gates[0].wait(TIMEOUT_MS / 1000)
        yield Answer(text=self.PROVISIONAL, question=question, standalone_question=question, notes=["provisional: figures not checked yet"], backend="llm")
        self.gates[1].wait(TIMEOUT_MS / 1000)
        yield final


def test_question_shows_at_once_and_answers_stream_in(browser, bot, tmp_path) -> None:  # noqa: ANN001
    gated = GatedBot(bot)
    app, url = start_server(gated, tmp_path / "feedback.jsonl")
    pg = open_page(browser, url)
    try:
        pg.locator("#question textarea").fill(FINE_Q)
        pg.locator("#question textarea").press("Enter")
        pg.wait_for_function("([sel, q]) => [...document.querySelectorAll(sel)].some(m => m.innerText.trim() === q)", arg=[USERS, FINE_Q])
        assert pg.locator(BOTS).count() == 0  # shown while the bot has not yielded anything
        assert pg.locator("#question textarea").input_value() == ""
        gated.gates[0].set()
        pg.wait_for_function("([sel, t]) => { const b = document.querySelectorAll(sel); return b.length && b[b.length - 1].innerText.includes(t); }",
                             arg=[BOTS, GatedBot.PROVISIONAL])
        gated.gates[1].set()
        pg.wait_for_function("sel => { const b = document.querySelectorAll(sel); return b.length === 1 && b[0].innerText.includes('CNY 18.2 billion'); }", arg=BOTS)
        assert GatedBot.PROVISIONAL not in pg.locator(BOTS).last.inner_text()
        assert_no_error_marks(pg)
    finally:
        for gate in gated.gates:
            gate.set()
        pg.context.close()
        app.close()


# --- facts tab -------------------------------------------------------------------------------------


def test_facts_tab_lists_formatted_figures_filters_and_shows_sources(page, bot) -> None:  # noqa: ANN001
    page.get_by_role("tab", name="Facts").click()
    table = page.locator("#facts-table table")
    table.wait_for()
    assert table.locator("thead th").count() in (4, 5)
    text = table.inner_text()
    assert "CNY 18.2 billion" in text and "April 2021" in text
    assert "e-commerce rivals" not in text  # a bare "two" is not a figure worth a row
    assert not re.search(r"\b18200000000\b|\b1\.82e", text)

    page.locator("#facts-filter textarea, #facts-filter input").first.fill("cloud market share")
    page.wait_for_function(
        "() => { const t = document.querySelector('#facts-table'); return t && t.innerText.includes('Tencent Cloud') && !t.innerText.includes('Pinduoduo'); }"
    )
    page.locator("#facts-table button.fact-chip", has_text="33%").click()  # a figure shows its sentence in the source pane
    wait_for_mark(page, "33%")

    page.locator("#facts-filter textarea, #facts-filter input").first.fill("zebra crossings")
    page.get_by_text("No figure matches").wait_for()
    assert "zebra crossings" in page.locator("#facts-table").inner_text()

    charts = chart_ids(bot)
    assert len(charts) == 4 and page.locator(".fact-chart").count() == len(charts)  # two bar charts, a line, the timeline
    for chart in charts:
        page.locator(f"{chart} canvas, {chart} svg").first.wait_for()
    assert "June 2025" in page.locator("#timeline-list").inner_text()
    assert_no_error_marks(page)


# --- dark mode, a phone, fonts -----------------------------------------------------------------------


def test_dark_mode_highlight_is_readable(browser, served) -> None:  # noqa: ANN001
    pg = open_page(browser, served[0], color_scheme="dark")
    try:
        assert pg.evaluate("() => document.body.classList.contains('dark')")
        ask(pg, FINE_Q)
        pg.locator(BOTS).last.locator("button.cite-chip").first.click()
        mark = pg.locator("#source-pane mark#cite-span")
        mark.wait_for()
        fg, bg = mark.evaluate("m => [getComputedStyle(m).color, getComputedStyle(m).backgroundColor]")
        assert contrast(fg, bg) >= 4.5, (fg, bg)
    finally:
        pg.context.close()


def test_phone_chip_shows_the_source_without_leaving_the_answer(browser, served) -> None:  # noqa: ANN001
    pg = open_page(browser, served[0], viewport=PHONE, has_touch=True)
    try:
        ask(pg, FINE_Q)
        chip = pg.locator(BOTS).last.locator("button.cite-chip").first
        chip.scroll_into_view_if_needed()
        chip.tap()
        mark = pg.locator("#source-pane mark#cite-span")
        mark.wait_for()
        pg.wait_for_function(f"() => ({_VISIBLE_JS})(document.querySelector('#source-pane mark#cite-span'))")
        assert visible_on_screen(mark)
        assert visible_on_screen(chip), "the answer's chip went out of view or under the source"
        pg.locator("#source-pane button.src-close").click()  # the drawer closes again
        pg.wait_for_function("() => !document.body.classList.contains('src-drawer-open')")
        assert visible_on_screen(chip)
    finally:
        pg.context.close()


def test_phone_facts_table_and_charts_fit(browser, served, bot) -> None:  # noqa: ANN001
    pg = open_page(browser, served[0], viewport=PHONE)
    try:
        pg.get_by_role("tab", name="Facts").click()
        pg.locator("#facts-table table").wait_for()
        width = pg.evaluate("() => window.innerWidth")
        # No column is hidden: the table does not scroll sideways and every figure lies inside the screen.
        assert pg.evaluate("() => { const t = document.querySelector('#facts-table table'); return t.scrollWidth <= t.parentElement.clientWidth + 1; }")
        rights = pg.locator("#facts-table tbody td:nth-child(3)").evaluate_all("cells => cells.map(c => c.getBoundingClientRect().right)")
        assert rights and max(rights) <= width
        spilled = pg.locator("#facts-table tbody td").evaluate_all("cells => cells.filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.innerText)")
        assert spilled == []  # nothing runs into the next column
        for chart in chart_ids(bot):
            block = pg.locator(chart)
            block.scroll_into_view_if_needed()
            block.locator("svg").first.wait_for()
            box = block.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1, chart
            # Every text of the chart (title, axis labels, legend) lies whole inside its drawing.
            cut = block.locator("svg").first.evaluate(
                """svg => { const s = svg.getBoundingClientRect();
                   return [...svg.querySelectorAll('text')].filter(t => t.textContent.trim()).filter(t => { const r = t.getBoundingClientRect();
                     return r.left < s.left - 1 || r.right > s.right + 1; }).map(t => t.textContent); }"""
            )
            assert cut == [], f"{chart}: {cut}"
            texts = block.locator("svg text").evaluate_all("ts => ts.map(t => t.textContent)")
            assert not any(t.endswith("…") for t in texts), f"{chart}: {texts}"  # no label shortened by Vega
    finally:
        pg.context.close()


def test_bold_text_is_drawn_in_the_theme_font(page) -> None:  # noqa: ANN001
    ask(page, FINE_Q)
    page.locator(BOTS).last.locator("button.cite-chip").first.click()
    bold = page.locator("#source-pane .src-head strong")
    bold.wait_for()
    family, weight = bold.evaluate("e => [getComputedStyle(e).fontFamily, getComputedStyle(e).fontWeight]")
    assert family.strip("'\" ").startswith(THEME_FONT) and int(weight) >= 700
    page.evaluate("() => document.fonts.ready")
    loaded = page.evaluate(
        "f => [...document.fonts].filter(x => x.family.replace(/[\"']/g, '') === f && x.status === 'loaded').map(x => x.weight)", THEME_FONT
    )
    assert "700" in loaded or "bold" in loaded, loaded
    assert page.fonts and all(status == 200 for status, _ in page.fonts), page.fonts  # type: ignore[attr-defined]
