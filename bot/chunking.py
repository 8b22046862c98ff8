"""Split documents into sentences and pack sentences into chunks that never cross a section.

Sentence boundaries come from the bot's one splitter (`text.sentence_spans`), applied to each
paragraph with exact spans; it gives the same sentences as the Punkt model it replaced on the three
articles of the tests (1 + 2 documents, 271 sentences) without importing nltk. A heading line counts as
one sentence of its own section. This module runs at build time only.
"""

from __future__ import annotations

import re
from itertools import groupby

from .text import sentence_spans
from .types import Chunk, Document, Sentence


def split_sentences(doc: Document, first_sid: int = 0) -> list[Sentence]:
    """Every sentence of a document, in order; a heading line (and the title) is one sentence."""
    out: list[Sentence] = []
    for sec in doc.sections:
        if sec.heading_end > sec.heading_start:
            out.append(Sentence(first_sid + len(out), doc.doc_id, sec.title, sec.heading_start, sec.heading_end, doc.text[sec.heading_start:sec.heading_end]))
        for m in re.finditer(r"[^\r\n]+", doc.text[sec.start:sec.end]):
            base = sec.start + m.start()
            for s, e in sentence_spans(m.group()):
                text = doc.text[base + s:base + e]
                if text.strip():
                    out.append(Sentence(first_sid + len(out), doc.doc_id, sec.title, base + s, base + e, text))
    return out


def make_chunks(doc: Document, sentences: list[Sentence], max_words: int, overlap: int, first_cid: int = 0) -> list[Chunk]:
    """Pack consecutive sentences of each section into chunks of at most `max_words` words.

    A sentence longer than `max_words` becomes a chunk of its own; it is never cut.
    """
    if overlap < 0 or max_words < 1:
        raise ValueError("chunk_words must be >= 1 and chunk_overlap >= 0")
    chunks: list[Chunk] = []
    for _, run in groupby(sentences, key=lambda s: s.section):
        sec_sents = list(run)
        i = 0
        while i < len(sec_sents):
            j, words = i, 0
            while j < len(sec_sents) and (j == i or words + _words(sec_sents[j].text) <= max_words):
                words += _words(sec_sents[j].text)
                j += 1
            group = sec_sents[i:j]
            start, end = group[0].start, group[-1].end
            chunks.append(Chunk(first_cid + len(chunks), doc.doc_id, group[0].section, start, end, doc.text[start:end], tuple(s.sid for s in group)))
            if j >= len(sec_sents):
                break
            i = max(i + 1, j - overlap)
    return chunks


def is_heading(s: Sentence) -> bool:
    """True for a heading line (or the title) kept as a sentence."""
    return s.section == "Title" or s.text.strip().lstrip("#").strip() == s.section


def previous_ids(sentences: list[Sentence]) -> list[int]:
    """For each sentence, the id of the sentence before it in the same section (-1 when none or a heading)."""
    out = []
    for i, s in enumerate(sentences):
        p = sentences[i - 1] if i > 0 else None
        ok = p is not None and p.doc_id == s.doc_id and p.section == s.section and not is_heading(p) and not is_heading(s)
        out.append(p.sid if ok else -1)
    return out


def context_texts(sentences: list[Sentence]) -> list[str]:
    """Each sentence preceded by the one before it: what the sentence's context vector embeds."""
    prev = previous_ids(sentences)
    first = sentences[0].sid if sentences else 0
    return [(sentences[p - first].text + " " if p >= 0 else "") + s.text for s, p in zip(sentences, prev, strict=False)]


def embedding_text(chunk: Chunk, doc_title: str) -> str:
    """What is embedded and indexed for a chunk: its section heading, then its own text."""
    heading = chunk.section if chunk.section not in ("Introduction", "Summary", "Subtitle") else doc_title
    return f"{heading}\n{chunk.text}"


def _words(text: str) -> int:
    return len(text.split())
