"""The web app: the /ask HTTP endpoint through gradio_client against a real server on 127.0.0.1, the
page's rendering helpers (escaping, citation chips, source pane, Facts tab data), and the feedback store.

The `bot` fixture (real article, real model, index built once per session) comes from conftest.py.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot import feedback as feedback_mod
from bot.feedback import append_feedback, read_feedback

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
ARTICLE_TEXT = (CORPUS / "twilight-of-an-empire-alibaba.txt").read_text(encoding="utf-8")
FINE_Q = "How big was the antitrust fine Alibaba received in April 2021?"
CRACKS = "The Empire's Cracks (2020-2022)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(bot, feedback_path: Path):  # noqa: ANN001, ANN201 - a Bot; (Blocks, url)
    """create_app(bot) launched on a free 127.0.0.1 port without blocking; close it with `.close()`."""
    from bot.ui import create_app

    app = create_app(bot, feedback_path=feedback_path)
    for attempt in range(3):  # another process may take the port between free_port() and launch
        port = free_port()
        try:
            app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
            return app, f"http://127.0.0.1:{port}/"
        except OSError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")



@pytest.fixture(scope="module")
def client(server):  # noqa: ANN001, ANN201
    from gradio_client import Client

    return Client(server, verbose=False)


# --- the /ask endpoint ---------------------------------------------------------------------------


def test_only_ask_is_public(client) -> None:  # noqa: ANN001
    api = client.view_api(print_info=False, return_format="dict")
    assert list(api["named_endpoints"]) == ["/ask"]
    params = api["named_endpoints"]["/ask"]["parameters"]
    assert [p["parameter_name"] for p in params] == ["question", "history"]
    assert params[1]["parameter_has_default"] and params[1]["parameter_default"] is None


def test_answer_with_citations(client, bot) -> None:  # noqa: ANN001
    a = client.predict(FINE_Q, None, api_name="/ask")
    assert "CNY 18.2 billion" in a["text"]
    assert a["answerable"] is True and a["question"] == FINE_Q
    c = a["citations"][0]
    assert c["section"] == CRACKS and c["n"] == 1 and "[1]" in a["text"]
    assert bot.documents[c["doc_id"]].text[c["start"] : c["end"]] == c["text"]
    assert set(a) >= {"text", "citations", "answerable", "question", "standalone_question", "figures", "notes", "backend"}
    assert set(a) <= {"text", "citations", "answerable", "question", "standalone_question", "figures", "notes", "backend", "kind"}
    assert a == client.predict(FINE_Q, api_name="/ask")  # history may be left out


def test_follow_up_with_history(client, bot) -> None:  # noqa: ANN001
    first = client.predict(FINE_Q, None, api_name="/ask")
    history = [[FINE_Q, first["text"]]]
    follow_up = "And what happened to Ant Group's IPO the year before?"
    a = client.predict(follow_up, history, api_name="/ask")
    assert a["question"] == follow_up
    assert isinstance(a["standalone_question"], str) and a["standalone_question"]
    assert isinstance(a["answerable"], bool) and all(f"[{c['n']}]" in a["text"] for c in a["citations"])
    # The endpoint hands the history to the bot as given: the same answer as the Python API's.
    assert a == bot.ask(follow_up, history=[(q, t) for q, t in history]).to_dict()
    assert client.predict(follow_up, [], api_name="/ask") == bot.ask(follow_up).to_dict()


def test_refusal_for_a_question_the_article_does_not_answer(client) -> None:  # noqa: ANN001
    a = client.predict("What is the boiling point of water?", None, api_name="/ask")
    assert a["answerable"] is False and a.get("kind", "refusal") == "refusal"
    assert a["text"].startswith("The article doesn")  # "doesn't say", "doesn't mention ...": the bot's wording


def test_question_about_another_company_has_the_answer_shape(client) -> None:  # noqa: ANN001
    # "Who is JD.com's CEO?" is not answered by the article; the extractive bot answered it with the
    # leadership sentences when this test was written, so only the shape is pinned here.
    a = client.predict("Who is JD.com's CEO?", None, api_name="/ask")
    assert isinstance(a["answerable"], bool) and isinstance(a["text"], str) and a["text"]
    if a["answerable"] is False:
        assert a["text"].startswith("The article doesn")
    for c in a["citations"]:
        assert f"[{c['n']}]" in a["text"]


@pytest.mark.parametrize(
    ("question", "history", "message"),
    [
        ("", None, "The question is empty"),
        ("   \n\t ", None, "The question is empty"),
        ("x" * 5000, None, "characters long"),
        ("What happened next?", "not a list", "History must be a list"),
        ("What happened next?", [["only one item"]], "not a [question, answer] pair"),
    ],
)
def test_bad_input_is_a_clear_error(client, question, history, message) -> None:  # noqa: ANN001
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as err:
        client.predict(question, history, api_name="/ask")
    assert message in str(err.value)


def test_a_users_mistake_is_one_log_line_not_a_traceback(client, caplog, capfd) -> None:  # noqa: ANN001
    import logging

    from gradio_client.exceptions import AppError

    capfd.readouterr()
    with caplog.at_level(logging.INFO, logger="bot.ui"), pytest.raises(AppError):
        client.predict("   ", None, api_name="/ask")
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err
    lines = [r for r in caplog.records if r.name == "bot.ui"]
    assert len(lines) == 1 and lines[0].exc_info is None and "The question is empty" in lines[0].getMessage()


def test_page_is_served_but_not_the_corpus_or_index(server, bot) -> None:  # noqa: ANN001
    with urllib.request.urlopen(server, timeout=10) as r:
        assert r.status == 200
    private = [CORPUS / "twilight-of-an-empire-alibaba.txt", Path(bot.index.folder) / "manifest.json", ROOT / "app.py"]
    for path in private:
        for route in (f"gradio_api/file={path}", f"file={path}", f"gradio_api/file={path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}"):
            try:
                with urllib.request.urlopen(server + route, timeout=10) as r:
                    body = r.read()
                    status = r.status
            except urllib.error.HTTPError as e:
                status, body = e.code, e.read()
            assert status in (403, 404), f"{route} answered {status}"
            assert b"In April 2021" not in body and b"sha256" not in body


def test_queue_is_bounded_and_all_asking_shares_one_limit(bot, tmp_path) -> None:  # noqa: ANN001
    from bot.ui import ASK_CONCURRENCY, ASK_CONCURRENCY_ID, QUEUE_MAX_SIZE, create_app

    demo = create_app(bot, feedback_path=tmp_path / "feedback.jsonl")
    assert demo._queue.max_size == QUEUE_MAX_SIZE
    assert demo._queue.default_concurrency_limit == ASK_CONCURRENCY
    asking = [f for f in demo.fns.values() if f.concurrency_id == ASK_CONCURRENCY_ID]
    assert "ask" in {f.api_name for f in asking} and len(asking) >= 3  # /ask, Enter, the Ask button, the starters


# --- rendering helpers ---------------------------------------------------------------------------


def _answer(text: str, citations=(), **kw):  # noqa: ANN001, ANN202
    base = {"text": text, "citations": list(citations), "answerable": True, "question": "q", "standalone_question": "q", "figures": [], "notes": [], "backend": "extractive"}
    return {**base, **kw}


def test_answer_html_escapes_text_and_makes_chips() -> None:
    from bot.ui import answer_html

    cite = {"n": 1, "doc_id": "d", "section": "S <b>", "start": 0, "end": 5, "text": "x", "score": 1.0}
    out = answer_html(_answer("Hello <script>alert(1)</script> *bold* [1] and [7]", [cite]), turn_id=3)
    assert "<script" not in out and "<b>" not in out
    shown = out.split('<div class="answer-actions">')[0]  # the copy button's value holds the plain text, as text
    assert "*bold*" not in shown
    assert '<button class="cite-chip" value="3:1"' in out
    assert out.count("cite-chip") == 1  # [7] has no citation: left as text
    assert "&#91;7&#93;" in out


def test_answer_html_shows_refusal_rewrite_and_figures() -> None:
    from bot.ui import answer_html

    fig = {"text": "CNY 19 billion", "value": 19e9, "status": "mismatch", "fact_id": "fine-2021-cny", "start": 0, "end": 1, "expected": "CNY 18.2 billion"}
    out = answer_html(_answer("The article doesn't say.", answerable=False, question="And then?", standalone_question="What happened after <x>?", figures=[fig]), 0)
    assert "Not in the article" in out
    assert "Searched as" in out and "&lt;x&gt;" in out
    assert "CNY 19 billion" in out and "differs from the article" in out and "18.2 billion" in out
    same = answer_html(_answer("Yes [1]", [{"n": 1, "doc_id": "d", "section": "S", "start": 0, "end": 1, "text": "Y", "score": 1}]), 0)
    assert "Searched as" not in same and "Not in the article" not in same and "Figures" not in same


def test_source_pane_marks_the_cited_span_and_escapes_the_article() -> None:
    from bot.ui import source_html

    text = "Title <img src=x onerror=alert(1)>\nFirst sentence. The cited <b>span</b> here. After.\n"
    doc = SimpleNamespace(text=text, title="T", sections=())
    start = text.index("The cited")
    end = text.index(" After.")
    turns = [{"id": 4, "question": "<script>q</script>", "answer": _answer("x [1]", [{"n": 1, "doc_id": "d", "section": "S", "start": start, "end": end, "text": text[start:end], "score": 1}])}]
    out = source_html({"d": doc}, turns, "4:1")
    assert '<mark id="cite-span">The cited &lt;b&gt;span&lt;/b&gt; here.</mark>' in out
    assert "<img" not in out and "<script" not in out and "&lt;script&gt;" in out
    assert source_html({"d": doc}, turns, "5:1") is None and source_html({"d": doc}, turns, "4:2") is None
    assert source_html({"d": doc}, turns, "x") is None and source_html({"d": doc}, turns, None) is None


def test_feedback_record_maps_message_index_to_turn() -> None:
    from bot.ui import feedback_record

    turns = [{"id": 0, "question": "a", "answer": _answer("A")}, {"id": 1, "question": "b", "answer": _answer("B")}]
    assert feedback_record(turns, 3, True)["question"] == "b"
    assert feedback_record(turns, 1, False)["rating"] == "down"
    assert feedback_record(turns, [1, 0], "Like")["rating"] == "up"
    assert feedback_record(turns, 0, True) is None  # a user message
    assert feedback_record(turns, 9, True) is None


def test_facts_charts_hold_the_articles_numbers(bot) -> None:  # noqa: ANN001
    from bot.ui import fact_charts, facts_frame, filter_facts, listed_facts, load_fact_rows

    rows, status = load_fact_rows(bot, CORPUS)
    assert rows, status
    charts = fact_charts(rows)
    assert [(c.kind, c.title) for c in charts] == [
        ("bar", "GMV (CNY trillion, 2024)"), ("bar", "Cloud market share (%)"), ("line", "Alibaba's e-commerce market share (%)"),
    ]  # fmt: skip
    gmv, cloud, share = (c.frame for c in charts)
    assert dict(zip(gmv["label"], gmv["value"], strict=True)) == {"Pinduoduo": 5.2, "Alibaba": 8.0, "Douyin E-commerce": 3.5}
    assert gmv.set_index("label").loc["Pinduoduo", "basis"] == "approximate"
    assert dict(zip(cloud["label"], cloud["value"], strict=True)) == {"Alibaba Cloud": 33.0, "Huawei Cloud": 18.0, "Tencent Cloud": 10.0}
    assert share["value"].tolist() == [50.8, 45.0] and share["label"].tolist() == ["2021", "2024 (≈)"]
    assert share["basis"].tolist() == ["as stated", "middle of a range"] and "mid-40% range" in charts[2].caption
    for chart in charts:  # every charted figure is quoted from the article, and the caption names its rows
        assert all(quote in ARTICLE_TEXT for quote in chart.frame["as written"])
        assert all(fact in chart.caption for fact in chart.frame["fact"])
    table = facts_frame(rows)
    assert len(table) == len(listed_facts(rows)) < len(rows)  # bare counts ("two") are not listed
    assert "e-commerce rivals" not in set(table["metric"]) and "CNY 18.2 billion" in set(table["figure"])
    assert set(filter_facts(table, "cloud market share")["entity"]) == {"Alibaba Cloud", "Huawei Cloud", "Tencent Cloud"}
    assert len(filter_facts(table, "")) == len(table) and filter_facts(table, "no-such-thing").empty


def test_every_starter_question_is_answered_by_the_bot(bot) -> None:  # noqa: ANN001
    from bot.ui import ABOUT_QUESTION, MAX_STARTERS, load_fact_rows, starter_questions

    starters = starter_questions(bot.documents, load_fact_rows(bot, CORPUS)[0])
    assert 3 <= len(starters) <= MAX_STARTERS and starters[-1] == ABOUT_QUESTION and len(set(starters)) == len(starters)
    for question in starters:
        answer = bot.ask(question)
        assert answer.answerable is True, (question, answer.text)
        assert answer.citations and answer.kind != "refusal", question


def test_the_header_and_starters_follow_the_corpus(bot, tmp_path) -> None:  # noqa: ANN001
    from bot.ui import create_app, load_fact_rows, starter_questions

    demo = create_app(bot, feedback_path=tmp_path / "feedback.jsonl")
    config = demo.get_config_file()
    texts = [c["props"].get("value") for c in config["components"]]
    title = next(iter(bot.documents.values())).title
    assert any(isinstance(t, str) and title.split(":")[0] in t for t in texts)  # the header names the document
    buttons = [c["props"].get("value") for c in config["components"] if c["type"] == "button"]
    assert set(starter_questions(bot.documents, load_fact_rows(bot, CORPUS)[0])) <= set(buttons)


MD_ARTICLE = """# The Widget Makers of Northvale

Northvale's widget makers had a **record year**, and the town is changing.

## The Record Year

Northvale Widgets sold **4.2 million widgets** in 2023, more than any year before.
Demand came from three places:

- Hospitals bought *sterile* widgets for their new wards.
- Schools ordered widgets for the science classes.

## Why Prices Fell

Prices fell because a **second factory** opened in March 2024 and doubled the supply.
"""


def test_a_markdown_article_is_rendered_and_cites_exactly(tmp_path) -> None:  # noqa: ANN001
    import html
    import re

    from bot import Bot
    from bot.ui import article_html, header_markdown, source_html

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "widgets.md").write_text(MD_ARTICLE, encoding="utf-8")
    md_bot = Bot.load(corpus, tmp_path / "index")
    doc = md_bot.documents["widgets"]
    assert "The Widget Makers of Northvale" in header_markdown(md_bot.documents)
    page = article_html(doc)
    assert "<h2>The Widget Makers of Northvale</h2>" in page and "<h3>Why Prices Fell</h3>" in page and "#" not in html.unescape(page)
    assert "<strong>4.2 million widgets</strong>" in page and "<li>Hospitals bought <em>sterile</em> widgets" in page

    for question in ("Why did prices fall?", "Who bought sterile widgets?", "What did the schools order?"):
        answer = md_bot.ask(question).to_dict()
        assert answer["answerable"] and answer["citations"], (question, answer["text"])
        turns = [{"id": 0, "question": question, "answer": answer}]
        for c in answer["citations"]:
            out = source_html(md_bot.documents, turns, f"0:{c['n']}")
            marked = html.unescape("".join(re.findall(r"<mark[^>]*>(.*?)</mark>", out, re.S)))
            span = MD_ARTICLE[c["start"] : c["end"]]
            assert span == c["text"]
            # The mark covers exactly the cited span, less the Markdown syntax that is not shown.
            assert marked == re.sub(r"(?m)^(?:#+ |- )|\*", "", span), (question, span)
            assert out.count('id="cite-span"') == 1


def test_no_fact_table_is_said_plainly(tmp_path) -> None:  # noqa: ANN001
    from bot.ui import load_fact_rows

    rows, status = load_fact_rows(SimpleNamespace(), tmp_path / "missing")
    assert rows == [] and status.startswith("No fact table")
    (tmp_path / "empty").mkdir()
    rows, status = load_fact_rows(SimpleNamespace(), tmp_path / "empty")
    assert rows == [] and status.startswith("No fact table")


def test_timeline_lists_the_articles_dated_sentences(bot) -> None:  # noqa: ANN001
    from bot.ui import timeline_frame, timeline_html

    t = timeline_frame(bot)
    assert t["when"].tolist() == [
        "November 2020", "February 2021", "April 2021", "March 2023", "September 2023", "November 2023", "March 2024", "June 2025",
    ]  # fmt: skip
    for sentence, when in zip(t["sentence"], t["when"], strict=True):
        assert when in sentence and sentence in ARTICLE_TEXT
    assert "Ant Group" in t.loc[0, "next"]  # the halted IPO is told in the sentence after the dated one
    assert "<ol" in timeline_html(t)


def test_app_arguments_default_from_the_environment() -> None:
    code = "import app, json; a = app.parse_args([], {'BOT_HOST': '127.0.0.2', 'BOT_PORT': '9999', 'BOT_INDEX': 'ix'}); print(json.dumps(vars(a)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True).stdout
    args = json.loads(out.strip().splitlines()[-1])
    assert args["host"] == "127.0.0.2" and args["port"] == 9999 and args["index"] == "ix" and args["corpus"] == "corpus"
    assert args["feedback"] == os.path.join("feedback", "feedback.jsonl")


# --- the feedback store --------------------------------------------------------------------------


def test_feedback_round_trip(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "sub" / "feedback.jsonl"
    assert read_feedback(path) == [] and read_feedback(path).skipped == 0
    append_feedback(path, {"rating": "up", "answer": "line one\nline two", "q": "ü <x>"})
    append_feedback(path, {"rating": "down"})
    got = read_feedback(path)
    assert got == [{"rating": "up", "answer": "line one\nline two", "q": "ü <x>"}, {"rating": "down"}]
    assert got.skipped == 0
    assert path.read_bytes().count(b"\n") == 2
    with pytest.raises(TypeError):
        append_feedback(path, ["not", "a", "dict"])  # type: ignore[arg-type]


def test_concurrent_appends_from_threads_lose_nothing(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "feedback.jsonl"
    big = "x" * 20_000  # well over PIPE_BUF: atomicity must come from the lock, not from O_APPEND alone

    def worker(t: int) -> None:
        for i in range(40):
            append_feedback(path, {"thread": t, "i": i, "pad": big if i % 4 == 0 else ""})

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    got = read_feedback(path)
    assert got.skipped == 0
    assert sorted((r["thread"], r["i"]) for r in got) == [(t, i) for t in range(8) for i in range(40)]


def test_concurrent_appends_from_two_processes_lose_nothing(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "feedback.jsonl"
    code = (
        "import sys\n"
        "from bot.feedback import append_feedback\n"
        "for i in range(150):\n"
        "    append_feedback(sys.argv[1], {'proc': sys.argv[2], 'i': i, 'pad': 'y' * (9000 if i % 3 == 0 else 10)})\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path), name], cwd=ROOT) for name in ("a", "b")]
    for p in procs:
        assert p.wait(timeout=60) == 0
    got = read_feedback(path)
    assert got.skipped == 0
    assert sorted((r["proc"], r["i"]) for r in got) == [(p, i) for p in ("a", "b") for i in range(150)]


def test_torn_last_line_is_skipped_and_later_appends_stay_whole(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "feedback.jsonl"
    for i in range(3):
        append_feedback(path, {"i": i})
    with open(path, "ab") as f:  # a write cut short by a crash
        f.write(b'{"i": 3, "rating": "u')
    got = read_feedback(path)
    assert [r["i"] for r in got] == [0, 1, 2] and got.skipped == 1
    append_feedback(path, {"i": 4})
    got = read_feedback(path)
    assert [r["i"] for r in got] == [0, 1, 2, 4] and got.skipped == 1


def test_a_failing_write_does_not_corrupt_earlier_lines(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    path = tmp_path / "feedback.jsonl"
    append_feedback(path, {"i": 0})
    append_feedback(path, {"i": 1})
    before = path.read_bytes()
    real_write = os.write

    def half_then_fail(fd: int, data: bytes) -> int:
        if os.readlink(f"/proc/self/fd/{fd}") != str(path):  # only the feedback file's writes fail
            return real_write(fd, data)
        real_write(fd, data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(feedback_mod.os, "write", half_then_fail)
    with pytest.raises(OSError):
        append_feedback(path, {"i": 2, "pad": "z" * 100})
    monkeypatch.setattr(feedback_mod.os, "write", real_write)
    assert path.read_bytes().startswith(before)
    append_feedback(path, {"i": 3})
    got = read_feedback(path)
    assert [r["i"] for r in got] == [0, 1, 3] and got.skipped == 1
