"""The bot's LLM backend against a real llama.cpp server (llama-cpp-python's `llama_cpp.server`, the 0.5B
Qwen2.5-Coder model): opt-in, marked `llm`.

Runs only when BOT_LLM_SERVER_PYTHON names a python that imports llama_cpp.server (set one up with
`python scripts/llm_setup.py --venv /work/llm-venv`) and the 0.5B model file exists; the server is
started and stopped by the same code as `python -m eval.llm_run`.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from eval.llm_run import DEFAULT_MODEL, FALLBACK_NOTE, ask, llama_server, load_bot, outcome

from .conftest import CORPUS, DOC_ID

FINE_Q = "How big was the antitrust fine Alibaba received in April 2021?"
QUOTE_Q = "What did Douyin E-commerce use to attack Alibaba's users?"  # answered by quoting: goes to the LLM
FALSE_FIGURE_Q = "Why was Alibaba fined CNY 28 billion in 2021?"
SERVER_PYTHON = os.environ.get("BOT_LLM_SERVER_PYTHON", "")


def _why_skip() -> str | None:
    if not SERVER_PYTHON:
        return "BOT_LLM_SERVER_PYTHON is not set: point it at a python with llama-cpp-python[server] (python scripts/llm_setup.py --venv /work/llm-venv)"
    if not Path(SERVER_PYTHON).exists():
        return f"BOT_LLM_SERVER_PYTHON={SERVER_PYTHON} does not exist"
    r = subprocess.run([SERVER_PYTHON, "-c", "import llama_cpp.server.app"], capture_output=True, text=True)
    if r.returncode != 0:
        return f"{SERVER_PYTHON} cannot import llama_cpp.server: {(r.stderr.strip().splitlines() or ['?'])[-1]}"
    if not DEFAULT_MODEL.is_file():
        return f"the 0.5B model is not at {DEFAULT_MODEL}: run `python scripts/llm_setup.py --models 0.5b`"
    return None


_SKIP = _why_skip()
pytestmark = [pytest.mark.llm, pytest.mark.skipif(_SKIP is not None, reason=_SKIP or "")]


@pytest.fixture(scope="module")
def llm_bot(index_dir: Path):
    saved = {k: os.environ.get(k) for k in ("NO_PROXY", "no_proxy")}
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    try:
        with llama_server(SERVER_PYTHON, DEFAULT_MODEL) as srv:
            yield load_bot(srv.base_url, srv.model_id, CORPUS, index_dir)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _assert_llm_or_fallback(a, article: str) -> None:  # noqa: ANN001
    """Accepted: backend llm, every citation a span of the article, every figure ok or derived.
    Otherwise: the extractive answer with a note saying why."""
    if a.backend == "llm":
        assert a.answerable and a.citations and not any(n.startswith(FALLBACK_NOTE) for n in a.notes)
        for c in a.citations:
            assert c.doc_id == DOC_ID and 0 <= c.start < c.end <= len(article) and c.text == article[c.start:c.end]
        assert all(f.status in ("ok", "derived") for f in a.figures), a.figures
    else:
        assert any(n.startswith(FALLBACK_NOTE) for n in a.notes), (a.text, a.notes)
        assert a.citations and all(c.text == article[c.start:c.end] for c in a.citations)


def test_fine_question(llm_bot, article_text: str) -> None:
    a = ask(llm_bot, FINE_Q)
    if outcome(a) == "not sent":
        # a figure question is answered from the fact table, which never goes to the LLM
        assert a.backend == "extractive" and "CNY 18.2 billion" in a.text
        assert all(f.status in ("ok", "derived") for f in a.figures) and a.citations
        assert all(c.text == article_text[c.start:c.end] for c in a.citations)
    else:
        _assert_llm_or_fallback(a, article_text)


def test_quoting_question_goes_to_the_llm(llm_bot, article_text: str) -> None:
    a = ask(llm_bot, QUOTE_Q)
    assert outcome(a) in ("accepted", "replaced"), (a.backend, a.notes)
    _assert_llm_or_fallback(a, article_text)


def test_false_figure_is_never_stated(llm_bot) -> None:
    a = ask(llm_bot, FALSE_FIGURE_Q)
    assert "CNY 28 billion" not in a.text and "28 billion" not in a.text
    assert all(f.status in ("ok", "derived") for f in a.figures), a.figures
