"""The page in a real Chromium (Debian's /usr/bin/chromium, driven by Playwright's sync API).

Never `playwright install`: CI installs Debian's chromium (`.ci/run`); without it these tests skip.
Each test opens a fresh page on the module's server, so they do not depend on one another.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.test_app import FINE_Q, ROOT, start_server

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
REPORT_SCREENSHOT = ROOT / "eval" / "reports" / "ui.png"
TIMEOUT_MS = 20_000

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


@pytest.fixture
def page(browser, served):  # noqa: ANN001, ANN201
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.dialogs = dialogs  # type: ignore[attr-defined]
    pg.goto(served[0])
    pg.locator("#question textarea").wait_for()
    try:
        yield pg
    finally:
        context.close()


def ask(pg, question: str) -> None:  # noqa: ANN001
    """Type a question, send it with Enter, wait for its answer (one more bot message)."""
    bots = pg.locator("#chat [data-testid='bot']")
    before = bots.count()
    box = pg.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    pg.wait_for_function(
        "n => document.querySelectorAll(\"#chat [data-testid='bot']\").length > n", arg=before, timeout=TIMEOUT_MS
    )


def test_answer_chip_opens_the_highlighted_source(page, served, bot, tmp_path) -> None:  # noqa: ANN001
    expected = bot.ask(FINE_Q).citations[0]
    ask(page, FINE_Q)
    answer = page.locator("#chat [data-testid='bot']").last
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
    assert page.locator("#chat [data-testid='user']").count() == 2
    page.locator("#chat [data-testid='bot']").last.locator("button.cite-chip").first.click()
    page.wait_for_function("t => document.querySelector('#source-pane mark#cite-span').innerText.trim() === t", arg=second.text.strip())

    # Thumbs up on the second answer lands in the feedback file, attached to that answer.
    page.locator("#chat button[aria-label='Like']").last.click()
    page.wait_for_function("() => document.querySelectorAll(\"#chat button[aria-label='Liked']\").length === 1")
    feedback = served[1]
    page.wait_for_timeout(300)
    for _ in range(50):
        if feedback.exists() and feedback.read_text().strip():
            break
        page.wait_for_timeout(100)
    records = [json.loads(line) for line in feedback.read_text().splitlines()]
    assert records[-1]["rating"] == "up" and "Ant Group" in records[-1]["question"]

    # Back to the first answer's source for the picture people look at.
    page.locator("#chat [data-testid='bot']").first.locator("button.cite-chip").first.click()
    page.wait_for_function("() => document.querySelector('#source-pane mark#cite-span').innerText.includes('CNY 18.2 billion')")
    shot = tmp_path / "ui.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    REPORT_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, REPORT_SCREENSHOT)

    # New chat clears the conversation.
    page.locator("#new-chat").click()
    page.wait_for_function("() => document.querySelectorAll('#chat [data-testid=\"user\"]').length === 0")


@pytest.mark.parametrize("payload", ["<img src=x onerror=alert(1)>", "<script>alert(1)</script> and <b>bold</b> [1](javascript:alert(1))"])
def test_markup_in_a_question_shows_as_text(page, payload) -> None:  # noqa: ANN001
    ask(page, payload)
    user = page.locator("#chat [data-testid='user']").last
    assert user.inner_text().strip() == payload
    page.wait_for_timeout(500)  # give an injected handler time to fire
    assert page.dialogs == []  # type: ignore[attr-defined]
    assert page.locator("#chat img[src='x'], #chat script, #chat b, #chat a[href^='javascript']").count() == 0
    # The answer's chips still open the (escaped) article.
    chips = page.locator("#chat [data-testid='bot']").last.locator("button.cite-chip")
    if chips.count():
        chips.first.click()
        page.locator("#source-pane mark#cite-span").wait_for()
        assert page.dialogs == []  # type: ignore[attr-defined]


def test_facts_tab_filters_the_table_and_draws_charts(page) -> None:  # noqa: ANN001
    page.get_by_role("tab", name="Facts").click()
    page.locator("#facts-table").wait_for()
    page.locator("#facts-filter textarea, #facts-filter input").first.fill("cloud market share")
    page.wait_for_function(
        "() => { const t = document.querySelector('#facts-table'); return t && t.innerText.includes('Tencent Cloud') && !t.innerText.includes('Pinduoduo'); }"
    )
    for chart in ("#chart-gmv", "#chart-cloud", "#chart-share", "#chart-timeline"):
        page.locator(f"{chart} canvas, {chart} svg").first.wait_for()
    assert "June 2025" in page.locator("#timeline-list").inner_text()


def test_empty_question_shows_the_bots_message(page) -> None:  # noqa: ANN001
    page.locator("#question textarea").fill("   ")
    page.locator("#ask-button").click()
    page.get_by_text("The question is empty").first.wait_for()
    assert page.locator("#chat [data-testid='user']").count() == 0
