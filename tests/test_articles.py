"""Any article works: the shipped article plus two invented ones (tests/data/articles/) in one corpus.

The two test articles have no reviewed fact table or knowledge file: the bot drafts both from their
text. Their blind question sets (tests/data/blind/) are scored by `python -m eval` in the README's
figures, not here; these tests pin what any correct answer must do: answer from the right document,
name it, never check a figure against another document's rows, never alter a figure it quotes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CORPUS, DOC_ID, ROOT

ARTICLES = ROOT / "tests" / "data" / "articles"
KESTREL, MERIDIAN = "kestrel-motors", "meridian-health"


@pytest.fixture(scope="module")
def corpus3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus3")
    for p in CORPUS.iterdir():
        if p.name.startswith(DOC_ID) and not p.name.endswith(".questions.jsonl"):
            shutil.copy(p, folder / p.name)
    for p in ARTICLES.iterdir():
        shutil.copy(p, folder / p.name)
    return folder


@pytest.fixture(scope="module")
def bot3(corpus3: Path, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    from bot import Bot

    return Bot.load(corpus3, tmp_path_factory.mktemp("index3"))


def _docs(answer) -> set[str]:  # noqa: ANN001
    return {c.doc_id for c in answer.citations}


@pytest.mark.parametrize(
    ("question", "doc_id", "figure"),
    [
        ("How much revenue did Kestrel Motors make in 2023?", KESTREL, "EUR 6.8 billion"),
        ("How many people does Kestrel employ?", KESTREL, "about 14,500"),
        ("How many patients did Meridian treat in 2023?", MERIDIAN, "more than 2.3 million"),
        ("What is Alibaba Cloud's market share in China?", DOC_ID, "33%"),
    ],
)
def test_figure_questions_are_answered_from_their_own_document(bot3, question: str, doc_id: str, figure: str) -> None:  # noqa: ANN001
    a = bot3.ask(question)
    assert a.answerable and _docs(a) == {doc_id}, a.text
    assert figure in a.text
    title = bot3.documents[doc_id].title
    assert a.text.startswith(f"From “{title}”"), "an answer in a corpus of several names its article"


def test_every_citation_is_its_documents_exact_span(bot3) -> None:  # noqa: ANN001
    for q in ("Who is the chief executive of Kestrel Motors?", "Why did Kestrel's shares fall?", "Who runs Meridian Health Partners?"):
        a = bot3.ask(q)
        for c in a.citations:
            assert bot3.documents[c.doc_id].text[c.start : c.end] == c.text


def test_drafted_tables_and_knowledge_for_documents_without_reviewed_ones(bot3) -> None:  # noqa: ANN001
    rows = {d: [f for f in bot3.facts.facts if f.doc_id == d] for d in (DOC_ID, KESTREL, MERIDIAN)}
    assert rows[DOC_ID] and all(f.reviewed for f in rows[DOC_ID]), "a reviewed table wins over a draft"
    assert len(rows[KESTREL]) >= 20 and not any(f.reviewed for f in rows[KESTREL])
    assert len(rows[MERIDIAN]) >= 20 and not any(f.reviewed for f in rows[MERIDIAN])
    for f in rows[KESTREL] + rows[MERIDIAN]:
        assert bot3.documents[f.doc_id].text[f.start : f.end] == f.quote
    k = bot3.facts.knowledge
    assert "NGX" in k.aliases.get("Nordic Growth Exchange", ())
    assert k.parents.get("Kestrel Hydrogen") == "Kestrel"
    assert "Liesel Marchetti-Vos" in k.people
    assert "Liesel Marchetti-Vos" in bot3.lexicon.persons


def test_a_figure_quoted_from_its_document_is_never_marked(bot3) -> None:  # noqa: ANN001
    for q in ("What did the recall cost?", "How much did Kestrel raise when it listed?", "How fast did Meridian's revenue grow?",
              "What was the pack price in 2023?", "How many hospitals does Meridian run?"):
        a = bot3.ask(q)
        assert "[unverified" not in a.text, a.text
        assert all(f.status in ("ok", "derived") for f in a.figures), a.figures


def test_figures_are_checked_against_the_cited_documents_rows_only(bot3) -> None:  # noqa: ANN001
    for q in ("What is Volta's share of the European van market?", "How much is the recall going to cost Kestrel?",
              "How big was the antitrust fine Alibaba received in April 2021?", "What did Meridian pay for its acquisition?"):
        a = bot3.ask(q)
        cited = _docs(a)
        for f in a.figures:
            row = bot3.facts.by_id.get(f.fact_id) if f.fact_id else None
            assert row is None or row.doc_id in cited, (q, f)


def test_a_question_naming_one_documents_entities_searches_that_document(bot3) -> None:  # noqa: ANN001
    q = bot3.analyze("Who is the chief executive of Kestrel Motors?")
    assert q.doc_ids == (KESTREL,)
    a = bot3.ask("Who is the chief executive of Kestrel Motors?")
    assert _docs(a) == {KESTREL} and "Liesel Marchetti-Vos" in a.text
    assert bot3.analyze("What is the article about?").doc_ids is None


def test_follow_ups_keep_the_document_of_the_turn_before(bot3) -> None:  # noqa: ANN001
    chat = bot3.chat()
    first = chat.ask("How much revenue did Kestrel Motors make in 2023?")
    assert _docs(first) == {KESTREL}
    second = chat.ask("And how many vehicles did it deliver?")
    assert _docs(second) == {KESTREL}, second.text


def test_the_gist_of_each_article_quotes_its_summary(bot3) -> None:  # noqa: ANN001
    a = bot3.ask("What is the Meridian Health Partners article about?")
    assert a.kind == "gist" and _docs(a) == {MERIDIAN}


def test_adding_an_article_embeds_only_it_and_imports_no_torch(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for p in CORPUS.iterdir():
        if p.name.startswith(DOC_ID):
            shutil.copy(p, corpus / p.name)
    index = tmp_path / "index"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    subprocess.run([sys.executable, "-m", "bot", "--corpus", str(corpus), "--index", str(index), "index"], check=True, env=env, capture_output=True)
    first = (index / "CURRENT").read_text().strip()
    shutil.copy(ARTICLES / f"{KESTREL}.md", corpus / f"{KESTREL}.md")
    probe = ("import sys, logging; logging.basicConfig(level=logging.INFO, format='%(message)s'); from bot.index import build_index; "
             "from bot.config import Settings; build_index(sys.argv[1], sys.argv[2], Settings()); print('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe, str(corpus), str(index)], check=True, env=env, capture_output=True, text=True)
    assert done.stdout.strip() == "False", "adding an article must not need torch"
    assert "reused the vectors of 1 unchanged document; embedded 1 new or changed document" in done.stderr
    second = (index / "CURRENT").read_text().strip()
    manifest = json.loads((index / second / "manifest.json").read_text())
    assert second != first and manifest["counts"]["documents"] == 2
    assert manifest["onnx_dir"] == json.loads((index / first / "manifest.json").read_text())["onnx_dir"], "one ONNX export for every generation"
    import numpy as np

    store = json.loads((index / second / "store.json").read_text())
    kept = [i for i, (doc, *_rest) in enumerate(store["sentences"]) if doc == DOC_ID]
    old, new = np.load(index / first / "sentences.npy"), np.load(index / second / "sentences.npy")
    assert np.array_equal(old, new[kept]), "the unchanged article keeps its vectors"
