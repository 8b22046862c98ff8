"""The web app: a Gradio 6 Blocks UI over a loaded `Bot`, plus the `/ask` HTTP endpoint.

    from bot import Bot
    from bot.ui import create_app
    create_app(Bot.load()).launch(server_name="127.0.0.1", server_port=7860)

Only `app.py` (and tests) import this module; nothing on the query path imports gradio.

How citations work in the page: every `[n]` marker of an answer becomes
`<button class="cite-chip" value="TURN:N">N</button>` inside the bot's chat message (Gradio's chat
sanitiser keeps `<button>`, `class`, `value` and `title`, but strips `data-*` attributes, hence
`value`). One document-level click listener, installed by the source pane's `js_on_load`, turns a
click on any chip into the source pane's `click` event carrying `{"cite": "TURN:N"}`; Python answers
with the whole article, HTML-escaped, the cited span wrapped in `<mark id="cite-span">`, and the
pane's `watch('value', ...)` scrolls that mark into view. Everything from readers or the article
goes through `escape_text` (or `html.escape` in the source pane) before it reaches any HTML.
"""

from __future__ import annotations

import html
import logging
import re
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from .errors import BotError
from .feedback import DEFAULT_FEEDBACK_PATH, append_feedback
from .types import Answer

log = logging.getLogger("bot.ui")

TITLE = "Ask the article"
STARTER_QUESTIONS = (
    "How big was the antitrust fine Alibaba received in April 2021?",
    "What is Alibaba Cloud's market share in China?",
    "Why was the Cainiao IPO withdrawn?",
    "Who took over from Daniel Zhang in September 2023?",
)

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
# Settings.max_history_turns); older turns leave the page so a long session's state stays bounded.
MAX_UI_TURNS = 100
# Shown when an unexpected exception reaches the UI or /ask: the details go to the server log only.
INTERNAL_ERROR = "Something went wrong on the server while answering; it has been logged. Please try again."
# The app has no upload component; Gradio still exposes an upload route, so it is bounded.
MAX_UPLOAD = "1mb"

_MARKER = re.compile(r"\[(\d+)\]")
_DATED = re.compile(r"\b(January|February|March|April|May|June|July|August|September|October|November|December)\s+((?:19|20)\d{2})\b")
_MONTH_NUMBER = {m: i for i, m in enumerate(
    ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"), 1)}
# The chat renders Markdown and sanitises HTML. Reader and article text reach it HTML-escaped, and
# the characters Markdown would read as syntax (emphasis, code, links, headings, tables, escapes) as
# numeric entities, which Markdown always shows literally; so does a line-opening list or quote
# marker. Other punctuation stays as it is, which keeps screen-reader labels and copied text clean.
_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", **{c: f"&#{ord(c)};" for c in "\\`*_[]#|~"}})
_LINE_START = re.compile(r"^(\s*)([-+]|\d+(?=[.)]))", re.M)

FIGURE_STATUS = {
    "ok": ("fig-ok", "matches the article"),
    "derived": ("fig-ok", "derived from the article's figures"),
    "unsupported": ("fig-bad", "not found in the article"),
    "mismatch": ("fig-bad", "differs from the article"),
    "period_mismatch": ("fig-bad", "belongs to another period in the article"),
    "entity_mismatch": ("fig-bad", "belongs to another company in the article"),
    "over_precise": ("fig-warn", "more precise than the article"),
}

APP_CSS = """
.cite-chip { display: inline-flex; align-items: center; justify-content: center; min-width: 1.5em; height: 1.5em;
  padding: 0 .35em; margin: 0 .1em; border-radius: 999px; border: 1px solid var(--color-accent);
  background: var(--color-accent-soft); color: var(--body-text-color); font-size: .78em; font-weight: 600;
  line-height: 1; cursor: pointer; vertical-align: .15em; }
.cite-chip:hover, .cite-chip:focus-visible { background: var(--color-accent); color: white; }
.answer-meta { font-size: .85em; opacity: .85; margin-top: .35em; }
.badge-refusal { display: inline-block; padding: .1em .55em; margin-bottom: .3em; border-radius: 999px;
  background: #fdecea; color: #8a1c12; border: 1px solid #f1b0a8; font-size: .8em; font-weight: 600; }
.fig { display: inline-block; margin: .1em .4em .1em 0; padding: 0 .4em; border-radius: 4px; }
.fig-ok { background: #e7f5ea; color: #1d5e2c; }
.fig-bad { background: #fdecea; color: #8a1c12; }
.fig-warn { background: #fff4e0; color: #7a4b00; }
#source-pane .src-head { position: sticky; top: 0; background: var(--block-background-fill); padding: .4em 0;
  border-bottom: 1px solid var(--border-color-primary); margin-bottom: .5em; z-index: 1; }
#source-pane .src-body p { margin: 0 0 .7em 0; }
#source-pane .src-body h3 { margin: 1em 0 .4em 0; font-size: 1.05em; }
#source-pane mark { background: #ffe066; color: inherit; padding: 0 .1em; border-radius: 2px; }
#source-pane .src-hint { opacity: .8; font-size: .9em; }
.timeline-list li { margin-bottom: .4em; }
.timeline-list .timeline-next { opacity: .65; }
"""

# Installed once per page by the source pane (see the module docstring). `trigger` is re-bound on every
# load so a re-rendered pane still receives the clicks.
_SOURCE_JS = """
window.__articleBotCite = (value) => trigger('click', {cite: value});
if (!window.__articleBotCiteBound) {
  window.__articleBotCiteBound = true;
  document.addEventListener('click', (e) => {
    const chip = e.target instanceof Element ? e.target.closest('button.cite-chip') : null;
    if (!chip || !chip.value) return;
    e.preventDefault();
    e.stopPropagation();
    window.__articleBotCite(chip.value);
  }, true);
}
watch('value', () => {
  const mark = element.querySelector('#cite-span');
  if (mark) mark.scrollIntoView({block: 'center', inline: 'nearest'});
});
"""


# --- rendering (pure functions: no gradio, easy to test) ---------------------------------------


def escape_text(text: str) -> str:
    """Text made safe for the chat's Markdown+HTML renderer: shows as written, never as markup."""
    out = str(text).translate(_ENTITIES)
    return _LINE_START.sub(lambda m: m.group(1) + "".join(f"&#{ord(ch)};" for ch in m.group(2)), out)


def question_html(question: str) -> str:
    """A reader's question as chat message content."""
    return escape_text(question)


def answer_html(answer: dict[str, Any], turn_id: int) -> str:
    """An answer as chat message content: text with citation chips, refusal badge, rewrite and figures."""
    cites = {c["n"]: c for c in answer.get("citations") or []}
    parts: list[str] = []
    if answer.get("answerable") is False:
        parts.append('<span class="badge-refusal">Not in the article</span><br>')
    pos, text = 0, answer.get("text") or ""
    body: list[str] = []
    for m in _MARKER.finditer(text):
        n = int(m.group(1))
        if n not in cites:
            continue
        body.append(escape_text(text[pos : m.start()]).rstrip())
        c = cites[n]
        tip = escape_text(f"Show source {n} in the article: {c.get('section', '')}")
        body.append(f' <button class="cite-chip" value="{turn_id}:{n}" title="{tip}">{n}</button>')
        pos = m.end()
    body.append(escape_text(text[pos:]))
    parts.append("".join(body))
    standalone, asked = answer.get("standalone_question") or "", answer.get("question") or ""
    if standalone and standalone != asked:
        parts.append(f'<div class="answer-meta">Searched as: “{escape_text(standalone)}”</div>')
    # A figure quoted twice (the table's wording, then the article's sentence) is listed once.
    figures = list({(f.get("text"), f.get("status"), f.get("expected")): f for f in answer.get("figures") or []}.values())
    if figures:
        items = []
        for f in figures:
            css, verdict = FIGURE_STATUS.get(f.get("status"), ("fig-warn", escape_text(f.get("status") or "unchecked")))
            expected = f" (the article says {escape_text(f['expected'])})" if f.get("expected") else ""
            items.append(f'<span class="fig {css}">{escape_text(f.get("text", ""))}: {verdict}{expected}</span>')
        parts.append('<div class="answer-meta">Figures: ' + " ".join(items) + "</div>")
    for note in answer.get("notes") or []:
        parts.append(f'<div class="answer-meta">Note: {escape_text(note)}</div>')
    return "".join(parts)


def chat_messages(turns: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """The Chatbot value for a conversation: a user and an assistant message per turn, in order."""
    out: list[dict[str, str]] = []
    for t in turns:
        out.append({"role": "user", "content": question_html(t["question"])})
        out.append({"role": "assistant", "content": answer_html(t["answer"], t["id"])})
    return out


def _line_spans(text: str) -> Iterable[tuple[int, int]]:
    start = 0
    for line in text.split("\n"):
        yield start, start + len(line)
        start += len(line) + 1


def article_html(doc: Any, span: tuple[int, int] | None = None, head: str = "", nonce: int = 0) -> str:
    """A document as escaped HTML paragraphs; `span` (character offsets) wrapped in `<mark id="cite-span">`."""
    text = doc.text
    headings = {(s.heading_start, s.heading_end) for s in getattr(doc, "sections", ()) if s.heading_end > s.heading_start}
    out = [f'<div class="src" data-nonce="{int(nonce)}">']
    if head:
        out.append(f'<div class="src-head">{head}</div>')
    out.append('<div class="src-body">')
    marked = False
    for start, end in _line_spans(text):
        if start == end:
            continue
        if span is not None and span[0] < end and span[1] > start:
            a, b = max(span[0], start), min(span[1], end)
            mark_id = "" if marked else ' id="cite-span"'
            marked = True
            inner = f"{html.escape(text[start:a])}<mark{mark_id}>{html.escape(text[a:b])}</mark>{html.escape(text[b:end])}"
        else:
            inner = html.escape(text[start:end])
        tag = "h3" if any(hs <= start and end <= he for hs, he in headings) and start > 0 else "p"
        if start == 0:
            tag = "h2"
        out.append(f"<{tag}>{inner}</{tag}>")
    out.append("</div></div>")
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
        f'<button class="cite-chip" value="{turn_id}:{o["n"]}" title="Show source {o["n"]}">{o["n"]}</button>'
        for o in turn["answer"]["citations"]
    )
    head = (
        f"<strong>Source [{n}]</strong> · {html.escape(c['section'])} · <em>{html.escape(doc.title)}</em>"
        f'<div class="src-hint">Question: “{html.escape(turn["question"])}” — sources of this answer: {chips}</div>'
    )
    return article_html(doc, (c["start"], c["end"]), head=head, nonce=nonce)


def welcome_html(documents: dict[str, Any]) -> str:
    """The source pane before any citation is clicked: the article, unmarked."""
    if not documents:
        return '<div class="src"><p class="src-hint">No article is loaded.</p></div>'
    doc = next(iter(documents.values()))
    head = '<span class="src-hint">Click a numbered citation in an answer to see it highlighted here.</span>'
    return article_html(doc, None, head=head)


# --- facts tab ---------------------------------------------------------------------------------

FACT_COLUMNS = ["entity", "metric", "figure", "value", "low", "high", "unit", "period", "qualifier", "kind", "id"]


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
    return rows, f"{len(rows)} figures stated in the article, from its fact table. Click a column header to sort."


def _unit(f: Any) -> str:
    bits = [b for b in (getattr(f, "currency", None), getattr(f, "scale", None), getattr(f, "unit", None)) if b]
    if f.kind == "percent":
        bits.append("%")
    return " ".join(bits)


def facts_frame(rows: Sequence[Any]) -> pd.DataFrame:
    """The fact table as a DataFrame (one row per fact, article order)."""
    data = [
        {
            "entity": f.entity, "metric": f.metric, "figure": f.quote,
            "value": f.value, "low": f.low, "high": f.high, "unit": _unit(f),
            "period": f.period or "", "qualifier": f.qualifier or "", "kind": f.kind, "id": f.id,
        }
        for f in sorted(rows, key=lambda f: (f.doc_id, f.start))
    ]  # fmt: skip
    return pd.DataFrame(data, columns=FACT_COLUMNS)


def filter_facts(frame: pd.DataFrame, query: str | None) -> pd.DataFrame:
    """Rows where every word of `query` occurs (case-insensitive) in some text column."""
    words = (query or "").lower().split()
    if not words or frame.empty:
        return frame
    hay = frame[["entity", "metric", "figure", "unit", "period", "qualifier", "kind", "id"]].astype(str).agg(" ".join, axis=1).str.lower()
    keep = pd.Series(True, index=frame.index)
    for w in words:
        keep &= hay.str.contains(w, regex=False)
    return frame[keep]


def _metric_terms(metric: str) -> frozenset[str]:
    try:
        from .facts import terms
    except ImportError:  # pragma: no cover - facts.py absent
        return frozenset(re.findall(r"[a-z0-9-]+", metric.lower()))
    return terms(metric)


def _point(f: Any) -> tuple[float | None, str]:
    """A row's value for a chart and how it was read: as stated, or the middle of a stated range."""
    if f.value is not None:
        return f.value, ("approximate" if f.qualifier else "as stated")
    if f.low is not None and f.high is not None:
        return (f.low + f.high) / 2, "approximate (middle of the stated range)"
    return None, ""


def gmv_frame(rows: Sequence[Any]) -> pd.DataFrame:
    """GMV by company (money rows whose metric is GMV), in CNY trillion."""
    out = []
    for f in rows:
        if f.kind == "money" and "gmv" in _metric_terms(f.metric) and (f.currency or "CNY") == "CNY":
            v, basis = _point(f)
            if v is not None:
                out.append({"company": f.entity, "GMV (CNY trillion)": round(v / 1e12, 3), "as written": f.quote, "period": f.period or "", "basis": basis, "fact": f.id})
    return pd.DataFrame(out, columns=["company", "GMV (CNY trillion)", "as written", "period", "basis", "fact"])


def cloud_share_frame(rows: Sequence[Any]) -> pd.DataFrame:
    """China cloud market shares (percent rows whose metric is a cloud market share)."""
    out = []
    for f in rows:
        t = _metric_terms(f.metric)
        if f.kind == "percent" and "share" in t and "cloud" in t:
            v, basis = _point(f)
            if v is not None:
                out.append({"provider": f.entity, "market share (%)": v, "as written": f.quote, "basis": basis, "fact": f.id})
    return pd.DataFrame(out, columns=["provider", "market share (%)", "as written", "basis", "fact"])


def ecommerce_share_frame(rows: Sequence[Any], entity: str = "Alibaba") -> pd.DataFrame:
    """Alibaba's e-commerce market share by year; a range ("mid-40% range") is plotted at its middle and marked."""
    out = []
    for f in rows:
        t = _metric_terms(f.metric)
        if f.entity == entity and f.kind == "percent" and "share" in t and "ecommerce" in t and f.period:
            v, basis = _point(f)
            if v is not None:
                year = f.period[:4]
                label = year if basis == "as stated" else f"{year} (≈, {f.quote})"
                out.append({"year": label, "share (%)": v, "as written": f.quote, "basis": basis, "fact": f.id, "_order": f.period})
    frame = pd.DataFrame(out, columns=["year", "share (%)", "as written", "basis", "fact", "_order"])
    return frame.sort_values("_order").drop(columns="_order").reset_index(drop=True)


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


def _title(base: str, frame: pd.DataFrame) -> str:
    periods = sorted({p for p in frame.get("period", pd.Series(dtype=str)) if p})
    return f"{base} ({', '.join(periods)})" if periods else base


def _ylim(frame: pd.DataFrame, column: str) -> list[float]:
    """Bars start at zero (Vega otherwise drops zero and a small bar vanishes), with headroom above."""
    top = float(frame[column].max()) if not frame.empty else 1.0
    return [0, round(top * 1.15, 2) or 1.0]


def _xlim_years(frame: pd.DataFrame) -> list[float] | None:
    if frame.empty:
        return None
    return [float(int(frame["year"].min())), float(int(frame["year"].max()) + 1)]


def _caption(frame: pd.DataFrame, what: str) -> str:
    if frame.empty:
        return f"No {what} rows in the fact table."
    return "From the article's fact table: " + ", ".join(frame["fact"].astype(str)) + "."


# --- the app -----------------------------------------------------------------------------------


class ArticleBotBlocks(gr.Blocks):
    """gr.Blocks whose `launch` brings the app's CSS and blocks the corpus, index and feedback folders.

    Gradio 6 takes `css` in `launch()`, not in the constructor; overriding `launch` keeps
    `create_app(bot).launch(...)` looking right without every caller passing the CSS. Gradio serves
    no working-directory file by default; `blocked_paths` makes sure it never serves these folders.
    """

    app_css: str = APP_CSS
    private_paths: list[str] = []

    def launch(self, *args: Any, **kwargs: Any) -> Any:  # noqa: D401 - gr.Blocks.launch
        kwargs.setdefault("css", self.app_css)
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
        "backend": a.get("backend"),
        "citations": [{k: c.get(k) for k in ("n", "doc_id", "section", "start", "end")} for c in a.get("citations") or []],
        "figures": [{k: f.get(k) for k in ("text", "status", "expected")} for f in a.get("figures") or []],
        "turn": index // 2,
        "session": session,
    }


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
    facts_all = facts_frame(fact_rows)
    timeline = timeline_frame(bot)
    gmv, cloud, share = gmv_frame(fact_rows), cloud_share_frame(fact_rows), ecommerce_share_frame(fact_rows)
    doc_title = next(iter(documents.values())).title if documents else "the article"

    def history_of(turns: Sequence[dict[str, Any]]) -> list[tuple[str, Answer]]:
        """Earlier turns with the standalone questions they were searched as, so none is resolved again."""
        return [
            (t["question"], Answer(text=t["answer"].get("text") or "", standalone_question=t["answer"].get("standalone_question") or ""))
            for t in turns
        ]

    def on_ask(question: str, turns: list[dict[str, Any]]):  # noqa: ANN202 - gradio outputs
        """Streams provisional answers when an LLM backend streams; the last one shown is the guarded answer."""
        turns = list(turns or [])
        next_id = turns[-1]["id"] + 1 if turns else 0
        try:
            for answer in bot.ask_stream(question if isinstance(question, str) else "", history=history_of(turns)):
                shown = (turns + [{"id": next_id, "question": answer.question or question, "answer": answer.to_dict()}])[-MAX_UI_TURNS:]
                yield chat_messages(shown), shown, ""
        except BotError as e:
            raise gr.Error(str(e)) from None
        except Exception:
            log.exception("internal error answering in the chat")
            raise gr.Error(INTERNAL_ERROR) from None

    def on_new_chat():  # noqa: ANN202
        return [], [], "", welcome_html(documents)

    def on_cite(turns: list[dict[str, Any]], evt: gr.EventData):  # noqa: ANN202
        data = getattr(evt, "_data", None) or {}
        page = source_html(documents, turns or [], data.get("cite") if isinstance(data, dict) else None, nonce=time.monotonic_ns())
        return gr.skip() if page is None else page

    def on_like(turns: list[dict[str, Any]], evt: gr.LikeData, request: gr.Request):  # noqa: ANN202
        record = feedback_record(turns or [], evt.index, evt.liked, getattr(request, "session_hash", None))
        if record is None:
            return
        try:
            append_feedback(feedback_path, record)
        except OSError as e:
            log.error("feedback not saved to %s: %s", feedback_path, e)
            gr.Warning("Your feedback could not be saved; please try again later.")

    def ask(question: str, history: list[list[str]] | None = None) -> dict:
        """Answer one question about the article, with citations.

        question: the question. history: earlier [question, answer] pairs of the same conversation,
        oldest first, or None. Returns Answer.to_dict(): text with [n] markers, citations, answerable,
        question, standalone_question, figures, notes, backend. Errors (empty question, malformed
        history) come back as an error with a message meant for the user.
        """
        try:
            return bot.ask(question, history=history).to_dict()
        except BotError as e:
            raise gr.Error(str(e)) from None
        except Exception:
            log.exception("internal error answering %r", question[:200] if isinstance(question, str) else question)
            raise gr.Error(INTERNAL_ERROR) from None

    with ArticleBotBlocks(title=TITLE, analytics_enabled=False) as demo:
        turns = gr.State([])
        gr.Markdown(f"## {TITLE}\nQuestions about *{escape_text(doc_title)}*. Answers quote the article; click a numbered citation to see it in place.")
        with gr.Tab("Chat", id="chat"):
            with gr.Row(equal_height=False):
                with gr.Column(scale=3, min_width=360):
                    # No copy buttons: Gradio copies a message's source, which here is HTML with chip
                    # markup; selecting the text copies what the reader sees.
                    chatbot = gr.Chatbot(
                        label="Conversation", elem_id="chat", height=520, latex_delimiters=[], buttons=[],
                        feedback_options=("Like", "Dislike"), placeholder="Ask a question about the article, or pick one below.",
                    )
                    with gr.Row():
                        question = gr.Textbox(label="Your question", placeholder="e.g. How big was the antitrust fine?", elem_id="question",
                                              scale=5, lines=1, max_lines=4, autofocus=True, submit_btn=False, show_label=False)
                        send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask-button", min_width=80)
                    with gr.Row(elem_id="starters"):
                        starters = [gr.Button(q, size="sm", variant="secondary") for q in STARTER_QUESTIONS]
                    new_chat = gr.Button("New chat", size="sm", elem_id="new-chat")
                with gr.Column(scale=2, min_width=320):
                    source = gr.HTML(welcome_html(documents), elem_id="source-pane", label="Source", max_height=640,
                                     js_on_load=_SOURCE_JS, container=True, padding=True)
        with gr.Tab("Facts", id="facts"):
            gr.Markdown(escape_text(facts_status), elem_id="facts-status")
            facts_filter = gr.Textbox(label="Filter the table", placeholder="company, metric, figure or period, e.g. cloud share", elem_id="facts-filter")
            facts_table = gr.Dataframe(facts_all, interactive=False, wrap=True, max_height=420, elem_id="facts-table",
                                       datatype=["str", "str", "str", "number", "number", "number", "str", "str", "str", "str", "str"])
            with gr.Row():
                gr.BarPlot(gmv, x="company", y="GMV (CNY trillion)", color="basis", title=_title("GMV, CNY trillion", gmv), sort="-y", y_lim=_ylim(gmv, "GMV (CNY trillion)"),
                           tooltip=["company", "as written", "period", "basis"], caption=_caption(gmv, "GMV"), elem_id="chart-gmv")
                gr.BarPlot(cloud, x="provider", y="market share (%)", title="China cloud market share (%)", sort="-y", y_lim=_ylim(cloud, "market share (%)"),
                           tooltip=["provider", "as written", "basis"], caption=_caption(cloud, "cloud share"), elem_id="chart-cloud")
            with gr.Row():
                gr.LinePlot(share, x="year", y="share (%)", title="Alibaba's share of Chinese e-commerce (%)", y_lim=[0, 60],
                            tooltip=["year", "as written", "basis"], elem_id="chart-share",
                            caption=_caption(share, "e-commerce share") + " The 2024 point is approximate: the article says only 'the mid-40% range'.")
                gr.ScatterPlot(timeline.drop(columns=["date"]), x="year", y="section", title="Dated events in the article",
                               x_lim=_xlim_years(timeline), x_axis_format="d", x_title="year", y_title="",
                               tooltip=["when", "sentence"], elem_id="chart-timeline",
                               caption="Every sentence of the article that names a month and year.")
            gr.HTML(timeline_html(timeline), elem_id="timeline-list", label="Timeline")

        ask_outputs = [chatbot, turns, question]
        common = {"api_visibility": "private", "concurrency_id": ASK_CONCURRENCY_ID, "trigger_mode": "once"}
        question.submit(on_ask, [question, turns], ask_outputs, **common)
        send.click(on_ask, [question, turns], ask_outputs, **common)
        for button, text in zip(starters, STARTER_QUESTIONS, strict=True):
            button.click(lambda t, q=text: on_ask(q, t), [turns], ask_outputs, **common)
        new_chat.click(on_new_chat, None, [chatbot, turns, question, source], api_visibility="private")
        chatbot.clear(on_new_chat, None, [chatbot, turns, question, source], api_visibility="private")
        source.click(on_cite, [turns], source, api_visibility="private", trigger_mode="multiple")
        chatbot.like(on_like, [turns], None, api_visibility="private")
        facts_filter.change(lambda q: filter_facts(facts_all, q), facts_filter, facts_table, api_visibility="private", trigger_mode="always_last")
        gr.api(ask, api_name="ask", concurrency_id=ASK_CONCURRENCY_ID)

    demo.private_paths = [str(Path(p).resolve()) for p in (corpus_dir, index_dir, _index_root(bot), feedback_path.parent) if p]
    demo.queue(default_concurrency_limit=ASK_CONCURRENCY, max_size=QUEUE_MAX_SIZE)
    return demo
