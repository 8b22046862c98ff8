"""Corpus reading, structure detection, sentences and chunks: every span is exact."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.chunking import make_chunks, split_sentences
from bot.corpus import load_corpus, parse_document
from bot.errors import CorpusError
from bot.text import sentence_spans

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
    return split_sentences(doc)


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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("It grew 5 p.c. in May. Then it fell.", ["It grew 5 p.c. in May.", "Then it fell."]),
        ("U.S. export rules bit. Sales fell.", ["U.S. export rules bit.", "Sales fell."]),
        ("Is it over? \u201cNo,\u201d she said.", ["Is it over?", "\u201cNo,\u201d she said."]),
        ("One line\nAnother line", ["One line", "Another line"]),
    ],
)
def test_the_one_sentence_splitter(text, expected):
    assert [text[a:b] for a, b in sentence_spans(text)] == expected


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


# --- article knowledge lives in corpus/, not in code -------------------------------------------------

BOT_DIR = Path(__file__).resolve().parent.parent / "bot"
MIN_NAME = 4  # shorter names ("Ant", "PDD", "JD") are ordinary words or letters too often to scan for


def _article_names() -> set[str]:
    """Every canonical entity and alias of the corpus's knowledge files, and every fact-table entity."""
    import json

    names: set[str] = set()
    for path in CORPUS.glob("*.knowledge.json"):
        for entity, aliases in (json.loads(path.read_text(encoding="utf-8")).get("entities") or {}).items():
            names.update([entity, *aliases])
    for path in CORPUS.glob("*.facts.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                names.add(json.loads(line)["entity"])
    return {n for n in names if len(n) >= MIN_NAME}


def test_the_knowledge_file_loads_and_covers_the_fact_table():
    from bot.facts import FactTable

    table = FactTable.load(CORPUS)
    known = set(table.knowledge.aliases)
    assert known, "corpus/*.knowledge.json names the article's entities"
    assert {f.entity for f in table.facts} <= known | set(table.knowledge.parents), "every row's entity is in the knowledge file"


def test_no_article_name_is_written_into_the_code():
    """The bot serves any article: the shipped article's companies and people (canonical names and
    aliases of corpus/*.knowledge.json, fact-table entities) appear nowhere in bot/*.py, as a whole
    word, case-insensitively (code, comments and docstrings alike)."""
    import re

    names = _article_names()
    assert len(names) > 20
    patterns = {n: re.compile(rf"(?<!\w){re.escape(n).replace(chr(39), '[' + chr(39) + '’]')}(?!\w)", re.I) for n in names}
    offenders = []
    for path in sorted(BOT_DIR.glob("*.py")):
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            found = sorted(n for n, p in patterns.items() if p.search(line))
            if found:
                offenders.append(f"bot/{path.name}:{lineno}: {', '.join(found)}")
    assert not offenders, f"{len(offenders)} lines of bot/ name the article's entities:\n" + "\n".join(offenders)
