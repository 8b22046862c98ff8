"""Build-time generated questions: the committed questions file, its loader, and (when llama-cpp-python and
the 0.5B model are installed) real generation."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from bot import doc2query as d2q
from bot.errors import CorpusError

from .conftest import ARTICLE, CORPUS, DOC_ID

QUESTIONS = CORPUS / f"{DOC_ID}{d2q.SUFFIX}"
MODEL_05B = d2q.DEFAULT_MODELS[1]


def _write(path: Path, rows: list[dict], header: dict | None = None) -> Path:
    header = header if header is not None else {"_header": True, "generated_by": d2q.GENERATED_BY, "models": [], "prompt_version": d2q.PROMPT_VERSION, "date": "2025-01-01", "note": "x"}
    path.write_text("\n".join(json.dumps(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    return path


def test_module_imports_without_llama_cpp() -> None:
    # generation imports llama_cpp lazily; importing the module must not
    code = "import sys; import bot.doc2query as m; assert 'llama_cpp' not in sys.modules; print(m.PROMPT_VERSION)"
    import subprocess

    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=CORPUS.parent)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == d2q.PROMPT_VERSION


def test_prompt_version_is_the_prompt_hash() -> None:
    import hashlib

    assert d2q.PROMPT_VERSION == hashlib.sha256(d2q.PROMPT.encode()).hexdigest()[:12]


def test_loader_keeps_current_rows_and_drops_stale_ones(tmp_path: Path) -> None:
    text = "Alibaba was fined. Its rivals are SHEIN and Temu. The end."
    first, second = (0, 18), (19, 49)
    assert text[first[0]:first[1]] == "Alibaba was fined."
    rows = [
        {"start": first[0], "end": first[1], "sha256": d2q.sha256_text(text[first[0]:first[1]]), "questions": ["Was Alibaba penalised?", "What penalty did Alibaba get?", ""]},
        {"start": second[0], "end": second[1], "sha256": d2q.sha256_text("Its rivals are SHEIN and Shopee."), "questions": ["Who competes with Alibaba abroad?"]},
        {"start": 50, "end": 999, "sha256": "0" * 64, "questions": ["Out of range?"]},
    ]
    got = d2q.load_questions(_write(tmp_path / "q.jsonl", rows), text)
    assert got == {first: ["Was Alibaba penalised?", "What penalty did Alibaba get?"]}


@pytest.mark.parametrize("header", [
    {"start": 0, "end": 5, "sha256": "x", "questions": []},  # no header line at all
    {"_header": False, "generated_by": d2q.GENERATED_BY, "models": [], "prompt_version": "abc"},
    {"_header": True, "generated_by": "someone else", "models": [], "prompt_version": "abc"},
    {"_header": True, "generated_by": d2q.GENERATED_BY, "prompt_version": "abc"},  # no models
])
def test_loader_refuses_a_file_without_its_header(tmp_path: Path, header: dict) -> None:
    with pytest.raises(CorpusError, match="header"):
        d2q.load_questions(_write(tmp_path / "q.jsonl", [], header=header), "text")


def test_loader_refuses_a_malformed_row(tmp_path: Path) -> None:
    path = _write(tmp_path / "q.jsonl", [{"start": 0}])
    with pytest.raises(CorpusError, match="line 2"):
        d2q.load_questions(path, "some text")


def test_write_then_load_round_trip(tmp_path: Path) -> None:
    text = "First sentence here. Second one follows."
    items = [d2q.Item(0, 20, text[0:20], "Introduction", ""), d2q.Item(21, 40, text[21:40], "Introduction", text[0:20])]
    per_model = [
        (Path("a.gguf"), "a" * 64, {items[0].sha256: ["What comes first?", "Which is the opening line?"], items[1].sha256: ["What follows?"]}),
        (Path("b.gguf"), "b" * 64, {items[0].sha256: ["what comes FIRST?", "How does it open?"]}),
    ]
    out = tmp_path / "x.questions.jsonl"
    d2q.write_questions(out, items, per_model)
    header = json.loads(out.read_text().splitlines()[0])
    assert header["models"] == [{"file": "a.gguf", "sha256": "a" * 64}, {"file": "b.gguf", "sha256": "b" * 64}]
    assert header["generated_by"] == "python -m bot questions" and header["prompt_version"] == d2q.PROMPT_VERSION
    got = d2q.load_questions(out, text)
    assert got[(0, 20)] == ["What comes first?", "Which is the opening line?", "How does it open?"]  # pooled, case-insensitive dedup
    assert got[(21, 40)] == ["What follows?"]
    assert not list(tmp_path.glob(".*tmp"))


def test_parse_questions_strips_numbering_and_answers() -> None:
    reply = "1. What penalty did Alibaba get in 2021?\n2) Why was the company punished? It broke rules.\n- \"Who runs Alibaba now?\"\nHere are some questions:\n3. What penalty did Alibaba get in 2021?"
    assert d2q.parse_questions(reply) == ["What penalty did Alibaba get in 2021?", "Why was the company punished?", "Who runs Alibaba now?"]


# -- the committed file, against the real article ----------------------------------------------------


@pytest.fixture(scope="module")
def committed() -> tuple[list[dict], dict[tuple[int, int], list[str]]]:
    if not QUESTIONS.exists():
        pytest.fail(f"{QUESTIONS} is missing: generate it with `python -m bot.doc2query {ARTICLE.relative_to(CORPUS.parent)}`")
    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()
    return [json.loads(x) for x in lines], d2q.load_questions(QUESTIONS, ARTICLE.read_text(encoding="utf-8"))


def test_committed_file_header(committed) -> None:
    header = committed[0][0]
    assert header["_header"] is True and header["generated_by"] == "python -m bot questions"
    assert header["note"] == "generated file: do not edit by hand"
    assert len(header["models"]) == 2 and all(len(m["sha256"]) == 64 for m in header["models"])
    assert {m["file"] for m in header["models"]} == {p.name for p in d2q.DEFAULT_MODELS}
    assert len(header["prompt_version"]) == 12


def test_committed_rows_are_the_article_sentences(committed) -> None:
    rows, loaded = committed
    _, text, items = d2q.document_items(ARTICLE)
    spans = [(it.start, it.end) for it in items]
    assert len(rows) - 1 == len(loaded), "stale rows: the article changed since the file was generated; regenerate it"
    assert sorted(loaded) == spans, "every non-heading sentence of the article has exactly one row"
    for row in rows[1:]:
        assert row["sha256"] == d2q.sha256_text(text[row["start"]:row["end"]])


def test_committed_rows_have_enough_real_questions(committed) -> None:
    _, loaded = committed
    for span, qs in loaded.items():
        assert len(qs) >= 3, (span, qs)
        assert len({q.casefold() for q in qs}) == len(qs)
        assert all(q.endswith("?") and len(q.split()) >= 3 for q in qs), qs


# -- real generation with the 0.5B model -------------------------------------------------------------


@pytest.mark.skipif(not MODEL_05B.is_file(), reason=f"the 0.5B model is not at {MODEL_05B}: run `python scripts/llm_setup.py --models 0.5b`")
def test_generates_questions_for_two_sentences(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed: run `python scripts/llm_setup.py --venv .venv`")
    _, text, items = d2q.document_items(ARTICLE)
    two = [it for it in items if "CNY 18.2 billion" in it.text or "SHEIN and Temu" in it.text][:2]
    assert len(two) == 2
    cache = tmp_path / "cache"
    got = d2q.generate(two, MODEL_05B, cache, progress=None)
    for it in two:
        qs = got[it.sha256]
        assert len(qs) >= d2q.MIN_QUESTIONS, qs
        assert all(q.endswith("?") for q in qs)
        assert it.text not in " ".join(qs)  # questions, not the sentence copied
    # a second run is served from the cache (and so needs no model load): same questions
    assert d2q.generate(two, MODEL_05B, cache, progress=None) == got
    assert len((cache / "qwen2.5-coder-0.5b-instruct.jsonl").read_text().splitlines()) == 2
