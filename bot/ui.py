"""The web app: a Gradio 6 Blocks UI over a loaded `Bot`, plus the `/ask` HTTP endpoint.

    from bot import Bot
    from bot.ui import create_app
    create_app(Bot.load()).launch(server_name="127.0.0.1", server_port=7860)

Only `app.py` (and tests) import this module; nothing on the query path imports gradio.

How citations work in the page: every `[n]` marker of an answer becomes
`<button class="cite-chip" value="TURN:N">N</button>` inside the bot's chat message (Gradio's chat
sanitiser keeps `<button>`, `class`, `value` and `title`, but strips `data-*` attributes, hence
`value`); a figure of the Facts tab is `<button class="fact-chip" value="FACT_ID">`. One
document-level click listener, installed by the source pane's `js_on_load`, turns a click on any chip
into the source pane's `click` event carrying `{"cite": "TURN:N"}` or `{"fact": "FACT_ID"}`; Python
answers with the whole article, HTML-escaped, the cited span wrapped in `<mark id="cite-span">`, and
the pane's `watch('value', ...)` scrolls that mark into view. On a narrow screen (a phone) the pane
becomes a drawer over the lower part of the page, so the answer stays in view above it. The same
listener copies an answer's plain text (its copy button carries the text in `value`).

Everything from readers or the article goes through `escape_text` (or `html.escape` outside the chat)
before it reaches any HTML. The conversation lives in the browser (`gr.BrowserState`), so it survives a
reload; what the browser sends back is checked (`clean_turns`) before it is used, as any input is.

Nothing here knows any article: the header names the corpus's documents, the starter questions are
built from their fact rows and section headings (`starter_questions`), the charts from the shape of
the fact rows (`fact_charts`: one metric across entities, one entity's metric over periods) and the
dated sentences. A `.md` article is shown as Markdown, the cited span still marked by its offsets.

Not done here: the wording of answers (the bot writes `Answer.text`); this module only lays it out.
"""

from __future__ import annotations

import html
import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from .errors import BotError
from .feedback import DEFAULT_FEEDBACK_PATH, append_feedback
from .types import Answer

log = logging.getLogger("bot.ui")

TITLE = "Ask the article"

# Queue. Answering is CPU-bound (one ONNX query embedding, FAISS and BM25 over a few hundred chunks:
# ~5-10 ms) on a 2-core machine, so two answers at a time (one per core) is all the parallelism
# there is; more threads would only contend. Both ask endpoints (the chat and /ask) share that one
# limit through ASK_CONCURRENCY_ID. At ~10 ms an answer, 64 waiting events drain in well under a
# second; past that the queue refuses new events ("queue full") instead of letting one client that
# floods /ask push every other reader's wait (and the server's memory) up without bound. In the
# page, trigger_mode="once" keeps each tab to one pending question at a time.
ASK_CONCURRENCY = 2
QUEUE_MAX_SIZE = 64
ASK_CONCURRENCY_ID = "ask"
# A session's chat keeps at most this many turns (the bot itself reads only its last
# Settings.max_history_turns); older turns leave the page so the state kept in the browser (and sent
# back with every question) stays bounded.
MAX_UI_TURNS = 100
# Where the browser keeps the conversation (localStorage). Its encryption key is drawn anew each time
# the app starts, so a conversation survives reloads of the page but not a restart of the server, whose
# index (and so the citations' offsets) may have changed in between.
CONVERSATION_KEY = "article-bot-conversation"
# Shown when an unexpected exception reaches the UI or /ask: the details go to the server log only.
INTERNAL_ERROR = "Something went wrong on the server while answering; it has been logged. Please try again."
THANKS = "Thanks for the feedback."
# The app has no upload component; Gradio still exposes an upload route, so it is bounded.
MAX_UPLOAD = "1mb"
# Answer kinds (Answer.to_dict()["kind"]); an answer without one is a quote, or a refusal when unanswerable.
KINDS = ("quote", "figure", "computed", "correction", "refusal", "gist", "title", "smalltalk", "llm")

_MARKER = re.compile(r"\[(\d+)\]")
_DATED = re.compile(r"\b(January|February|March|April|May|June|July|August|September|October|November|December)\s+((?:19|20)\d{2})\b")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December")
_MONTH_NUMBER = {m: i for i, m in enumerate(_MONTHS, 1)}
# The chat renders Markdown and sanitises HTML. Reader and article text reach it HTML-escaped, and
# the characters Markdown would read as syntax (emphasis, code, links, headings, tables, escapes) as
# numeric entities, which Markdown always shows literally; so does a line-opening list or quote
# marker. Other punctuation stays as it is, which keeps screen-reader labels and copied text clean.
_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", **{c: f"&#{ord(c)};" for c in "\\`*_[]#|~"}})
_LINE_START = re.compile(r"^(\s*)([-+]|\d+(?=[.)]))", re.M)

# A figure the guard did not pass, and what its status means to a reader.
FIGURE_PROBLEM = {
    "unsupported": ("fig-bad", "not found in the article"),
    "mismatch": ("fig-bad", "differs from the article"),
    "period_mismatch": ("fig-bad", "belongs to another period in the article"),
    "entity_mismatch": ("fig-bad", "belongs to another company in the article"),
    "over_precise": ("fig-warn", "more precise than the article"),
}
FIGURES_CHECKED = "✓ figures checked against the article"
PASSED = ("ok", "derived")

# Colours are set in pairs (background and text together) wherever the theme's colours are not used,
# so dark mode never puts the theme's light text on a light background.
APP_CSS = """
.cite-chip, .fact-chip { display: inline-flex; align-items: center; justify-content: center; min-width: 1.5em; height: 1.5em;
  padding: 0 .35em; margin: 0 .1em; border-radius: 999px; border: 1px solid var(--color-accent);
  background: var(--color-accent-soft); color: var(--body-text-color); font-size: .78em; font-weight: 600;
  line-height: 1; cursor: pointer; vertical-align: .15em; }
.fact-chip { height: auto; min-height: 1.6em; padding: .15em .5em; border-radius: 6px; font-size: .95em; line-height: 1.25;
  vertical-align: baseline; text-align: left; white-space: normal; }
.cite-chip:hover, .cite-chip:focus-visible, .fact-chip:hover, .fact-chip:focus-visible { background: var(--color-accent); color: white; }
.answer-meta { font-size: .85em; opacity: .85; margin-top: .35em; }
.badge { display: inline-block; padding: .1em .55em; margin-bottom: .3em; border-radius: 999px; font-size: .8em; font-weight: 600; }
.badge-refusal { background: #fdecea; color: #8a1c12; border: 1px solid #f1b0a8; }
.badge-correction { background: #fff4e0; color: #6b4200; border: 1px solid #f0c98a; }
.fig { display: inline-block; margin: .1em .4em .1em 0; padding: 0 .4em; border-radius: 4px; }
.fig-ok { background: #e7f5ea; color: #1d5e2c; }
.fig-derived { background: #e8f0fe; color: #1a3f8a; }
.fig-bad { background: #fdecea; color: #8a1c12; }
.fig-warn { background: #fff4e0; color: #6b4200; }
.answer-notes { font-size: .8em; opacity: .8; margin-top: .3em; }
.answer-notes summary { cursor: pointer; }
.answer-actions { margin-top: .4em; }
.copy-answer { font-size: .8em; padding: .1em .6em; border-radius: 4px; border: 1px solid var(--border-color-primary);
  background: var(--block-background-fill); color: var(--body-text-color); cursor: pointer; }
#notice:not(:has(.notice)) { display: none; }
#notice .notice { margin: .2em 0; padding: .4em .7em; border-radius: 6px; background: var(--color-accent-soft); color: var(--body-text-color); }
#notice .notice-error { background: #fdecea; color: #8a1c12; }
/* Thumbs up before thumbs down: Gradio draws Dislike first in a flex row. */
#chat .message-buttons button[aria-label^="Like"] { order: -1; }
#source-pane .src-head { position: sticky; top: 0; background: var(--block-background-fill); padding: .4em 0;
  border-bottom: 1px solid var(--border-color-primary); margin-bottom: .5em; z-index: 1; }
#source-pane .src-body p { margin: 0 0 .7em 0; }
#source-pane .src-body h3 { margin: 1em 0 .4em 0; font-size: 1.05em; }
#source-pane .src-body h4 { margin: .9em 0 .3em 0; font-size: 1em; }
#source-pane .src-body ul, #source-pane .src-body ol { margin: 0 0 .7em 1.4em; padding: 0; }
#source-pane .src-body li { margin: 0 0 .25em 0; }
#source-pane .src-body pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0 0 .7em 0; }
#source-pane mark { background: #ffe066; color: #1f1f1f; padding: 0 .1em; border-radius: 2px; }
.dark #source-pane mark { background: #6b5400; color: #ffffff; }
#source-pane .src-hint { opacity: .8; font-size: .9em; }
body:not(.src-drawer-open) #source-pane .src-close { display: none; }
#source-pane .src-close { float: right; margin-left: .5em; padding: .1em .6em; border-radius: 4px; cursor: pointer;
  border: 1px solid var(--border-color-primary); background: var(--block-background-fill); color: var(--body-text-color); }
.facts-table { width: 100%; border-collapse: collapse; font-size: .92em; }
.facts-table th, .facts-table td { text-align: left; vertical-align: top; padding: .35em .4em; border-bottom: 1px solid var(--border-color-primary);
  overflow-wrap: break-word; }
.facts-table td:nth-child(3) { min-width: 5em; }
.facts-empty { opacity: .85; }
.timeline-list li { margin-bottom: .4em; }
.timeline-list .timeline-next { opacity: .65; }
/* A phone: the source pane opens as a drawer over the lower part of the screen. The page's JS sets the
   class only on a narrow screen: Gradio scopes rules inside @media to its container, where body is not. */
body.src-drawer-open #source-pane { position: fixed; left: 0; right: 0; bottom: 0; height: 45vh; z-index: 1000; margin: 0;
  display: flex; flex-direction: column; border-radius: 12px 12px 0 0; box-shadow: 0 -6px 24px rgba(0, 0, 0, .25); }
body.src-drawer-open #source-pane > .html-container { flex: 1 1 auto; min-height: 0; max-height: none !important; overflow-y: auto; }
body.src-drawer-open #source-pane .src-hint { display: none; }
body.src-drawer-open { padding-bottom: 45vh; }
@media (max-width: 720px) {
  .facts-table { font-size: .85em; }
  .facts-table th, .facts-table td { padding: .3em .2em; }
  .fact-chip { padding: .15em .3em; font-size: .88em; }
  /* Fixed shares of the width, so no column is pushed off a phone's screen by a long word. */
  .facts-table { table-layout: fixed; }
  .facts-table th:nth-child(1) { width: 22%; } .facts-table th:nth-child(2) { width: 23%; }
  .facts-table th:nth-child(3) { width: 35%; } .facts-table th:nth-child(4) { width: 20%; }
  .facts-table td:nth-child(3) { min-width: 0; }
  .facts-table td, .fact-chip { overflow-wrap: anywhere; }
  .fact-chip { max-width: 100%; }
}
"""

# Installed once per page by the source pane (see the module docstring). `trigger` is re-bound on every
# load so a re-rendered pane still receives the clicks.
_SOURCE_JS = """
window.__articleBotSource = (data) => trigger('click', data);
if (!window.__articleBotBound) {
  window.__articleBotBound = true;
  const DRAWER = 'src-drawer-open';
  const narrow = matchMedia('(max-width: 720px)');
  narrow.addEventListener('change', () => document.body.classList.remove(DRAWER));
  const pane = () => document.getElementById('source-pane');
  const inDrawer = () => { const p = pane(); return !!p && getComputedStyle(p).position === 'fixed'; };
  const scroller = (el, stop) => {
    for (let e = el.parentElement; e && e !== stop; e = e.parentElement) {
      if (/(auto|scroll)/.test(getComputedStyle(e).overflowY) && e.scrollHeight > e.clientHeight) return e;
    }
    return null;
  };
  // subtle: the drawer covers the lower part of a phone's screen; the chip that opened it (the answer)
  // is moved above it, inside the chat's own scroll box first, and only if that is not enough the page.
  const keepAbove = (el, top) => {
    let over = el.getBoundingClientRect().bottom + 8 - top;
    if (over <= 0) return;
    const box = scroller(el, document.body);
    if (box) { const before = box.scrollTop; box.scrollTop += over; over -= box.scrollTop - before; }
    if (over > 0) window.scrollBy(0, over);
  };
  const pasteFallback = (text) => {
    const area = document.createElement('textarea');
    area.value = text; area.setAttribute('readonly', ''); area.style.position = 'fixed'; area.style.opacity = '0';
    document.body.appendChild(area); area.select();
    let ok = false;
    try { ok = document.execCommand('copy'); } catch (err) { ok = false; }
    area.remove();
    return ok;
  };
  const copyAnswer = (button) => {
    const text = button.value;
    const done = (ok) => { button.textContent = ok ? 'Copied' : 'Copy failed'; setTimeout(() => { button.textContent = 'Copy'; }, 2000); };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(() => done(true), () => done(pasteFallback(text)));
    else done(pasteFallback(text));
  };
  document.addEventListener('click', (e) => {
    const t = e.target instanceof Element ? e.target : null;
    const chip = t && t.closest('button.cite-chip, button.fact-chip');
    const copy = t && t.closest('button.copy-answer');
    const close = t && t.closest('button.src-close');
    if (!chip && !copy && !close) return;
    e.preventDefault();
    e.stopPropagation();
    if (chip && chip.value) {
      if (narrow.matches) document.body.classList.add(DRAWER);
      if (inDrawer()) keepAbove(chip, pane().getBoundingClientRect().top);
      window.__articleBotSource(chip.classList.contains('fact-chip') ? {fact: chip.value} : {cite: chip.value});
    } else if (copy) {
      copyAnswer(copy);
    } else if (close) {
      document.body.classList.remove(DRAWER);
    }
  }, true);
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape') document.body.classList.remove(DRAWER); });
  window.__articleBotShowMark = (root) => {
    const mark = root.querySelector('#cite-span');
    if (!mark) { document.body.classList.remove(DRAWER); return; }
    if (!inDrawer()) { mark.scrollIntoView({block: 'center', inline: 'nearest'}); return; }
    // In the drawer only the drawer scrolls: the page, and the answer on it, stay where they are. The
    // mark goes just below the pane's sticky head, which would otherwise cover it.
    const box = scroller(mark, pane().parentElement);
    const head = root.querySelector('.src-head');
    if (box) box.scrollTop += mark.getBoundingClientRect().top - box.getBoundingClientRect().top - (head ? head.offsetHeight : 0) - 12;
  };
}
watch('value', () => window.__articleBotShowMark(element));
"""

# After an ask: the question box gets the focus back after a message (an empty question), and after an
# answer where there is a mouse; on a touch screen focusing it would pop the keyboard over the answer.
_FOCUS_JS = """
() => {
  const box = document.querySelector('#question textarea');
  if (box && (document.querySelector('#notice .notice') || matchMedia('(pointer: fine)').matches)) box.focus();
}
"""

# Gradio's default font, with its bold weight too: the default theme serves only 400 and 600, so bold
# text (<strong>, headings) was drawn by the browser's fallback font. The 700 file ships with Gradio.
APP_FONT = [gr.themes.LocalFont("Source Sans Pro", weights=(400, 600, 700)), "ui-sans-serif", "system-ui", "sans-serif"]
APP_THEME = gr.themes.Default(font=APP_FONT)


# --- rendering (pure functions: no gradio, easy to test) ---------------------------------------


def escape_text(text: str) -> str:
    """Text made safe for the chat's Markdown+HTML renderer: shows as written, never as markup."""
    out = str(text).translate(_ENTITIES)
    return _LINE_START.sub(lambda m: m.group(1) + "".join(f"&#{ord(ch)};" for ch in m.group(2)), out)


def _attribute(text: str) -> str:
    """Text as an HTML attribute value, newlines kept (the chat's Markdown never sees inside a tag)."""
    return html.escape(str(text), quote=True).replace("\n", "&#10;")


def _one_line(text: Any) -> str:
    """escape_text on one line: a blank line would end the answer's HTML block in the chat's Markdown."""
    return escape_text(" ".join(str(text).split()))


def question_html(question: str) -> str:
    """A reader's question as chat message content."""
    return escape_text(question)


def answer_kind(answer: dict[str, Any]) -> str:
    """The answer's kind; an answer from a bot that does not say is a refusal when unanswerable, else a quote."""
    kind = answer.get("kind")
    if kind in KINDS:
        return kind
    return "refusal" if answer.get("answerable") is False else "quote"


def answer_html(answer: dict[str, Any], turn_id: int) -> str:
    """An answer as chat message content: badge, text with citation chips, rewrite, figures, notes, copy button.

    One `<div>` on one line, so the chat's Markdown takes it as a single HTML block and leaves it alone.
    """
    kind = answer_kind(answer)
    parts = ['<div class="answer">', _badge_html(kind), _body_html(answer, turn_id)]
    if kind != "smalltalk":
        parts += [_rewrite_html(answer), figures_html(answer, kind), _notes_html(answer.get("notes") or [])]
    parts.append(f'<div class="answer-actions"><button class="copy-answer" value="{_attribute(plain_answer_text(answer))}" '
                 'title="Copy the answer as plain text">Copy</button></div>')
    parts.append("</div>")
    return "".join(parts)


def plain_answer_text(answer: dict[str, Any]) -> str:
    """What the copy button copies: the answer's own text, [n] markers and all, without any markup."""
    return str(answer.get("text") or "").strip()


def _badge_html(kind: str) -> str:
    if kind == "refusal":
        return '<span class="badge badge-refusal">Not in the article</span><br>'
    if kind == "correction":
        return '<span class="badge badge-correction">Corrects the question</span><br>'
    return ""


def _body_html(answer: dict[str, Any], turn_id: int) -> str:
    """The answer's text, escaped, each `[n]` with a citation turned into a chip; line breaks kept."""
    cites = {c["n"]: c for c in answer.get("citations") or []}
    text = answer.get("text") or ""
    pos, body = 0, []

    def prose(part: str) -> str:
        return escape_text(part).replace("\n", "<br>")

    for m in _MARKER.finditer(text):
        n = int(m.group(1))
        if n not in cites:
            continue
        body.append(prose(text[pos : m.start()].rstrip()))
        tip = _one_line(f"Show source {n} in the article: {cites[n].get('section', '')}")
        body.append(f' <button class="cite-chip" value="{int(turn_id)}:{n}" title="{tip}">{n}</button>')
        pos = m.end()
    body.append(prose(text[pos:]))
    return '<div class="answer-body">' + "".join(body) + "</div>"


def _same_question(a: str, b: str) -> bool:
    """Equal up to case, spacing, quotes and closing punctuation: a rewrite that changes nothing a reader sees."""
    def norm(s: str) -> str:
        s = s.replace("’", "'").replace("“", '"').replace("”", '"')
        return " ".join(s.casefold().split()).rstrip(" ?.!")
    return norm(a) == norm(b)


def _rewrite_html(answer: dict[str, Any]) -> str:
    standalone, asked = answer.get("standalone_question") or "", answer.get("question") or ""
    if not standalone or _same_question(standalone, asked):
        return ""
    return f'<div class="answer-meta">Searched as: “{_one_line(standalone)}”</div>'


def _unique_figures(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The answer's figures, each once (a figure quoted twice, the table's wording then the sentence, is one)."""
    seen: dict[tuple, dict[str, Any]] = {}
    for f in answer.get("figures") or []:
        if isinstance(f, dict):
            seen.setdefault((f.get("text"), f.get("status"), f.get("expected")), f)
    return list(seen.values())


def figures_html(answer: dict[str, Any], kind: str | None = None) -> str:
    """Figure badges only where they tell the reader something; else one quiet "figures checked" mark.

    A badge for: a computed figure (with the arithmetic the bot did, its `derivation`), a figure the guard did not pass, and in a correction every figure (what the article
    says instead). A computed figure never shows "the article says": the article does not state it.
    """
    kind = kind or answer_kind(answer)
    figures = _unique_figures(answer)
    stated = [f for f in figures if f.get("status") == "ok"]
    badges, problems = [], False
    for f in figures:
        status = f.get("status")
        if status == "derived":
            badges.append(_derived_badge(f))
        elif status not in PASSED:
            problems = True
            badges.append(_problem_badge(f))
        elif kind == "correction":
            badges.append(f'<span class="fig fig-ok">{_one_line(f.get("text", ""))}: as the article states</span>')
    quiet = stated and not problems and kind != "correction"
    if not badges and not quiet:
        return ""
    mark = f'<span class="figs-checked">{FIGURES_CHECKED}</span>' if quiet else ""
    return '<div class="answer-meta figures">' + " ".join(badges + ([mark] if mark else [])) + "</div>"


def _problem_badge(f: dict[str, Any]) -> str:
    css, verdict = FIGURE_PROBLEM.get(f.get("status"), ("fig-warn", _one_line(f.get("status") or "not checked")))
    expected = f" (the article says {_one_line(f['expected'])})" if f.get("expected") else ""
    return f'<span class="fig {css}">{_one_line(f.get("text", ""))}: {verdict}{expected}</span>'


def _derived_badge(f: dict[str, Any]) -> str:
    """A computed figure with the arithmetic the bot did (`FigureCheck.derivation`), in the article's own figures."""
    how = _one_line(f.get("derivation") or f"{f.get('text', '')}: computed, not stated in the article")
    return f'<span class="fig fig-derived" title="computed from figures of the article, not stated in it">{how}</span>'


def _notes_html(notes: Sequence[str]) -> str:
    """The bot's internal notes, behind a closed disclosure: how the answer was made, for the curious."""
    items = "".join(f"<li>{_one_line(n)}</li>" for n in notes if isinstance(n, str) and n.strip())
    if not items:
        return ""
    return f'<details class="answer-notes"><summary>How this answer was made</summary><ul>{items}</ul></details>'


def chat_messages(turns: Sequence[dict[str, Any]], pending: str | None = None) -> list[dict[str, str]]:
    """The Chatbot value for a conversation: a user and an assistant message per turn, in order.

    `pending` is a question just asked: shown at once, before the bot has anything to say.
    """
    out: list[dict[str, str]] = []
    for t in turns:
        out.append({"role": "user", "content": question_html(t["question"])})
        out.append({"role": "assistant", "content": answer_html(t["answer"], t["id"])})
    if pending is not None:
        out.append({"role": "user", "content": question_html(pending)})
    return out


def notice_html(message: str, error: bool = False, key: int = 0) -> str:
    """A short message under the question box (an empty question, thanks for feedback); '' shows nothing.

    `key` tells two equal messages apart, so the same acknowledgement given twice is shown (and announced) twice.
    """
    if not message:
        return ""
    css = "notice notice-error" if error else "notice"
    return f'<p class="{css}" role="status" data-key="{int(key)}">{html.escape(message)}</p>'


# --- the conversation as the browser keeps it --------------------------------------------------


def _is_citation(c: Any) -> bool:
    return (isinstance(c, dict) and all(isinstance(c.get(k), int) for k in ("n", "start", "end"))
            and isinstance(c.get("doc_id"), str) and isinstance(c.get("section", ""), str))


def clean_turns(value: Any) -> list[dict[str, Any]]:
    """The turns the browser sent back, keeping only well-formed ones (the browser may send anything).

    A turn is {"id": int, "question": str, "answer": Answer.to_dict()}; citations must have integer
    offsets, figures be dicts and notes strings, since the page renders and cites from them.
    """
    if not isinstance(value, list):
        return []
    out: list[dict[str, Any]] = []
    for t in value[-MAX_UI_TURNS:]:
        if not (isinstance(t, dict) and isinstance(t.get("id"), int) and isinstance(t.get("question"), str)):
            continue
        a = t.get("answer")
        if not (isinstance(a, dict) and isinstance(a.get("text"), str)):
            continue
        a = {
            **a,
            "citations": [c for c in a.get("citations") or [] if _is_citation(c)] if isinstance(a.get("citations"), list) else [],
            "figures": [f for f in a.get("figures") or [] if isinstance(f, dict)] if isinstance(a.get("figures"), list) else [],
            "notes": [n for n in a.get("notes") or [] if isinstance(n, str)] if isinstance(a.get("notes"), list) else [],
        }
        out.append({"id": t["id"], "question": t["question"], "answer": a})
    return out


# --- the source pane ---------------------------------------------------------------------------

# A rendered article is a list of pieces: a str is markup written by this module, a (start, end) pair is
# that range of the document's own text, escaped when written. The cited span is marked on the ranges
# by their offsets, so whatever markup a line turns into, the mark covers exactly text[start:end] (less
# the Markdown syntax, which is not shown), and the marks nest inside the markup, never across it.
Piece = str | tuple[int, int]

_MD_HEADING = re.compile(r"(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")  # as bot/corpus.py reads a Markdown heading
_MD_ITEM = re.compile(r"[ \t]*(?:([-*+])|(\d{1,9})[.)])[ \t]+(\S.*)$")
_MD_RULE = re.compile(r" {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_MD_FENCE = re.compile(r" {0,3}(```|~~~)")
# Inline Markdown, leftmost first: an escaped character, code, bold, italics, a link or image (its text is
# shown, its address never: the pane holds no links an article could point anywhere).
_MD_INLINE = re.compile(
    r"\\(?P<escaped>[\\`*_{}\[\]()#+\-.!>~|])"
    r"|(?P<tick>`+)(?P<code>.+?)(?P=tick)"
    r"|\*\*(?=\S)(?P<strong>.+?)(?<=\S)\*\*"
    r"|(?<!\w)__(?=\S)(?P<strong_u>.+?)(?<=\S)__(?!\w)"
    r"|\*(?=[^\s*])(?P<em>.+?)(?<=[^\s*])\*"
    r"|(?<!\w)_(?=[^\s_])(?P<em_u>.+?)(?<=[^\s_])_(?!\w)"
    r"|!?\[(?P<link>[^\]]+)\]\([^)]*\)"
)
_INLINE_TAGS = {"code": "code", "strong": "strong", "strong_u": "strong", "em": "em", "em_u": "em"}


def _line_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of every line, end before the line break (a "\\r" of "\\r\\n" included in the line)."""
    start = 0
    for line in text.split("\n"):
        yield start, start + len(line)
        start += len(line) + 1


def _txt_pieces(doc: Any) -> list[Piece]:
    """A plain-text article: a paragraph per line; the first line the title, heading lines headings."""
    text = doc.text
    headings = {(s.heading_start, s.heading_end) for s in getattr(doc, "sections", ()) if s.heading_end > s.heading_start}
    out: list[Piece] = []
    for start, end in _line_spans(text):
        if start == end:
            continue
        tag = "h3" if any(hs <= start and end <= he for hs, he in headings) and start > 0 else "p"
        if start == 0:
            tag = "h2"
        out += [f"<{tag}>", (start, end), f"</{tag}>"]
    return out


def md_inline(text: str, start: int, end: int) -> list[Piece]:
    """Inline Markdown of text[start:end] as pieces: bold, italics and code as tags, syntax left out."""
    out: list[Piece] = []
    pos = start
    while (m := _MD_INLINE.search(text, pos, end)) is not None:
        out.append((pos, m.start()))
        group = m.lastgroup
        if group == "escaped" or group == "link":
            out += [(m.start(group), m.end(group))] if group == "escaped" else md_inline(text, m.start(group), m.end(group))
        elif group == "code":
            out += ["<code>", (m.start(group), m.end(group)), "</code>"]
        else:
            tag = _INLINE_TAGS[group]
            out += [f"<{tag}>", *md_inline(text, m.start(group), m.end(group)), f"</{tag}>"]
        pos = m.end()
    out.append((pos, end))
    return [p for p in out if isinstance(p, str) or p[1] > p[0]]


def _md_pieces(doc: Any) -> list[Piece]:
    """A Markdown article, line by line: `#` headings, `-`/`1.` lists, rules, fenced code, paragraphs
    (consecutive lines joined), with inline bold, italics, code and link text. Not done: tables, quotes,
    nested lists (an indented item is an item of the same list), HTML (shown as text, escaped)."""
    text = doc.text
    out: list[Piece] = []
    block: str | None = None  # the open block: "p", "ul", "ol" or "pre"
    last_end: int | None = None  # end of the open block's last line: a line going on is joined through the line break
    first = True

    def close() -> None:
        nonlocal block
        if block in ("ul", "ol"):
            out.append(f"</li></{block}>")
        elif block is not None:
            out.append("</code></pre>" if block == "pre" else "</p>")
        block = None

    for start, end in _line_spans(text):
        end -= text.endswith("\r", start, end)  # "\r\n" line breaks
        line = text[start:end]
        if block == "pre":
            if _MD_FENCE.match(line):
                close()
            else:
                out += [(last_end, start)] if last_end is not None else []
                out.append((start, end))
                last_end = end
            continue
        if not line.strip():
            close()
            continue
        if _MD_FENCE.match(line):
            close()
            out.append("<pre><code>")
            block, last_end, first = "pre", None, False
            continue
        heading = _MD_HEADING.match(line)
        if heading:
            close()
            level = len(heading.group(1))
            tag = "h2" if first else "h3" if level <= 2 else "h4"
            out += [f"<{tag}>", *md_inline(text, start + heading.start(2), start + heading.end(2)), f"</{tag}>"]
            first = False
            continue
        if _MD_RULE.match(line):
            close()
            out.append("<hr>")
            first = False
            continue
        item = _MD_ITEM.match(line)
        content = start + len(line) - len(line.lstrip())
        if first and not item:
            out += ["<h2>", *md_inline(text, content, end), "</h2>"]  # the title, as bot/corpus.py reads it
            first = False
            continue
        first = False
        if item:
            kind = "ul" if item.group(1) else "ol"
            if block == kind:
                out.append("</li><li>")
            else:
                close()
                number = int(item.group(2) or 1)
                out.append(f'<{kind}{f" start={number}" if kind == "ol" and number != 1 else ""}><li>')
                block = kind
            out += md_inline(text, start + item.start(3), end)
        elif block is not None and (block == "p" or line[:1].isspace()):  # a paragraph, or an item, going on
            out += [(last_end, content), *md_inline(text, content, end)]
        else:
            close()
            out += ["<p>", *md_inline(text, content, end)]
            block = "p"
        last_end = end
    close()
    return out


def is_markdown(doc: Any) -> bool:
    """A `.md` article, rendered as Markdown; any other is plain text."""
    return str(getattr(doc, "path", "")).lower().endswith(".md")


def _write(text: str, pieces: Sequence[Piece], span: tuple[int, int] | None) -> str:
    """The pieces as HTML: text escaped, the part of each range inside `span` wrapped in `<mark>`, the first `id="cite-span"`."""
    out, marked = [], False
    for p in pieces:
        if isinstance(p, str):
            out.append(p)
            continue
        start, end = p
        a, b = (max(span[0], start), min(span[1], end)) if span is not None else (end, end)
        if a >= b:
            out.append(html.escape(text[start:end]))
            continue
        mark_id = "" if marked else ' id="cite-span"'
        marked = True
        out.append(f"{html.escape(text[start:a])}<mark{mark_id}>{html.escape(text[a:b])}</mark>{html.escape(text[b:end])}")
    return "".join(out)


def article_html(doc: Any, span: tuple[int, int] | None = None, head: str = "", nonce: int = 0) -> str:
    """A document as escaped HTML (Markdown rendered for a `.md` one); `span` (character offsets) in `<mark>`."""
    out = [f'<div class="src" data-nonce="{int(nonce)}">']
    if head:
        out.append(f'<div class="src-head"><button class="src-close" title="Close the source">Close</button>{head}</div>')
    pieces = _md_pieces(doc) if is_markdown(doc) else _txt_pieces(doc)
    out += ['<div class="src-body">', _write(doc.text, pieces, span), "</div></div>"]
    return "".join(out)


def source_html(documents: dict[str, Any], turns: Sequence[dict[str, Any]], cite: str | None, nonce: int = 0) -> str | None:
    """The source pane for a chip value "TURN:N": its article with the span marked; None when it points nowhere."""
    m = re.fullmatch(r"(\d+):(\d+)", cite or "")
    if not m:
        return None
    turn_id, n = int(m.group(1)), int(m.group(2))
    turn = next((t for t in turns if t["id"] == turn_id), None)
    if turn is None:
        return None
    c = next((c for c in turn["answer"].get("citations") or [] if c["n"] == n), None)
    doc = documents.get(c["doc_id"]) if c else None
    if doc is None:
        return None
    chips = " ".join(
        f'<button class="cite-chip" value="{turn_id}:{int(o["n"])}" title="Show source {int(o["n"])}">{int(o["n"])}</button>'
        for o in turn["answer"]["citations"]
    )
    head = (
        f"<strong>Source [{n}]</strong> · {html.escape(str(c.get('section', '')))} · <em>{html.escape(doc.title)}</em>"
        f'<div class="src-hint">Question: “{html.escape(turn["question"])}” — sources of this answer: {chips}</div>'
    )
    return article_html(doc, (c["start"], c["end"]), head=head, nonce=nonce)


def fact_source_html(documents: dict[str, Any], fact: Any, sentence: tuple[int, int] | None = None, nonce: int = 0) -> str | None:
    """The source pane for a row of the Facts tab: its article with the sentence stating the figure marked."""
    doc = documents.get(fact.doc_id) if fact is not None else None
    if doc is None:
        return None
    section = doc.section_at(fact.start) if hasattr(doc, "section_at") else None
    where = f" · {html.escape(section.title)}" if section is not None else ""
    head = (
        f"<strong>{html.escape(fact.quote)}</strong> · {html.escape(fact.entity)}, {html.escape(fact.metric)}{where}"
        f'<div class="src-hint">The sentence of <em>{html.escape(doc.title)}</em> that states this figure.</div>'
    )
    return article_html(doc, sentence or (fact.start, fact.end), head=head, nonce=nonce)


def welcome_html(documents: dict[str, Any]) -> str:
    """The source pane before any citation is clicked: the article, unmarked."""
    if not documents:
        return '<div class="src"><p class="src-hint">No article is loaded.</p></div>'
    doc = next(iter(documents.values()))
    head = '<span class="src-hint">Click a numbered citation in an answer, or a figure in the Facts tab, to see it highlighted here.</span>'
    return article_html(doc, None, head=head)


# --- facts tab ---------------------------------------------------------------------------------

FACT_COLUMNS = ["entity", "metric", "figure", "period", "id", "unit", "kind"]
FACT_HEADERS = ("Business", "What", "Figure", "Period")
# A count whose figure is a bare number word ("two", "triple") is the article's rhetoric ("two
# sides", "three fronts"), not a measurement, unless it counts people, whom businesses measure.
_NUMBER_WORDS = frozenset(
    "one two three four five six seven eight nine ten eleven twelve dozen a both single double triple twice".split()
)
_MEASURED_COUNTS = frozenset(
    "users user members member customers customer buyers buyer shoppers merchants sellers employees staff subscribers visitors people".split()
)


def load_fact_rows(bot: Any, corpus_dir: str | Path | None) -> tuple[list[Any], str]:
    """The fact table's rows and a status line ("no fact table ..." when there is none)."""
    table = getattr(bot, "facts", None)
    if table is None:
        try:
            from .facts import FactTable
        except ImportError:
            return [], "No fact table: this version of the bot has none."
        if corpus_dir is None:
            return [], "No fact table: the corpus folder is not known."
        try:
            table = FactTable.load(corpus_dir)
        except BotError as e:
            return [], f"No fact table: {e}"
    rows = list(getattr(table, "facts", table) or ())
    if not rows:
        return [], "No fact table for this corpus (no *.facts.jsonl beside the articles)."
    listed = len(listed_facts(rows))
    left_out = len(rows) - listed
    extra = f" ({left_out} counts written as a bare number word, such as “two”, are left out)" if left_out else ""
    drafted = sum(1 for f in listed_facts(rows) if getattr(f, "reviewed", True) is False)
    unreviewed = f" {drafted} of them were drafted from the text by rule and not reviewed." if drafted else ""
    where = "the article" if len({f.doc_id for f in rows}) == 1 else "the articles"
    return rows, f"{listed} figures stated in {where}, from the fact table{extra}.{unreviewed} Click a figure to see its sentence."


def is_bare_count(f: Any) -> bool:
    """A row that is a small count of things that are not a metric: a number word, not counting people."""
    if f.kind != "count":
        return False
    words = re.findall(r"[a-z]+|\d", (f.quote or "").lower())
    if not words or any(w not in _NUMBER_WORDS for w in words):
        return False
    counted = set(re.findall(r"[a-z]+", f"{f.metric} {getattr(f, 'unit', '') or ''}".lower()))
    return not counted & _MEASURED_COUNTS


def listed_facts(rows: Sequence[Any]) -> list[Any]:
    """The rows the Facts tab lists, in article order: every figure but the bare counts."""
    return sorted((f for f in rows if not is_bare_count(f)), key=lambda f: (f.doc_id, f.start))


def period_label(period: str | None) -> str:
    """"2021-04" as "April 2021", "2024" as it is, none as ''."""
    m = re.fullmatch(r"(\d{4})-(\d{2})", period or "")
    if m and 1 <= int(m.group(2)) <= 12:
        return f"{_MONTHS[int(m.group(2)) - 1]} {m.group(1)}"
    return period or ""


def _unit(f: Any) -> str:
    bits = [b for b in (getattr(f, "currency", None), getattr(f, "scale", None), getattr(f, "unit", None)) if b]
    if f.kind == "percent":
        bits.append("%")
    return " ".join(bits)


def facts_frame(rows: Sequence[Any]) -> pd.DataFrame:
    """The listed facts as a DataFrame: the figure as the article writes it ("EUR 1.5 billion"), article order."""
    data = [
        {"entity": f.entity, "metric": f.metric, "figure": f.quote, "period": period_label(f.period), "id": f.id, "unit": _unit(f), "kind": f.kind}
        for f in listed_facts(rows)
    ]
    return pd.DataFrame(data, columns=FACT_COLUMNS)


def filter_facts(frame: pd.DataFrame, query: str | None) -> pd.DataFrame:
    """Rows where every word of `query` occurs (case-insensitive) in some column."""
    words = (query or "").lower().split()
    if not words or frame.empty:
        return frame
    hay = frame[FACT_COLUMNS].astype(str).agg(" ".join, axis=1).str.lower()
    keep = pd.Series(True, index=frame.index)
    for w in words:
        keep &= hay.str.contains(w, regex=False)
    return frame[keep]


def facts_html(frame: pd.DataFrame, query: str | None = None) -> str:
    """The Facts table (business, what, figure, period); each figure a button showing its sentence."""
    shown = filter_facts(frame, query)
    if shown.empty:
        what = f"No figure matches “{html.escape(query.strip())}”." if (query or "").strip() else "No figures to show."
        return f'<p class="facts-empty" role="status">{what} Try fewer or other words, such as a company or “share”.</p>'
    head = "".join(f'<th scope="col">{h}</th>' for h in FACT_HEADERS)
    body = "".join(
        f"<tr><td>{html.escape(r.entity)}</td><td>{html.escape(r.metric)}</td>"
        f'<td><button class="fact-chip" value="{html.escape(r.id, quote=True)}" title="Show this figure\'s sentence in the article">'
        f"{html.escape(r.figure)}</button></td><td>{html.escape(r.period)}</td></tr>"
        for r in shown.itertuples()
    )
    return f'<table class="facts-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def sentence_spans(bot: Any) -> Callable[[str, int], tuple[int, int] | None]:
    """A lookup: (doc_id, offset) -> the span of the index sentence holding that offset, or None."""
    by_doc: dict[str, list[tuple[int, int]]] = {}
    for s in getattr(getattr(bot, "index", None), "sentences", None) or []:
        by_doc.setdefault(s.doc_id, []).append((s.start, s.end))

    def lookup(doc_id: str, offset: int) -> tuple[int, int] | None:
        return next(((a, b) for a, b in by_doc.get(doc_id, ()) if a <= offset < b), None)

    return lookup


def _metric_terms(metric: str) -> frozenset[str]:
    try:
        from .facts import terms
    except ImportError:  # pragma: no cover - facts.py absent
        return frozenset(re.findall(r"[a-z0-9-]+", metric.lower()))
    return terms(metric)


# --- charts of the fact table, by the shape of its rows -------------------------------------------

# Scales a money or count row may state its figure in; a chart shows all its figures in one of them.
_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
# A stated range is plotted at its middle unless it is wider than this (high over low): "1%-4%" is a
# point to plot, "triple-digit" (100-999) is not.
CHART_RANGE_MAX_RATIO = 4.0
# A chart needs this many entities (bars) or periods (a line) to say more than the table does.
MIN_BAR_ENTITIES = 3
MIN_LINE_PERIODS = 2
# At most this many charts of each kind, so a long corpus does not bury the table under charts.
MAX_CHARTS_PER_KIND = 3
# Chart titles longer than this are cut at a word (Vega would end them with "…" at a phone's 390 px).
CHART_TITLE_MAX = 40
CHART_COLUMNS = ["label", "value", "entity", "as written", "period", "basis", "fact"]


@dataclass(frozen=True)
class Chart:
    """A chart of fact rows: `kind` "bar" (one metric across entities) or "line" (one entity's metric over periods)."""

    kind: str
    title: str
    unit: str  # the y axis: "%", "EUR billion", "million members"
    frame: pd.DataFrame  # CHART_COLUMNS, one row a bar or a point, in the order drawn
    caption: str


def _point(f: Any) -> tuple[float | None, str]:
    """A row's value for a chart and how it was read: as stated, approximate, or the middle of a stated range.

    A "from X to Y" row is a change, not one figure, and a wide range ("triple-digit") no point: neither is plotted.
    """
    if f.value is not None:
        return f.value, ("approximate" if f.qualifier else "as stated")
    if f.low is None or f.high is None or (f.qualifier or "").split()[:1] == ["from"]:
        return None, ""
    if f.low <= 0 or f.high > f.low * CHART_RANGE_MAX_RATIO:
        return None, ""
    return (f.low + f.high) / 2, "middle of a range"


def _chart_scale(rows: Sequence[Any]) -> tuple[str, float]:
    """The scale a chart's figures are shown in: the one most of its rows state (the larger on a tie), else none."""
    named = [f.scale for f in rows if f.kind in ("money", "count") and getattr(f, "scale", None) in _SCALES]
    if not named:
        return "", 1.0
    best = max(set(named), key=lambda s: (named.count(s), _SCALES[s]))
    return best, _SCALES[best]


def chart_unit(rows: Sequence[Any]) -> tuple[str, float]:
    """The unit label of a chart's rows ("%", "EUR billion", "million members", "hours") and the divisor to it."""
    f = rows[0]
    if f.kind == "percent":
        return "%", 1.0
    scale, divisor = _chart_scale(rows)
    unit = getattr(f, "unit", None) or ""
    if f.kind == "duration" and unit and not unit.endswith("s"):
        unit += "s"
    bits = [getattr(f, "currency", None), scale, None if f.kind == "money" else unit]
    return " ".join(b for b in bits if b), divisor


def _most_common(values: Sequence[str]) -> str:
    """The value written most often, the first written on a tie."""
    return max(values, key=lambda v: (values.count(v), -values.index(v)))


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def _fit_title(options: Sequence[tuple[str, str]], limit: int = CHART_TITLE_MAX) -> str:
    """The first (name, unit) title that fits `limit`; else the last, its name cut at a word and its unit kept."""
    for name, unit in options:
        if len(f"{name} {unit}") <= limit:
            return f"{name} {unit}"
    name, unit = options[-1]
    out = ""
    for w in name.split():
        if len(f"{out} {w} {unit}".strip()) > limit:
            break
        out = f"{out} {w}".strip()
    return f"{out or name[: max(limit - len(unit) - 1, 1)]} {unit}"


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _chart_frame(rows: Sequence[Any], divisor: float, label: Callable[[Any, str], str]) -> pd.DataFrame:
    out = []
    for f in rows:
        v, basis = _point(f)
        out.append({"label": label(f, basis), "value": round(v / divisor, 3), "entity": f.entity, "as written": f.quote,
                    "period": period_label(f.period), "basis": basis, "fact": f.id})
    return pd.DataFrame(out, columns=CHART_COLUMNS)


def _caption(rows: Sequence[Any]) -> str:
    """Which rows a chart shows, and which of its points are not figures as stated."""
    text = "From the fact table: " + ", ".join(f.id for f in rows) + "."
    for f in rows:
        _, basis = _point(f)
        if basis != "as stated":
            what = "the middle of the stated range" if basis == "middle of a range" else "approximate"
            text += f" {f.entity}, {period_label(f.period) or f.metric}: {what} (the article says “{f.quote}”)."
    return text


def _chart_groups(rows: Sequence[Any]) -> list[list[Any]]:
    """Plottable rows grouped by document, metric terms, kind and currency, in article order."""
    groups: dict[tuple, list[Any]] = {}
    for f in sorted(rows, key=lambda f: (f.doc_id, f.start)):
        if is_bare_count(f) or _point(f)[0] is None:
            continue
        key = (f.doc_id, _metric_terms(f.metric) or frozenset([f.metric.lower()]), f.kind, getattr(f, "currency", None))
        groups.setdefault(key, []).append(f)
    return list(groups.values())


def bar_charts(rows: Sequence[Any]) -> list[Chart]:
    """One metric across entities: rows of one metric, kind, currency and period (or none), from >= 3 entities."""
    charts = []
    for group in _chart_groups(rows):
        by_period: dict[str, list[Any]] = {}
        for f in group:
            by_period.setdefault(f.period or "", []).append(f)
        for period, same in by_period.items():
            first: dict[str, Any] = {}
            for f in same:  # one bar an entity: the first row the article states
                first.setdefault(f.entity, f)
            bars = list(first.values())
            if len(bars) < MIN_BAR_ENTITIES:
                continue
            unit, divisor = chart_unit(bars)
            metric = _capitalised(_most_common([f.metric for f in bars]))
            when = f", {period_label(period)}" if period else ""
            title = _fit_title([(metric, f"({unit}{when})"), (metric, f"({unit})")])
            frame = _chart_frame(bars, divisor, lambda f, _basis: f.entity)
            charts.append(Chart("bar", title, unit, frame, _caption(bars)))
    return charts[:MAX_CHARTS_PER_KIND]


def line_charts(rows: Sequence[Any]) -> list[Chart]:
    """One metric of one entity over time: rows of one entity, metric, kind and currency in >= 2 periods."""
    charts = []
    for group in _chart_groups(rows):
        by_entity: dict[str, dict[str, Any]] = {}
        for f in group:
            if f.period:
                by_entity.setdefault(f.entity, {}).setdefault(f.period, f)  # one point a period: the first stated
        for entity, by_period in by_entity.items():
            if len(by_period) < MIN_LINE_PERIODS:
                continue
            points = [by_period[p] for p in sorted(by_period)]
            unit, divisor = chart_unit(points)
            metric = _most_common([f.metric for f in points])
            title = _fit_title([(f"{_possessive(entity)} {metric}", f"({unit})"), (_capitalised(metric), f"({unit})")])
            frame = _chart_frame(points, divisor, lambda f, basis: period_label(f.period) + ("" if basis == "as stated" else " (≈)"))
            charts.append(Chart("line", title, unit, frame, _caption(points)))
    return charts[:MAX_CHARTS_PER_KIND]


def fact_charts(rows: Sequence[Any]) -> list[Chart]:
    """Every chart the fact table's rows make: bar charts first, then line charts; none when no rows fit."""
    return bar_charts(rows) + line_charts(rows)


def timeline_frame(bot: Any) -> pd.DataFrame:
    """Every dated event of the articles: each sentence that names a "Month YYYY", by date."""
    out = []
    sentences = getattr(getattr(bot, "index", None), "sentences", None) or []
    by_position = {(s.doc_id, s.sid): s for s in sentences}
    for s in sentences:
        if s.text.strip() == s.section:  # a heading line
            continue
        for m in _DATED.finditer(s.text):
            month, year = _MONTH_NUMBER[m.group(1)], int(m.group(2))
            nxt = by_position.get((s.doc_id, s.sid + 1))
            following = nxt.text.strip() if nxt is not None and nxt.section == s.section and _same_line(bot, s, nxt) else ""
            out.append({
                "date": datetime(year, month, 1), "year": round(year + (month - 1) / 12, 3), "when": f"{m.group(1)} {year}",
                "section": s.section, "sentence": s.text.strip(), "next": following, "doc_id": s.doc_id, "start": s.start,
            })  # fmt: skip
    frame = pd.DataFrame(out, columns=["date", "year", "when", "section", "sentence", "next", "doc_id", "start"])
    return frame.sort_values(["date", "start"]).reset_index(drop=True)


def _same_line(bot: Any, a: Any, b: Any) -> bool:
    doc = getattr(bot, "documents", {}).get(a.doc_id)
    return doc is not None and "\n" not in doc.text[a.end : b.start]


def timeline_html(frame: pd.DataFrame) -> str:
    """The dated sentences as a list, each followed (muted) by the sentence after it for context."""
    if frame.empty:
        return "<p>No dated sentences found in the article.</p>"
    items = "".join(
        f"<li><strong>{html.escape(r.when)}</strong>: {html.escape(r.sentence)}"
        + (f' <span class="timeline-next">{html.escape(r.next)}</span>' if r.next else "")
        + "</li>"
        for r in frame.itertuples()
    )
    return f'<ol class="timeline-list">{items}</ol>'



def _ylim(frame: pd.DataFrame, column: str = "value") -> list[float]:
    """Bars and lines start at zero (Vega otherwise drops zero and a small bar vanishes), with headroom above."""
    top = float(frame[column].max()) if not frame.empty else 1.0
    low = min(0.0, float(frame[column].min())) if not frame.empty else 0.0
    return [round(low * 1.15, 2), round(top * 1.15, 2) or 1.0]


def _xlim_years(frame: pd.DataFrame) -> list[float] | None:
    if frame.empty:
        return None
    return [float(int(frame["year"].min())), float(int(frame["year"].max()) + 1)]


def timeline_chart_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The timeline for its chart: sections labelled without a trailing "(...)" (years, which the x axis shows)."""
    part = frame["section"].str.replace(r"\s*\([^)]*\)\s*$", "", regex=True)
    return frame.drop(columns=["date"]).assign(part=part)


# --- the header and the starter questions, from the corpus ---------------------------------------

ABOUT_QUESTION = "What is the article about?"
# Starter buttons under the chat: a figure, a section and the article's gist, read from the documents.
MAX_STARTERS = 4
# Header: up to this many titles are named in its sentence; more are listed behind a disclosure.
HEADER_INLINE_TITLES = 3
# Kinds a figure question reads well for ("What was X's revenue?"), in the order they are preferred.
_QUESTION_KINDS = ("money", "percent")
_QUESTION_HEADINGS = ("title", "summary", "subtitle", "introduction")


def header_markdown(documents: dict[str, Any]) -> str:
    """The page's header (Markdown): the app's name and the titles of every document of the corpus."""
    titles = [escape_text(d.title) for d in documents.values()]
    how = "Answers quote {}; click a numbered citation to see it in place."
    if not titles:
        return f"## {TITLE}\nNo article is loaded."
    if len(titles) == 1:
        return f"## {TITLE}\nQuestions about *{titles[0]}*. " + how.format("the article")
    if len(titles) <= HEADER_INLINE_TITLES:
        named = ", ".join(f"*{t}*" for t in titles[:-1]) + f" and *{titles[-1]}*"
        return f"## {TITLE}\nQuestions about {len(titles)} articles: {named}. " + how.format("them")
    items = "".join(f"<li>{t}</li>" for t in titles)
    return (f"## {TITLE}\nQuestions about {len(titles)} articles. " + how.format("them")
            + f'\n\n<details id="corpus-titles"><summary>The {len(titles)} articles</summary><ul>{items}</ul></details>')


def _figure_rows(rows: Sequence[Any]) -> list[Any]:
    """Rows to ask a figure question of, best first: money or percent, one stated figure, with a period, early in the article.

    Only reviewed rows: a row the quantity grammar drafted for a document without a table may name the wrong entity.
    """
    usable = [f for f in rows if getattr(f, "reviewed", True) and not is_bare_count(f) and f.entity and f.metric]
    kind_rank = {k: i for i, k in enumerate(_QUESTION_KINDS)}
    return sorted(usable, key=lambda f: (kind_rank.get(f.kind, len(kind_rank)), f.value is None, not f.period, f.start))


def figure_question(f: Any) -> str:
    """ "What was <entity>'s <metric>?", with "in <year>" when the row has a period."""
    year = (f.period or "")[:4]
    when = f" in {year}" if year.isdigit() else ""
    return f"What was {_possessive(f.entity)} {f.metric}{when}?"


def section_question(doc: Any) -> str | None:
    """A question from the document's first section heading: the heading itself when it asks one, else "What does
    the article say about <heading>?"; None when the document has no heading of its own."""
    for s in getattr(doc, "sections", ()):
        if s.level < 1 or s.heading_end <= s.heading_start or s.title.lower() in _QUESTION_HEADINGS:
            continue
        heading = re.sub(r"\s*\([^)]*\)\s*$", "", s.title).strip()  # "(2020-2022)": the years of a part
        if heading.endswith("?"):
            return heading
        if ": " in heading:  # "Part 1: The Thing": the thing
            heading = heading.split(": ", 1)[1]
        if not heading:
            continue
        if heading.split()[0] in ("The", "A", "An"):
            heading = heading[0].lower() + heading[1:]
        return f"What does the article say about {heading}?"
    return None


def _document_starters(doc: Any, rows: Sequence[Any]) -> list[str]:
    """A document's starters, best first: a figure, a section heading, a figure of another kind."""
    ranked = _figure_rows([f for f in rows if f.doc_id == doc.doc_id])
    out = []
    if ranked:
        out.append(figure_question(ranked[0]))
    section = section_question(doc)
    if section:
        out.append(section)
    if ranked:
        others = [f for f in ranked[1:] if _metric_terms(f.metric) != _metric_terms(ranked[0].metric)]
        other = next((f for f in others if f.kind != ranked[0].kind), others[0] if others else None)
        if other is not None:
            out.append(figure_question(other))
    return out


def starter_questions(documents: dict[str, Any], rows: Sequence[Any], limit: int = MAX_STARTERS) -> tuple[str, ...]:
    """Starter questions built from the documents' fact rows and sections (first of each document, then second, ...),
    ending with "What is the article about?"; deterministic, at most `limit`."""
    per_doc = [_document_starters(d, rows) for d in documents.values()]
    picked: list[str] = []
    for turn in range(max((len(q) for q in per_doc), default=0)):
        for questions in per_doc:
            if turn < len(questions) and questions[turn] not in picked:
                picked.append(questions[turn])
    return tuple(picked[: max(limit - 1, 0)] + [ABOUT_QUESTION])[:limit]


# --- the app -----------------------------------------------------------------------------------

# Charts wrap to one per row below this width (px), so a phone gets each at full width, titles whole.
CHART_MIN_WIDTH = 320
# Bar labels slanted, so names of two or three words fit under their bar at a phone's width.
CHART_LABEL_ANGLE = -30


def chart_component(chart: Chart, i: int) -> gr.BarPlot | gr.LinePlot:
    """The Gradio plot of a chart, `elem_id` "chart-<kind>-<i>"; must be called inside a Blocks context."""
    common = {"y": "value", "title": chart.title, "y_title": chart.unit, "y_lim": _ylim(chart.frame), "caption": chart.caption,
              "elem_id": f"chart-{chart.kind}-{i}", "elem_classes": ["fact-chart"], "min_width": CHART_MIN_WIDTH}
    if chart.kind == "bar":
        color = "basis" if chart.frame["basis"].nunique() > 1 else None
        # The names under the bars need no axis title; an empty one would fall back to the column's name.
        return gr.BarPlot(chart.frame, x="label", x_title=" ", color=color, sort="-y", x_label_angle=CHART_LABEL_ANGLE,
                          tooltip=["entity", "as written", "period", "basis"], **common)
    return gr.LinePlot(chart.frame, x="label", x_title="period", sort=list(chart.frame["label"]), tooltip=["label", "as written", "basis"], **common)


def timeline_component(timeline: pd.DataFrame) -> gr.ScatterPlot:
    """The dated events as a chart, `elem_id` "chart-timeline"; must be called inside a Blocks context."""
    return gr.ScatterPlot(timeline_chart_frame(timeline), x="year", y="part", title="Dated events", x_lim=_xlim_years(timeline),
                          x_axis_format="d", x_title="year", y_title="", tooltip=["when", "section", "sentence"], elem_id="chart-timeline",
                          elem_classes=["fact-chart"], min_width=CHART_MIN_WIDTH, caption="Every sentence that names a month and year.")


class ArticleBotBlocks(gr.Blocks):
    """gr.Blocks whose `launch` brings the app's CSS and theme and blocks the corpus, index and feedback folders.

    Gradio 6 takes `css` and `theme` in `launch()`, not in the constructor; overriding `launch` keeps
    `create_app(bot).launch(...)` looking right without every caller passing them. Gradio serves
    no working-directory file by default; `blocked_paths` makes sure it never serves these folders.
    """

    app_css: str = APP_CSS
    private_paths: list[str] = []

    def launch(self, *args: Any, **kwargs: Any) -> Any:  # noqa: D401 - gr.Blocks.launch
        kwargs.setdefault("css", self.app_css)
        kwargs.setdefault("theme", APP_THEME)
        kwargs.setdefault("max_file_size", MAX_UPLOAD)  # the app takes no uploads; bound Gradio's upload route
        kwargs["blocked_paths"] = [*(kwargs.get("blocked_paths") or []), *self.private_paths]
        return super().launch(*args, **kwargs)


def _index_root(bot: Any) -> Path | None:
    folder = getattr(getattr(bot, "index", None), "folder", None)
    return Path(folder).parent if folder else None


def _rating(liked: Any) -> str:
    if liked is True or liked == "Like":
        return "up"
    if liked is False or liked == "Dislike":
        return "down"
    if liked in (None, ""):
        return "cleared"
    return str(liked)


def feedback_record(turns: Sequence[dict[str, Any]], index: Any, liked: Any, session: str | None = None) -> dict[str, Any] | None:
    """The record to store for a like/dislike on chat message `index`; None when it is not an answer."""
    if isinstance(index, (list, tuple)):
        index = index[0] if index else None
    if not isinstance(index, int) or index < 0 or index % 2 != 1 or index // 2 >= len(turns):
        return None
    turn = turns[index // 2]
    a = turn["answer"]
    return {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "rating": _rating(liked),
        "question": turn["question"],
        "standalone_question": a.get("standalone_question"),
        "answer": a.get("text"),
        "answerable": a.get("answerable"),
        "kind": answer_kind(a),
        "backend": a.get("backend"),
        "citations": [{k: c.get(k) for k in ("n", "doc_id", "section", "start", "end")} for c in a.get("citations") or []],
        "figures": [{k: f.get(k) for k in ("text", "status", "expected")} for f in a.get("figures") or []],
        "turn": index // 2,
        "session": session,
    }


def _history_of(turns: Sequence[dict[str, Any]]) -> list[tuple[str, Answer]]:
    """Earlier turns with the standalone questions they were searched as, so none is resolved again."""
    return [
        (t["question"], Answer(text=t["answer"].get("text") or "", standalone_question=t["answer"].get("standalone_question") or ""))
        for t in turns
    ]


def ask_turns(bot: Any, question: Any, turns: Any) -> Iterator[tuple[Any, Any, Any, Any]]:
    """The chat's ask handler: (chat, turns, question box, notice) updates, first of all the question itself.

    The question shows at once, before the first token; provisional answers replace one another while
    an LLM streams, and the turns (kept in the browser) are stored once, with the final, guarded answer.
    A question the bot refuses to take (empty, too long) leaves the chat as it was, puts the question
    back in the box and says why in the notice: a user's mistake is logged as one line, not a traceback.
    """
    turns = clean_turns(turns)
    asked = question if isinstance(question, str) else ""
    next_id = max((t["id"] for t in turns), default=-1) + 1
    if asked.strip():
        yield chat_messages(turns, pending=asked), gr.skip(), "", ""
    shown = None
    try:
        for answer in bot.ask_stream(asked, history=_history_of(turns)):
            shown = (turns + [{"id": next_id, "question": answer.question or asked, "answer": answer.to_dict()}])[-MAX_UI_TURNS:]
            yield chat_messages(shown), gr.skip(), gr.skip(), gr.skip()
    except BotError as e:
        log.info("question not answered: %s", e)
        yield chat_messages(turns), gr.skip(), asked if asked.strip() else "", notice_html(str(e))
        return
    except Exception:
        log.exception("internal error answering in the chat")
        yield chat_messages(turns), gr.skip(), asked, notice_html(INTERNAL_ERROR, error=True)
        return
    if shown is not None:
        yield gr.skip(), shown, gr.skip(), gr.skip()


def starter_handler(bot: Any, text: str) -> Callable[[Any], Iterator[tuple[Any, Any, Any, Any]]]:
    """The click handler of a starter button: a generator function, as Gradio needs to stream its output.

    (A lambda returning `ask_turns(...)` is a plain function to Gradio, which then takes the generator
    object it returns for a single output value: "didn't return enough output values".)
    """

    def on_starter(turns: Any) -> Iterator[tuple[Any, Any, Any, Any]]:
        yield from ask_turns(bot, text, turns)

    return on_starter


def create_app(
    bot: Any,
    feedback_path: str | Path = DEFAULT_FEEDBACK_PATH,
    corpus_dir: str | Path | None = None,
    *,
    index_dir: str | Path | None = None,
) -> gr.Blocks:
    """The app for a loaded Bot: chat with citation chips and source pane, Facts tab, feedback, `/ask` API.

    `corpus_dir` (where the fact table lies) defaults to the folder of the bot's first document.
    The queue is configured here (see ASK_CONCURRENCY, QUEUE_MAX_SIZE); call `.launch()` on the result.
    """
    documents = dict(bot.documents)
    if corpus_dir is None and documents:
        corpus_dir = Path(next(iter(documents.values())).path).parent
    feedback_path = Path(feedback_path)
    fact_rows, facts_status = load_fact_rows(bot, corpus_dir)
    facts_by_id = {f.id: f for f in fact_rows}
    facts_all = facts_frame(fact_rows)
    sentence_of = sentence_spans(bot)
    timeline = timeline_frame(bot)
    charts = fact_charts(fact_rows)
    starter_texts = starter_questions(documents, fact_rows)

    def on_ask(question: str, turns: Any):  # noqa: ANN202 - gradio outputs
        """Streams the question, then provisional answers when an LLM backend streams; the last is guarded."""
        yield from ask_turns(bot, question, turns)

    def on_load(turns: Any):  # noqa: ANN202
        return chat_messages(clean_turns(turns))

    def on_new_chat():  # noqa: ANN202
        return [], [], "", welcome_html(documents), ""

    def on_source(turns: Any, evt: gr.EventData):  # noqa: ANN202
        data = getattr(evt, "_data", None)
        data = data if isinstance(data, dict) else {}
        nonce = time.monotonic_ns()
        if isinstance(data.get("fact"), str):
            fact = facts_by_id.get(data["fact"])
            page = fact_source_html(documents, fact, fact and sentence_of(fact.doc_id, fact.start), nonce=nonce)
        else:
            page = source_html(documents, clean_turns(turns), data.get("cite") if isinstance(data.get("cite"), str) else None, nonce=nonce)
        return gr.skip() if page is None else page

    def on_like(turns: Any, evt: gr.LikeData, request: gr.Request):  # noqa: ANN202
        record = feedback_record(clean_turns(turns), evt.index, evt.liked, getattr(request, "session_hash", None))
        if record is None:
            return gr.skip()
        try:
            append_feedback(feedback_path, record)
        except OSError as e:
            log.error("feedback not saved to %s: %s", feedback_path, e)
            return notice_html("Your feedback could not be saved; please try again later.", error=True)
        return notice_html(THANKS if record["rating"] in ("up", "down") else "Your feedback was withdrawn.", key=time.monotonic_ns())

    def ask(question: str, history: list[list[str]] | None = None) -> dict:
        """Answer one question about the article, with citations.

        question: the question. history: earlier [question, answer] pairs of the same conversation,
        oldest first, or None. Returns Answer.to_dict(): text with [n] markers, citations, answerable,
        question, standalone_question, figures, notes, backend, kind. Errors (empty question, malformed
        history) come back as an error with a message meant for the user.
        """
        try:
            return bot.ask(question, history=history).to_dict()
        except BotError as e:
            log.info("/ask not answered: %s", e)
            raise gr.Error(str(e), print_exception=False) from None
        except Exception:
            log.exception("internal error answering %r", question[:200] if isinstance(question, str) else question)
            raise gr.Error(INTERNAL_ERROR, print_exception=False) from None

    with ArticleBotBlocks(title=TITLE, analytics_enabled=False) as demo:
        turns = gr.BrowserState([], storage_key=CONVERSATION_KEY)
        gr.Markdown(header_markdown(documents), elem_id="header")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=360):
                with gr.Tabs():
                    with gr.Tab("Chat", id="chat"):
                        # Gradio's own copy button copies a message's source, which here is HTML with chip
                        # markup; each answer carries its own copy button, which copies the plain text.
                        chatbot = gr.Chatbot(
                            label="Conversation", elem_id="chat", height=520, latex_delimiters=[], buttons=[],
                            feedback_options=("Like", "Dislike"), placeholder="Ask a question about the article, or pick one below.",
                        )
                        notice = gr.HTML("", elem_id="notice")
                        with gr.Row():
                            question = gr.Textbox(label="Your question", placeholder=f"e.g. {starter_texts[0]}", elem_id="question",
                                                  scale=5, lines=1, max_lines=4, autofocus=True, submit_btn=False, show_label=False)
                            send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask-button", min_width=80)
                        with gr.Row(elem_id="starters"):
                            starters = [gr.Button(q, size="sm", variant="secondary") for q in starter_texts]
                        new_chat = gr.Button("New chat", size="sm", elem_id="new-chat")
                    with gr.Tab("Facts", id="facts"):
                        gr.Markdown(escape_text(facts_status), elem_id="facts-status")
                        facts_filter = gr.Textbox(label="Filter the table", placeholder="a name, metric, figure or period",
                                                  elem_id="facts-filter")
                        facts_table = gr.HTML(facts_html(facts_all), elem_id="facts-table", max_height=460, container=True)
                        plots = [partial(chart_component, c, i) for i, c in enumerate(charts)]
                        plots += [partial(timeline_component, timeline)] if not timeline.empty else []
                        for row in range(0, len(plots), 2):  # two a row; a phone gets one a row (CHART_MIN_WIDTH)
                            with gr.Row():
                                for make in plots[row : row + 2]:
                                    make()
                        if not timeline.empty:
                            gr.HTML(timeline_html(timeline), elem_id="timeline-list", label="Timeline")
            with gr.Column(scale=2, min_width=320):
                source = gr.HTML(welcome_html(documents), elem_id="source-pane", label="Source", max_height=640,
                                 js_on_load=_SOURCE_JS, container=True, padding=True)

        ask_outputs = [chatbot, turns, question, notice]
        common = {"api_visibility": "private", "concurrency_id": ASK_CONCURRENCY_ID, "trigger_mode": "once"}
        question.submit(on_ask, [question, turns], ask_outputs, **common).then(None, js=_FOCUS_JS)
        send.click(on_ask, [question, turns], ask_outputs, **common).then(None, js=_FOCUS_JS)
        for button, text in zip(starters, starter_texts, strict=True):
            button.click(starter_handler(bot, text), [turns], ask_outputs, **common).then(None, js=_FOCUS_JS)
        reset = [chatbot, turns, question, source, notice]
        new_chat.click(on_new_chat, None, reset, api_visibility="private").then(None, js=_FOCUS_JS)
        chatbot.clear(on_new_chat, None, reset, api_visibility="private")
        demo.load(on_load, [turns], [chatbot], api_visibility="private")
        source.click(on_source, [turns], source, api_visibility="private", trigger_mode="multiple")
        chatbot.like(on_like, [turns], [notice], api_visibility="private")
        facts_filter.change(lambda q: facts_html(facts_all, q), facts_filter, facts_table, api_visibility="private", trigger_mode="always_last")
        gr.api(ask, api_name="ask", concurrency_id=ASK_CONCURRENCY_ID)

    demo.private_paths = [str(Path(p).resolve()) for p in (corpus_dir, index_dir, _index_root(bot), feedback_path.parent) if p]
    demo.queue(default_concurrency_limit=ASK_CONCURRENCY, max_size=QUEUE_MAX_SIZE)
    return demo
