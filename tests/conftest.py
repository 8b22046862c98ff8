"""Shared fixtures: the real article, the real model, a real index built once per session in a temp folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
DOC_ID = "twilight-of-an-empire-alibaba"
ARTICLE = CORPUS / f"{DOC_ID}.txt"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def article_text() -> str:
    return ARTICLE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The article's index, built once for the session (reused from the repo's index/ when it is current)."""
    from bot.config import Settings
    from bot.index import SHARED_MODELS, build_index, staleness

    folder = tmp_path_factory.mktemp("index")
    repo_index = ROOT / "index"
    if staleness(CORPUS, repo_index, Settings()) is None:
        current = (repo_index / "CURRENT").read_text().strip()
        shutil.copytree(repo_index / current, folder / current)
        if (repo_index / SHARED_MODELS).is_dir():  # the ONNX export the generations share
            shutil.copytree(repo_index / SHARED_MODELS, folder / SHARED_MODELS, ignore=shutil.ignore_patterns(".tmp-*"))
        (folder / "CURRENT").write_text(current)
    else:
        build_index(CORPUS, folder, Settings())
    return folder


@pytest.fixture(scope="session")
def bot(index_dir: Path):
    from bot import Bot

    return Bot.load(CORPUS, index_dir)


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the corpus folder."""
    dst = tmp_path / "corpus"
    shutil.copytree(CORPUS, dst)
    for p in dst.iterdir():
        p.chmod(0o644)
    return dst


@pytest.fixture(scope="module")
def server(bot, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN001, ANN201 - the base URL
    """The app on a free 127.0.0.1 port, one per test module, with its feedback file in a temp folder."""
    from tests.test_app import start_server

    app, url = start_server(bot, tmp_path_factory.mktemp("feedback") / "feedback.jsonl")
    try:
        yield url
    finally:
        app.close()


# --- shared checks on answers ----------------------------------------------------------------------

MARKER = r"\[(\d+)\]"
# Answer.kind values (bot/draft.py KINDS renders each draft kind as one of these).
ANSWER_KINDS = frozenset({"quote", "figure", "computed", "correction", "refusal", "gist", "title", "smalltalk", "llm"})


def assert_well_cited(answer, documents) -> None:  # noqa: ANN001 - an Answer and Bot.documents
    """The contract every answer keeps: citations numbered 1..k in the order they are first cited, each
    the exact span of its document, each marker in the text a citation and each citation marked, and
    (for answers the bot writes itself) each cited sentence quoted verbatim."""
    import re

    assert answer.kind in ANSWER_KINDS, answer.kind
    ns = [c.n for c in answer.citations]
    assert ns == list(range(1, len(ns) + 1)), ns
    marked = [int(n) for n in re.findall(MARKER, answer.text)]
    assert set(marked) == set(ns), (answer.text, ns)
    assert list(dict.fromkeys(marked)) == ns, f"markers are numbered in order of first citation: {answer.text}"
    for c in answer.citations:
        doc = documents[c.doc_id].text
        assert doc[c.start:c.end] == c.text, c
        assert c.text and not c.text[0].isspace() and not c.text.startswith(("- ", "* ", "• ")), c.text
        if answer.backend == "extractive":
            assert c.text in answer.text, (c.text, answer.text)
    for f in answer.figures:
        assert answer.text[f.start:f.end] == f.text, f


def lead(answer) -> str:  # noqa: ANN001
    """What an answer says before its first quoted sentence (the whole text when it quotes none)."""
    if not answer.citations:
        return answer.text
    at = answer.text.find(answer.citations[0].text)
    return answer.text[:at] if at >= 0 else answer.text
