"""Word-level text helpers shared by indexing and querying: BM25 tokens and content words."""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer

_WORD = re.compile(r"[a-z0-9]+(?:[.'’][a-z0-9]+)*")
_stemmer = Stemmer.Stemmer("english")

# English function words plus the question words readers use; none of them says what a question is about.
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most my
    myself no nor not now of off on once only or other our ours ourselves out over own same she should so
    some such than that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your yours
    yourself yourselves s t don tell say says said did does also much many according article anything
    something give describe explain mean means""".split()
)


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
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
            out.append(_stem(w))
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
