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
    from bot.index import build_index, staleness

    folder = tmp_path_factory.mktemp("index")
    repo_index = ROOT / "index"
    if staleness(CORPUS, repo_index, Settings()) is None:
        current = (repo_index / "CURRENT").read_text().strip()
        shutil.copytree(repo_index / current, folder / current)
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
