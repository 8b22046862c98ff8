"""Corpus reading, structure detection, sentences and chunks: every span is exact."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.chunking import make_chunks, punkt_spans, sentence_spans, split_sentences
from bot.corpus import load_corpus, parse_document
from bot.errors import CorpusError

from .conftest import CORPUS, DOC_ID

SECTIONS = [
    "Title",
    "Summary",
    "Subtitle",
    "Introduction",
    "The Empire's Cracks (2020-2022)",
    "The Supertanker's Turn (2023-Present)",
    "The Future Bets (The Next 3-5 Years)",
    "Battlefield 1: The Defensive War of Taotian Group",
    "Battlefield 2: The Value Re-Emergence of Cloud Intelligence Group",
    "Battlefield 3: The Expedition of Alibaba International Digital Commerce (AIDC)",
    "The Ultimate X-Factor: The Role of AI",
    "Conclusion: The End of an Era, The Beginning of a Fight for Survival",
]


@pytest.fixture(scope="module")
def doc():
    (d,) = load_corpus(CORPUS)
    return d


@pytest.fixture(scope="module")
def sentences(doc):
    return split_sentences(doc, punkt_spans())


def test_article_is_stored_unchanged(doc, article_text):
    assert doc.doc_id == DOC_ID
    assert doc.text == article_text
    assert doc.title == "Twilight of an Empire: A Deep Dive into Alibaba's Revolution"


def test_sections_detected_as_written(doc):
    assert [s.title for s in doc.sections] == SECTIONS
    for s in doc.sections[4:]:
        assert doc.text[s.heading_start:s.heading_end] == s.title
    summary = next(s for s in doc.sections if s.title == "Summary")
    assert doc.text[summary.start:summary.end].startswith("Alibaba's growth era is over.")
    intro = next(s for s in doc.sections if s.title == "Introduction")
    assert doc.text[intro.start:].startswith("Alibaba, the business empire once seen")


def test_sections_tile_the_document(doc):
    for a, b in zip(doc.sections, doc.sections[1:], strict=False):
        assert a.end == b.heading_start
    assert doc.sections[-1].end == len(doc.text)


def test_every_sentence_span_is_exact(doc, sentences):
    assert len(sentences) > 100
    for s in sentences:
        assert doc.text[s.start:s.end] == s.text
        assert doc.section_at(s.start).title == s.section
        assert "\n" not in s.text


@pytest.mark.parametrize(
    "sentence",
    [
        "Externally, a geopolitical chill had set in.",
        "U.S. export restrictions on advanced computing chips cast a long, dark shadow over the future of Alibaba Cloud.",
        "AIDC (including Lazada, AliExpress, etc.) carries the heavy expectation of becoming Alibaba's \"second growth curve.\"",
        "But at the same time, facing a U.S. tech blockade and a fierce domestic model race, AI is also a massive cost center.",
    ],
)
def test_abbreviations_do_not_cut_sentences(sentences, sentence):
    assert sentence in [s.text for s in sentences]


def test_sentence_spans_merge_lowercase_continuations():
    spans = sentence_spans("It grew 5 p.c. in May. Then it fell.", lambda t: [(0, 15), (16, 22), (23, 36)])
    assert spans == [(0, 22), (23, 36)]


@pytest.mark.parametrize("max_words,overlap", [(20, 0), (80, 1), (200, 2)])
def test_chunks_never_cut_a_sentence_nor_cross_a_section(doc, sentences, max_words, overlap):
    chunks = make_chunks(doc, sentences, max_words, overlap)
    by_id = {s.sid: s for s in sentences}
    covered = set()
    for c in chunks:
        assert doc.text[c.start:c.end] == c.text
        members = [by_id[i] for i in c.sentence_ids]
        assert {m.section for m in members} == {c.section}
        assert c.start == members[0].start and c.end == members[-1].end
        assert len(c.text.split()) <= max_words or len(members) == 1
        covered.update(c.sentence_ids)
    assert covered == set(by_id)


def test_markdown_headings(tmp_path: Path):
    text = "# A Title\n\nIntro paragraph here.\n\n## First Part\nBody one. Body two.\n\n## Second\nMore."
    d = parse_document("md", text, markdown=True)
    assert d.title == "A Title"
    assert [s.title for s in d.sections] == ["Title", "Introduction", "First Part", "Second"]


@pytest.mark.parametrize(
    "name,data,message",
    [
        ("empty.txt", b"   \n", "empty"),
        ("binary.txt", b"\x00\x01\x02abc", "binary"),
        ("latin1.txt", "caf\xe9 au lait".encode("latin-1"), "UTF-8"),
    ],
)
def test_bad_documents_get_clear_errors(tmp_path: Path, name, data, message):
    (tmp_path / name).write_bytes(data)
    with pytest.raises(CorpusError, match=message):
        load_corpus(tmp_path)


def test_missing_or_empty_corpus(tmp_path: Path):
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "nope")
    with pytest.raises(CorpusError, match="no .txt or .md"):
        load_corpus(tmp_path)
