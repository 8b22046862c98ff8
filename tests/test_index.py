"""Index build, round trip, staleness, corruption and interrupted builds, on the real article and model."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from bot import Bot, IndexCorruptError, IndexMissingError, IndexStaleError, Settings
from bot import index as index_mod
from bot.index import CURRENT, MANIFEST, SHARED_MODELS, build_index, load_index, staleness
from bot.text import bm25_tokens

from .conftest import CORPUS


def _copy_index(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".lock"))
    return dst


def _generation(folder: Path) -> Path:
    return folder / (folder / CURRENT).read_text().strip()


def _generations(folder: Path) -> list[str]:
    """The index generations in a folder (not the ONNX export they share, `models/`)."""
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and p.name != SHARED_MODELS)


def test_round_trip(index_dir: Path):
    idx = load_index(index_dir, Settings())
    manifest = json.loads((_generation(index_dir) / MANIFEST).read_text())
    assert manifest["format_version"] == index_mod.FORMAT_VERSION
    assert manifest["settings"] == Settings().index_key()
    assert manifest["dim"] == 384 and manifest["onnx"] is True
    assert set(manifest["corpus"]) == {"twilight-of-an-empire-alibaba"}
    assert {"built_at", "versions", "files", "build_seconds"} <= set(manifest)
    assert manifest["counts"] == {"documents": 1, "sentences": len(idx.sentences), "chunks": len(idx.chunks)}
    assert idx.chunk_faiss.ntotal == len(idx.chunks)
    doc = idx.documents["twilight-of-an-empire-alibaba"]
    for c in idx.chunks:
        assert doc.text[c.start:c.end] == c.text
    # normalised vectors: inner product is cosine
    norms = np.linalg.norm(np.asarray(idx.sentence_vectors), axis=1)
    assert np.allclose(norms, 1.0, atol=1e-4)


def test_onnx_and_torch_vectors_agree(index_dir: Path):
    from bot import adapt
    from bot.embedding import TorchEncoder

    idx = load_index(index_dir, Settings())
    texts = ["What share does Tencent Cloud hold?", "And Douyin's?"]
    adapted = idx.manifest["adapted"]
    assert adapted, "the shipped article has generated questions: its index uses the adapted model"
    diff = np.abs(idx.encoder.encode(texts) - TorchEncoder(str(adapt.CACHE_DIR / adapted)).encode(texts)).max()
    assert diff < 1e-5
    # the adapted model is not the base one
    assert np.abs(idx.encoder.encode(texts) - TorchEncoder().encode(texts)).max() > 1e-3


def test_a_corpus_without_generated_questions_uses_the_base_model(corpus_copy: Path, tmp_path: Path):
    for p in corpus_copy.glob("*.questions.jsonl"):
        p.unlink()
    folder = tmp_path / "index"
    build_index(corpus_copy, folder, Settings())
    assert load_index(folder, Settings()).manifest["adapted"] is None
    assert staleness(corpus_copy, folder, Settings()) is None


def test_changed_generated_questions_make_the_index_stale(corpus_copy: Path, index_dir: Path, tmp_path: Path):
    import shutil

    folder = tmp_path / "index"
    shutil.copytree(index_dir, folder)
    assert staleness(corpus_copy, folder, Settings()) is None
    path = next(corpus_copy.glob("*.questions.jsonl"))
    lines = path.read_text(encoding="utf-8").splitlines()
    row = json.loads(lines[1])
    row["questions"] = row["questions"][:-1]
    path.write_text("\n".join([lines[0], json.dumps(row), *lines[2:]]) + "\n", encoding="utf-8")
    assert "generated questions changed" in (staleness(corpus_copy, folder, Settings()) or "")
    assert staleness(corpus_copy, folder, Settings(adapt=False)) is not None  # the setting is part of the key


def test_adaptation_batches_never_hold_a_sentence_or_question_twice():
    import random

    from bot.adapt import _batches

    pairs = tuple((f"q{i % 7}-{i}", f"s{i % 5}") for i in range(40))
    batches = _batches(pairs, 4, random.Random(0))
    assert sorted(p for b in batches for p in b) == sorted(pairs)
    for b in batches:
        assert len({s for _, s in b}) == len(b) and len({q for q, _ in b}) == len(b) and len(b) <= 4


def test_missing_index_is_built_and_logged(tmp_path: Path, caplog):
    with caplog.at_level(logging.INFO, logger="bot"):
        b = Bot.load(CORPUS, tmp_path / "index")
    assert any(r.getMessage().startswith("building the index: ") and "no index" in r.getMessage() for r in caplog.records)
    assert b.ask("Who took over as CEO in September 2023?").answerable
    with pytest.raises(IndexMissingError, match="python -m bot index"):
        load_index(tmp_path / "other", Settings())


def test_stale_index_is_rebuilt(index_dir: Path, corpus_copy: Path, tmp_path: Path, caplog):
    folder = _copy_index(index_dir, tmp_path / "index")
    assert staleness(corpus_copy, folder, Settings()) is None
    article = next(corpus_copy.glob("*.txt"))
    article.write_text(article.read_text() + "\nA new closing line about Alibaba's kiosks.\n")
    assert "corpus changed" in staleness(corpus_copy, folder, Settings())
    with caplog.at_level(logging.INFO, logger="bot"):
        b = Bot.load(corpus_copy, folder)
    assert any("corpus changed" in r.getMessage() for r in caplog.records)
    assert staleness(corpus_copy, folder, Settings()) is None
    assert "kiosks" in b.documents[article.stem].text
    generations = _generations(folder)
    assert len(generations) == 2 and generations[-1] == _generation(folder).name  # the previous one is kept once
    build_index(corpus_copy, folder, Settings())
    assert len(_generations(folder)) == 2 and generations[0] not in _generations(folder)  # ... and goes at the next build


def test_settings_change_makes_index_stale(index_dir: Path):
    assert "chunk_words changed" in staleness(CORPUS, index_dir, Settings(chunk_words=33))


@pytest.mark.parametrize("victim", ["chunks.faiss", "sentences.npy", "store.json", "bm25/data.csc.index.npy"])
def test_truncated_file_gives_documented_error(index_dir: Path, tmp_path: Path, victim: str):
    folder = _copy_index(index_dir, tmp_path / "index")
    path = _generation(folder) / victim
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(IndexCorruptError, match="python -m bot index"):
        Bot.load(CORPUS, folder)


def test_flipped_byte_is_detected(index_dir: Path, tmp_path: Path):
    folder = _copy_index(index_dir, tmp_path / "index")
    path = _generation(folder) / "store.json"
    data = bytearray(path.read_bytes())
    data[100] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError, match="does not match its manifest"):
        load_index(folder, Settings())


def test_unreadable_manifest_is_rebuilt(index_dir: Path, tmp_path: Path):
    folder = _copy_index(index_dir, tmp_path / "index")
    (_generation(folder) / MANIFEST).write_text("{not json")
    assert "unreadable" in staleness(CORPUS, folder, Settings())


def test_interrupted_build_leaves_previous_index_usable(index_dir: Path, corpus_copy: Path, tmp_path: Path, monkeypatch):
    folder = _copy_index(index_dir, tmp_path / "index")
    before = (folder / CURRENT).read_text()
    article = next(corpus_copy.glob("*.txt"))
    article.write_text(article.read_text() + "\nAn extra line.\n")

    def boom(*args, **kwargs):
        raise KeyboardInterrupt("killed mid-build")

    monkeypatch.setattr(index_mod, "_write_generation", boom)
    with pytest.raises(KeyboardInterrupt):
        build_index(corpus_copy, folder, Settings())
    assert (folder / CURRENT).read_text() == before
    assert not list(folder.glob(".tmp-*"))
    b = Bot(load_index(folder, Settings()))
    assert b.ask("How big was the antitrust fine Alibaba received in April 2021?").answerable


def test_read_only_index_serves_and_refuses_to_rebuild(index_dir: Path, corpus_copy: Path, tmp_path: Path):
    folder = _copy_index(index_dir, tmp_path / "index")
    for p in [folder, *folder.rglob("*")]:
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        assert Bot.load(corpus_copy, folder).ask("Who is Alibaba's chairman?").citations
        article = next(corpus_copy.glob("*.txt"))
        article.write_text(article.read_text() + "\nChanged.\n")
        if not _really_read_only(folder):
            pytest.skip("running as a user who can write to read-only folders")
        with pytest.raises(IndexStaleError, match="read-only"):
            Bot.load(corpus_copy, folder)
    finally:
        for p in [folder, *folder.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)


def _really_read_only(folder: Path) -> bool:
    import os

    return not os.access(folder, os.W_OK)


def test_us_spellings_are_one_token_and_not_the_pronoun():
    assert bm25_tokens("U.S. export") == bm25_tokens("US export") == bm25_tokens("U.S export")
    assert bm25_tokens("us") != bm25_tokens("US") and bm25_tokens("USB") != bm25_tokens("US")
