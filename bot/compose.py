"""Extractive answers: choose the article sentences that answer a question and cite each one.

The answer is made of verbatim article sentences, each followed by its `[n]` marker; the only words
that are not the article's are short framing ("The article doesn't say ..."). A question's type
(figure, when, who, why) favours sentences that carry what that type asks for. This module does not
check figures (see `guard.py`) and does not know about conversations (see `session.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .chunking import is_heading
from .index import Index
from .retrieval import Retrieval, Retriever
from .types import Answer, Citation, Sentence

# Bonus (or malus) on a sentence's retrieval score when it carries what the question type asks for.
# Sized against the retrieval score's spread on the gold set: large enough to reorder near ties,
# too small to lift an off-topic sentence over an on-topic one.
TYPE_BONUS = 0.12
TYPE_MALUS = 0.04
# A further sentence joins the answer only when it scores within this margin of the best one.
EXTRA_SENTENCE_MARGIN = 0.04
# The article's own questions ("Why the sudden shift ...?") are never answers: they hand their score
# to the sentence that follows them and drop by this much. Headings drop likewise unless the
# question asks about titles, sections or periods.
QUESTION_MALUS = 0.3
HEADING_MALUS = 0.15
# A why-question's sentence whose lexical score reaches this restates the question; the next
# sentence of its paragraph, which usually gives the reason, scores as high (evidence unchanged on
# the gold set, figure exact match +0.9 points from 0.6 to 0.8 alike).
ECHO_COVERAGE = 0.7
_Q_META = re.compile(r"\b(?:title|headline|heading|section|chapter|years?|period|horizon|cover)\b", re.I)

_NUMBER_WORDS = r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|hundred|thousand|million|billion|trillion|double|triple"
_HAS_FIGURE = re.compile(rf"\d|\b(?:{_NUMBER_WORDS})\b", re.I)
_MONTHS = r"January|February|March|April|May|June|July|August|September|October|November|December"
_HAS_DATE = re.compile(rf"\b(?:{_MONTHS})\s+\d{{4}}\b|\b(?:19|20)\d{{2}}\b", re.I)
_HAS_NAME = re.compile(rf"(?<!^)(?<![.!?] )\b(?!(?:{_MONTHS}|In|The|As|For|Under|At|On|By|And|But)\b)[A-Z][a-z]+ [A-Z][a-z]+\b|\b(?:CEO|Chairman|founder|co-founders?|executives?|management|Management)\b")
_HAS_CAUSE = re.compile(r"\b(?:because|due to|reason|intended to|in order to|so that|pressures?|led to|leading to|driven by|the answer came|lesson|to this end|this context|realized|thanks to|as a result)\b", re.I)

_METRIC_NOUNS = r"gmv|revenues?|profits?|income|earnings|sales|share|dau|fine|penalty|loss(?:es)?|growth|members|users|employees|staff|valuation|price|cost|number|size|amount|total|discount|margin|parameters|headcount|worth"
_Q_FIGURE = re.compile(rf"\bhow (?:much|many|big|large|far|fast|high|low|long|deep|steep)\b|\bwhat (?:share|percentage|percent|proportion|portion|fraction|amount|number|size|figure|rate|value)\b|^(?:what|which)(?:'s|’s| is| was| were| are)\b[^?]*\b(?:{_METRIC_NOUNS})\b|\bhow .* (?:grow|grew|fall|fell|drop|shrink|shrank)\b", re.I)
_Q_WHEN = re.compile(r"\bwhen\b|\bwhat (?:year|month|date|time)\b|\bwhich (?:year|month)\b|\bhow long ago\b", re.I)
_Q_WHO = re.compile(r"\bwho(?:m|se)?\b|\bwhich (?:person|executive|founder|people)\b", re.I)
_Q_WHY = re.compile(r"\bwhy\b|\bhow come\b|\bwhat (?:caused|led|drove|prompted|made)\b|\breasons?\b|\bmotivat", re.I)


def question_type(question: str) -> str:
    """One of figure, when, who, why, other."""
    for name, pattern in (("why", _Q_WHY), ("when", _Q_WHEN), ("who", _Q_WHO), ("figure", _Q_FIGURE)):
        if pattern.search(question):
            return name
    return "other"


_FEATURE = {"figure": _HAS_FIGURE, "when": _HAS_DATE, "who": _HAS_NAME, "why": _HAS_CAUSE}


@dataclass(frozen=True)
class Choice:
    """A sentence chosen for the answer, with the score that chose it."""

    sentence: Sentence
    score: float


_CAPWORD = re.compile(r"\b[A-Z][A-Za-z0-9&-]*[A-Za-z0-9]\b")
_NOT_NAMES = frozenset(f"""{_MONTHS.replace('|', ' ')} In The As For Under At On By And But This That These Those It Its
    Their They A An If When While With From To Of Data Now However Yet Likewise Compared Despite Although Upon Against
    Just Internally Externally Like Why How What Which Who""".split())


def new_names(text: str, question: str) -> set[str]:
    """Capitalised words of a sentence (names: "Jack Ma", "SHEIN") that the question does not hold."""
    asked = {w.lower() for w in re.findall(r"[A-Za-z0-9&-]+", question)}
    out = set()
    for m in _CAPWORD.finditer(text):
        w = m.group()
        if w in _NOT_NAMES or w.lower() in asked or (w.isupper() and len(w) <= 3):
            continue  # short capitals are units and terms (CNY, GMV, IPO, CEO), not names
        if not text[: m.start()].strip(' "“-') and not _CAPWORD.match(text, m.end() + 1):
            continue  # a sentence's capitalised first word is a name only when one follows ("Ant Group")
        out.add(w)
    return out


def _has_feature(qtype: str, text: str, question: str) -> bool:
    """A who-answer names someone the question does not (role words alone, "a former executive", do
    not count: with them evidence hit@1 fell 1.1 points); other types carry a figure, date or cause."""
    if qtype == "who":
        return bool(new_names(text, question))
    return bool(_FEATURE[qtype].search(text))


def rank_sentences(found: Retrieval, question: str, qtype: str, index: Index) -> list[Choice]:
    """Retrieved sentences re-scored for the question type, best first."""
    scores = dict(zip(found.sentence_ids, found.sentence_scores, strict=False))
    sentences = index.sentences
    for sid, score in list(scores.items()):
        if sentences[sid].text.rstrip().endswith("?"):
            nxt = sid + 1
            while nxt < len(sentences) and sentences[nxt].text.rstrip().endswith("?"):
                nxt += 1
            if nxt < len(sentences) and sentences[nxt].doc_id == sentences[sid].doc_id and sentences[nxt].section == sentences[sid].section:
                scores[nxt] = max(scores.get(nxt, score), score)
            scores[sid] = min(scores[sid], score - QUESTION_MALUS)
    if qtype == "why":
        # A sentence that restates what a why-question asks about ("This expedition is a high-stakes
        # gamble.") seldom says why; the next sentence of its paragraph usually does.
        lexical = dict(zip(found.sentence_ids, found.lexical_scores, strict=False))
        for sid, score in list(scores.items()):
            s, nxt = sentences[sid], sid + 1
            if lexical.get(sid, 0.0) < ECHO_COVERAGE or _HAS_CAUSE.search(s.text) or nxt >= len(sentences) or index.previous[nxt] != sid:
                continue
            if "\n" not in index.documents[s.doc_id].text[s.end : sentences[nxt].start]:
                scores[nxt] = max(scores.get(nxt, -1.0), score)
    meta = bool(_Q_META.search(question))
    out = []
    for sid, score in scores.items():
        s = sentences[sid]
        if is_heading(s):
            score -= 0 if meta else HEADING_MALUS
        elif qtype in _FEATURE:
            score += TYPE_BONUS if _has_feature(qtype, s.text, question) else -TYPE_MALUS
        out.append(Choice(s, score))
    out.sort(key=lambda c: (-c.score, c.sentence.sid))
    return out


def select(choices: list[Choice], max_sentences: int) -> list[Choice]:
    """The best sentence and any close runner-up, up to `max_sentences`, without repeats."""
    if not choices:
        return []
    picked = [choices[0]]
    for c in choices[1:]:
        if len(picked) >= max_sentences or c.score < choices[0].score - EXTRA_SENTENCE_MARGIN:
            break
        if all(c.sentence.text != p.sentence.text for p in picked):
            picked.append(c)
    return picked


def with_setting(picked: list[Choice], qtype: str, index: Index) -> list[Choice]:
    """For a when/who question whose best sentence lacks the date or name, quote the sentence before it
    first when that one has it ("In November 2020, ..." / "... was halted just 48 hours before its debut.")."""
    feature = {"when": _HAS_DATE, "who": _HAS_NAME}.get(qtype)
    if feature is None or not picked or feature.search(picked[0].sentence.text):
        return picked
    best = picked[0].sentence
    prev_id = index.previous[best.sid]
    if prev_id < 0:
        return picked
    prev = index.sentences[prev_id]
    if not feature.search(prev.text) or "\n" in index.documents[best.doc_id].text[prev.end:best.start]:
        return picked
    return [Choice(prev, picked[0].score)] + [c for c in picked if c.sentence.sid != prev.sid]


def cite(sentences: list[Choice], start_n: int = 1) -> tuple[str, list[Citation]]:
    """Answer text with a `[n]` marker after each sentence, and the matching citations."""
    parts, cites = [], []
    for n, c in enumerate(sentences, start=start_n):
        s = c.sentence
        parts.append(f"{s.text.strip()} [{n}]")
        cites.append(Citation(n=n, doc_id=s.doc_id, section=s.section, start=s.start, end=s.end, text=s.text, score=round(c.score, 4)))
    return " ".join(parts), cites


def refusal(question: str, closest: list[Choice], reason: str = "") -> Answer:
    """A plain 'not in the article' answer that may point to the closest passages."""
    text = "The article doesn't say."
    if reason:
        text = f"The article doesn't say {reason}."
    cites: list[Citation] = []
    if closest:
        pointer, cites = cite(closest[:1])
        text += f" The closest passage is: {pointer}"
    return Answer(text=text, citations=cites, answerable=False, question=question, standalone_question=question)


def extractive_answer(question: str, retriever: Retriever, max_sentences: int, min_score: float) -> tuple[Answer, list[Choice], Retrieval]:
    """Search, rank and quote; refuse when the best sentence scores under `min_score`."""
    found = retriever.search(question)
    qtype = question_type(question)
    ranked = rank_sentences(found, question, qtype, retriever.index)
    if not ranked or ranked[0].score < min_score:
        return refusal(question, ranked), ranked, found
    text, cites = cite(with_setting(select(ranked, max_sentences), qtype, retriever.index)[:max_sentences])
    return Answer(text=text, citations=cites, answerable=True, question=question, standalone_question=question), ranked, found
