"""The served app exposes only its own assets, and reader and article text always render escaped.

File routes are probed with raw HTTP (http.client sends the path exactly as written: no client-side
normalisation of `../` or percent-escapes) against a real server on 127.0.0.1. test_app.py already
checks three private files through the two plain file routes; here every route that serves files is
tried with absolute, relative, traversal and encoded paths to system files, the code, the corpus, the
index and the feedback file, and with URLs (server-side requests to internal addresses).
"""

from __future__ import annotations

import html
import http.client
import json
import re
import sys
import tempfile
import urllib.parse
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.feedback import append_feedback
from tests.conftest import ARTICLE, CORPUS, ROOT
from tests.test_app import start_server

FEEDBACK_MARKER = "feedback-marker-5b0e1c"
# Bytes no file route may ever return: a line of /etc/passwd, the environment, code, the manifest, the
# feedback file, the facts file, pyproject, git config.
SECRETS = [b"root:x:0:0", b"HF_HUB_OFFLINE", b"def create_app", b"from bot.ui import create_app", b'"format_version"',
           FEEDBACK_MARKER.encode(), b'"fine-2021-cny"', b"[project]", b"repositoryformatversion"]


@pytest.fixture(scope="module")
def served(bot, tmp_path_factory):  # noqa: ANN001, ANN201 - (host, port, feedback path)
    feedback = tmp_path_factory.mktemp("feedback") / "feedback.jsonl"
    append_feedback(feedback, {"rating": "up", "note": FEEDBACK_MARKER})
    app, url = start_server(bot, feedback)
    parsed = urllib.parse.urlsplit(url)
    try:
        yield parsed.hostname, parsed.port, feedback
    finally:
        app.close()


def raw_get(served: tuple, path: str, method: str = "GET", limit: int = 1 << 20) -> tuple[int, bytes, dict[str, str]]:
    """The path is sent byte for byte; at most `limit` bytes of the body are read."""
    conn = http.client.HTTPConnection(served[0], served[1], timeout=30)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        conn.endheaders()
        r = conn.getresponse()
        body = r.read(limit) if method == "GET" else b""
        return r.status, body, {k.lower(): v for k, v in r.getheaders()}
    finally:
        conn.close()


def _targets(bot, feedback: Path) -> list[Path]:  # noqa: ANN001
    gen = Path(bot.index.folder)
    return [
        Path("/etc/passwd"), Path("/proc/self/environ"), Path("/proc/self/cmdline"),
        ROOT / "app.py", ROOT / "bot" / "ui.py", ROOT / "pyproject.toml", ROOT / ".git" / "config", ROOT / "tests" / "conftest.py",
        ARTICLE, next(CORPUS.glob("*.facts.jsonl")),
        gen / "manifest.json", gen / "store.json", gen.parent / "CURRENT", ROOT / "index" / "README.md",
        feedback, Path(sys.executable).resolve(), Path(json.__file__),
    ]  # fmt: skip


def _forms(path: Path) -> list[str]:
    """Ways to name `path` to Gradio's file routes and static routes."""
    p = path.as_posix()
    up = "../" * 12 + p.lstrip("/")
    gradio_tmp = Path(tempfile.gettempdir()) / "gradio"
    forms = [
        f"/gradio_api/file={p}",
        f"/gradio_api/file={urllib.parse.quote(p, safe='')}",
        f"/file={p}",
        f"/gradio_api/file/{p.lstrip('/')}",
        f"/gradio_api/file={up}",
        f"/gradio_api/file={up.replace('../', '%2e%2e%2f')}",
        f"/gradio_api/file={up.replace('../', '%252e%252e%252f')}",
        f"/gradio_api/file={up.replace('../', '..%2f')}",
        f"/gradio_api/file={up.replace('../', '..%5c')}",
        f"/gradio_api/file={up.replace('../', '....//')}",
        f"/gradio_api/file={gradio_tmp}/../../../../../..{p}",
        f"/gradio_api/file={p}%00.png",
        f"/gradio_api/file=file://{p}",
        f"/gradio_api/file=/{p}",
        f"/static/{up}",
        f"/static/{up.replace('../', '..%2f')}",
        f"/assets/{up}",
        f"/assets/{up.replace('../', '%2e%2e%2f')}",
        f"/svelte/{up.replace('../', '..%2f')}",
        f"/gradio_api/static/{up}",
        f"/custom_component/x/client/{up.replace('../', '..%2f')}/y",
        f"/gradio_api/custom_component/x/client/..%2f..%2f..%2f..%2f/{p.lstrip('/')}",
    ]
    if path.is_relative_to(ROOT):
        rel = path.relative_to(ROOT).as_posix()
        forms += [f"/gradio_api/file={rel}", f"/gradio_api/file=./{rel}", f"/gradio_api/file=tests/../{rel}", f"/file={rel}"]
    return forms


def test_no_file_outside_the_apps_own_assets_is_reachable(served, bot) -> None:  # noqa: ANN001
    leaks = []
    probes = 0
    for target in _targets(bot, served[2]):
        for path in _forms(target):
            status, body, _ = raw_get(served, path)
            probes += 1
            if status < 400 or any(s in body for s in SECRETS):
                leaks.append((path, status, body[:120]))
    assert probes > 300
    assert not leaks, leaks


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:{port}/config", "http://localhost:{port}/config", "http://[::1]:{port}/config", "http://0.0.0.0:{port}/config",
     "http://2130706433:{port}/config", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "https://127.0.0.1:{port}/"],
)
def test_file_and_proxy_routes_fetch_no_internal_url(served, url: str) -> None:  # noqa: ANN001
    url = url.format(port=served[1])
    for route in (f"/gradio_api/file={url}", f"/gradio_api/proxy={url}", f"/proxy={url}", f"/file={url}"):
        status, body, _ = raw_get(served, route)
        assert status >= 400, (route, status, body[:200])
        assert b'"api_prefix"' not in body and b"ami-id" not in body


def test_the_apps_own_assets_are_served(served) -> None:  # noqa: ANN001
    status, page, headers = raw_get(served, "/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assets = re.findall(rb'(?:src|href)="\./(assets/[^"]+)"', page)
    assert assets, page[:500]
    for a in assets:
        status, body, _ = raw_get(served, "/" + a.decode())
        assert status == 200 and body, a
    for path in ("/favicon.ico", "/manifest.json", "/gradio_api/info", "/config"):
        assert raw_get(served, path)[0] == 200, path


def test_config_and_api_info_reveal_no_server_paths(served, bot) -> None:  # noqa: ANN001
    private = [str(ROOT), str(Path(bot.index.folder).parent), str(served[2]), str(served[2].parent), tempfile.gettempdir() + "/pytest"]
    for route in ("/config", "/gradio_api/info", "/gradio_api/openapi.json", "/"):
        status, body, _ = raw_get(served, route)
        assert status == 200
        text = body.decode("utf-8", "replace")
        assert not [p for p in private if p in text], route


def test_an_uploaded_file_is_never_served_as_a_page(served) -> None:  # noqa: ANN001
    import httpx

    host, port, _ = served
    with httpx.Client(base_url=f"http://{host}:{port}", timeout=30) as client:
        r = client.post("/gradio_api/upload", files={"files": ("evil.html", b"<script>alert(document.cookie)</script>", "text/html")})
        if r.status_code != 200:
            return  # refusing uploads is even better
        stored = [Path(p) for p in r.json()]
        try:
            for p in stored:
                got = client.get(f"/gradio_api/file={p}")
                assert not got.headers.get("content-type", "").startswith("text/html")
                assert "attachment" in got.headers.get("content-disposition", "")
        finally:
            for p in stored:
                if p.is_relative_to(Path(tempfile.gettempdir()) / "gradio"):
                    p.unlink(missing_ok=True)


def test_uploads_are_bounded(served) -> None:  # noqa: ANN001
    import httpx

    host, port, _ = served
    with httpx.Client(base_url=f"http://{host}:{port}", timeout=60) as client:
        r = client.post("/gradio_api/upload", files={"files": ("big.bin", b"\0" * (5 << 20), "application/octet-stream")})
        if r.status_code == 200:
            for p in r.json():
                if Path(p).is_relative_to(Path(tempfile.gettempdir()) / "gradio"):
                    Path(p).unlink(missing_ok=True)
        assert r.status_code >= 400


# --- escaping ------------------------------------------------------------------------------------

_ANY = st.text(st.characters(codec=None, exclude_categories=()), max_size=200)
_HOSTILE = st.lists(st.sampled_from([
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '"><svg onload=alert(1)>', "' onmouseover='x", "&lt;b&gt;", "&amp;",
    "[x](javascript:alert(1))", "![i](http://e/x.png)", "**b**", "__u__", "`c`", "```", "# h", "> q", "- li", "+ li", "1. li", "2) li",
    "| t |", "~~s~~", "\\", "<!--", "-->", "<br>", "</div>", "<button class=\"cite-chip\" value=\"0:1\">", "[1]", "[99]", "\n", "\r\n",
    "  ", "\t", "$x$", "$$x$$", "\\(x\\)", "{{x}}", "&#60;", "%3Cscript%3E", "\u202e", "\x00", "\ud800", "😀", "ü", "阿里",
]), max_size=12).map("".join)
_TEXT = st.one_of(_ANY, _HOSTILE)

_MD_SYNTAX = set("\\`*_[]#|~<>\"")
# The answer's own markup: its frame, kind badge, citation chips, figure badges, notes and copy button;
# every attribute value is a number or escaped text (no quote, no angle bracket).
_ALLOWED_ANSWER_TAGS = re.compile(
    r'<div class="answer">|<div class="answer-body">|<span class="badge badge-(?:refusal|correction)">|<br>'
    r'|<button class="cite-chip" value="\d+:\d+" title="[^"<>]*">|</button>'
    r'|<div class="answer-meta(?: figures)?">|</div>|<span class="fig fig-(?:ok|bad|warn|derived)"(?: title="[^"<>]*")?>|<span class="figs-checked">|</span>'
    r'|<details class="answer-notes">|</details>|</?summary>|</?ul>|</?li>'
    r'|<div class="answer-actions"><button class="copy-answer" value="[^"<>]*" title="[^"<>]*">'
)
_COPY_VALUE = re.compile(r'<button class="copy-answer" value="([^"<>]*)"')


@settings(max_examples=300, deadline=None)
@given(text=_TEXT)
def test_escape_text_shows_exactly_the_text_and_no_markup(text: str) -> None:
    from bot.ui import escape_text

    out = escape_text(text)
    assert not (_MD_SYNTAX & set(re.sub(r"&(?:#\d+|amp|lt|gt|quot);", "", out))), out  # syntax only inside entities
    assert not re.search(r"(?m)^[ \t]*(?:[-+]|\d+[.)])", out), out  # no list marker opens a line
    assert html.unescape(out) == text


@settings(max_examples=300, deadline=None)
@given(text=_TEXT, section=_TEXT, standalone=_TEXT, question=_TEXT, fig=_TEXT,
       status=st.one_of(st.sampled_from(["ok", "derived", "mismatch", "unsupported", "over_precise"]), _TEXT),
       expected=_TEXT, derivation=_TEXT, note=_TEXT, answerable=st.booleans(), ns=st.lists(st.integers(0, 5), max_size=4),
       kind=st.one_of(st.sampled_from(["quote", "figure", "computed", "correction", "refusal", "gist", "title", "smalltalk", "llm"]), _TEXT))
def test_answer_html_contains_only_its_own_tags(text, section, standalone, question, fig, status, expected, derivation, note, answerable, ns, kind) -> None:  # noqa: ANN001
    from bot.ui import answer_html, chat_messages

    cites = [{"n": n, "doc_id": "d", "section": section, "start": 0, "end": 1, "text": text, "score": 1.0} for n in sorted(set(ns))]
    body = text + "".join(f" [{n}]" for n in ns)
    answer = {"text": body, "citations": cites, "answerable": answerable, "question": question, "standalone_question": standalone,
              "figures": [{"text": fig, "status": status, "expected": expected, "derivation": derivation}], "notes": [note],
              "backend": "extractive", "kind": kind}
    out = answer_html(answer, turn_id=7)
    rest = _ALLOWED_ANSWER_TAGS.sub("", out)
    assert "<" not in rest and ">" not in rest, out
    (copied,) = _COPY_VALUE.findall(out)
    assert html.unescape(copied) == body.strip()  # the copy button holds the answer's text, escaped, whole
    messages = chat_messages([{"id": 7, "question": question, "answer": answer}])
    assert "<" not in messages[0]["content"] and ">" not in messages[0]["content"]
    assert messages[1]["content"] == out


@settings(max_examples=150, deadline=None)
@given(article=_TEXT, title=_TEXT, section=_TEXT, question=_TEXT)
def test_the_source_pane_and_timeline_escape_the_article_and_the_question(article: str, title: str, section: str, question: str) -> None:
    from bot.ui import source_html, timeline_html, welcome_html

    text = "Title line\n" + article + "\nIn April 2021 something <b>happened</b>.\n"
    doc = SimpleNamespace(text=text, title=title, sections=())
    start = text.index("In April")
    turns = [{"id": 1, "question": question, "answer": {"citations": [{"n": 1, "doc_id": "d", "section": section, "start": start, "end": len(text) - 1}]}}]
    allowed = re.compile(r'</?(?:div|p|h2|h3|strong|em|mark|button|span)(?: class="[a-z-]+"| id="cite-span"| data-nonce="\d+"| value="\d+:\d+"| title="[^"<>]*")*>')
    for out in (source_html({"d": doc}, turns, "1:1"), welcome_html({"d": doc})):
        assert out is not None
        rest = allowed.sub("", out)
        assert "<" not in rest and ">" not in rest, out
    frame = pd.DataFrame([{"when": "April 2021", "sentence": article or "x", "next": question}])
    rest = re.sub(r'</?(?:ol|li|strong|span)(?: class="[a-z-]+")?>', "", timeline_html(frame))
    assert "<" not in rest and ">" not in rest
