"""Word-level text helpers shared by indexing and querying: BM25 tokens and content words."""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer

from .resources import STOPWORDS

_WORD = re.compile(r"[a-z0-9]+(?:[.'’][a-z0-9]+)*")
_stemmer = Stemmer.Stemmer("english")

# English function words plus the question words readers use; none of them says what a question is about.
@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball (Porter 2) stem of a lower-cased word: the one stemmer of the bot."""
    return _stemmer.stemWord(word)


# "U.S.", "U.S" and "US" are one word ("What US policy ...?" meets "U.S. export restrictions"), and
# not the pronoun "us".
_US = re.compile(r"\bU\.S\.?(?![A-Za-z])|\bUS\b")


# A follow-up rewritten with borrowed context reads "<its own words> — <the previous question>" (followup.py).
CONTEXT_MARK = " — "


def own_words(question: str) -> str:
    """A question's own words, without the context a follow-up rewrite borrows after CONTEXT_MARK."""
    return question.split(CONTEXT_MARK)[0]


def borrowed(question: str) -> str:
    """The question a follow-up rewrite borrows its context from (the question itself when it borrows none)."""
    return question.split(CONTEXT_MARK)[-1]


def words(text: str) -> list[str]:
    """Lower-cased word tokens, apostrophes and inner dots kept ("acme's", "u.s")."""
    return _WORD.findall(_US.sub("u.s", text).lower())


def bm25_tokens(text: str) -> list[str]:
    """Stemmed content words: what BM25 indexes and what a query is matched with."""
    out = []
    for w in words(text):
        w = re.sub(r"['’]s$", "", w)
        if w not in STOPWORDS:
            out.append(stem(w))
    return out


def content_terms(text: str) -> set[str]:
    """The stemmed content words of a text, as a set."""
    return set(bm25_tokens(text))


PREFIX_CHARS = 5


def match_keys(terms: set[str] | frozenset[str]) -> frozenset[str]:
    """Terms plus their first PREFIX_CHARS letters, so "withdrawn" meets "withdrawing" and "responded" "response".

    The Snowball stemmer leaves such pairs apart; a five-letter prefix joins them at the cost of rare
    false matches, which the dense score outweighs.
    """
    return frozenset(terms) | frozenset(t[:PREFIX_CHARS] for t in terms if len(t) > PREFIX_CHARS)


_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])|\n+")
_ABBREVIATIONS = frozenset(
    {
        "u.s",
        "no",
        "mr",
        "ms",
        "mrs",
        "dr",
        "inc",
        "co",
        "corp",
        "ltd",
        "st",
        "vs",
        "e.g",
        "i.e",
        "approx",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
    }
)
_LAST_TOKEN = re.compile(r"([A-Za-z.]+)\.\Z")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence or line of `text`, surrounding space left out: the one sentence
    splitter of the bot (the index's sentences, the guard's claims, drafted rows). A full stop after a
    known abbreviation ("U.S.") does not end a sentence."""
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        if m.group().startswith(".") and (t := _LAST_TOKEN.search(text, max(0, m.start() - 12), m.start() + 1)):
            if t.group(1).lower() in _ABBREVIATIONS:
                continue
        _add_span(text, start, m.end() if not m.group().startswith("\n") else m.start(), spans)
        start = m.end()
    _add_span(text, start, len(text), spans)
    return spans


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


