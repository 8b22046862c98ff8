"""The extractive reader: rank the candidate sentences with the fitted model and draft a quote, or a
refusal when the best candidate is too unlikely or lacks what the question asks for.

Hard checks that hold for any article: a who-question's answer names someone (a person, for "Who
runs ...?"), a when-question's answer holds a date or span, and a figure question's answer states a
fact-table row of the asked kind when the document has a table. A when- or who-answer whose sentence
lacks the date or name is led by the sentence before it in its paragraph that has it (for a date, else
by the sentence after it when that one is dated). A refusal
points to its closest passage only when that passage is about what the question asks: it holds half
of the question's words other than names, or some of them and the ranker does not rule it out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import Settings
from .draft import Dated, Draft
from .elapsed import first_period
from .index import Index
from .model import Logistic
from .quantity import find_periods
from .query import Query
from .ranker import Features
from .retrieval import Retriever
from .types import Fact

# A further sentence joins the answer when the model finds it more likely than not to answer too.
EXTRA_PROBABILITY = 0.5
# A date-less when-answer is led by the nearest dated sentence this many back in its paragraph.
SETTING_LOOKBACK = 2
# An event is dated by the first of its best this many sentences that holds a date (or follows one in
# its paragraph): the sentence naming an event is often not the one dating it.
DATE_CANDIDATES = 3
# A refusal's closest passage is shown when it holds at least half (by idf weight) of the question's
# own words that are not names: it is then about what was asked, not only about whom. One holding fewer
# is shown when its probability is above the fitted refusal floor (the answerability model refused).
RELATED_COVERAGE = 0.5


@dataclass(frozen=True)
class Candidate:
    """A ranked sentence: its id, the model's probability, and its feature row."""

    sid: int
    p: float
    x: np.ndarray


# What the answerability model (bot/data/answerable.json) weighs: how well the best candidate fits, how
# far ahead of the next it is, and how much of the question the corpus's words cover at all.
ANSWERABLE_FEATURES = ("p_top", "p_gap", "dense_top", "lexical_top", "known", "figure", "row_top", "row_stated", "reviewed", "topic_top",
                       "period_match", "period_conflict", "p_second", "p_third")


def answerable_features(query: Query, ranked: list[Candidate], row_top: float = 0.0, row_stated: bool = False, reviewed: bool = True,
                        table: bool = True, topic: float = 1.0, periods: tuple[bool, bool] = (False, False)) -> np.ndarray:
    """One row of ANSWERABLE_FEATURES for a ranked question; for a figure question, `row_top` is the best
    row's probability, `row_stated` whether the best sentence states a row of the asked kind, and
    `reviewed` whether the best sentence's document has a reviewed fact table (rather than a draft). A
    corpus without any fact rows (`table` False) gives its figure questions no row evidence either way.
    `topic` is how much of the question's own words other than names the best sentence holds (idf-weighted):
    a sentence about the right company but not about what was asked of it. `periods` says whether the best
    sentence (with the one before it) names a year the question names, and whether it names only others.
    `p_second` and `p_third` are the next candidates' probabilities: an article that answers often has
    several likely sentences (cross-validated net refusals over gold and A-M: 82 without, 96 with)."""
    if not ranked:
        return np.zeros((1, len(ANSWERABLE_FEATURES)))
    from .ranker import FEATURES

    top = ranked[0]
    gap = top.p - (ranked[1].p if len(ranked) > 1 else 0.0)
    dense = max(c.x[FEATURES.index("dense")] for c in ranked[:3])
    lexical = max(c.x[FEATURES.index("lexical")] for c in ranked[:3])
    return np.asarray([[top.p, gap, dense, lexical, query.known, float(query.is_figure and table), row_top, float(row_stated), float(reviewed), topic,
                        float(periods[0]), float(periods[1]), ranked[1].p if len(ranked) > 1 else 0.0, ranked[2].p if len(ranked) > 2 else 0.0]])


def _what_is_missing(query: Query) -> str:
    """What a refusal says the article does not give: whom, which one, when, or only that it does not say."""
    if query.wants_name:
        return "who" if query.kind == "who" else "which"
    return "when" if query.wants_date else "none"


class Reader:
    """Ranks sentences for a query and drafts the extractive answer."""

    def __init__(self, index: Index, retriever: Retriever, features: Features, model: Logistic, settings: Settings,
                 answerable: Logistic | None = None):
        self.index = index
        self.retriever = retriever
        self.features = features
        self.model = model
        self.settings = settings
        self.refuse_below = model.threshold("refuse")
        self.answerable = answerable  # P(the article answers) from the whole ranking; None: no such check

    def rank(self, query: Query, rows: list[tuple[Fact, float]] = ()) -> list[Candidate]:
        """Candidates best first."""
        found = self.retriever.search(query.text, query.own, query.borrowed, query.doc_ids)
        if not found.sentence_ids:
            return []
        x = self.features.of(query, found, rows)
        p = self.model.probabilities(x)
        order = sorted(range(len(p)), key=lambda i: (-p[i], found.sentence_ids[i]))
        return [Candidate(found.sentence_ids[i], float(p[i]), x[i]) for i in order]

    def read(self, query: Query, rows: list[tuple[Fact, float]] = (), stated: list[Fact] | None = None) -> Draft:
        """A quote of the best sentences, or a refusal. `rows` are the question's fact rows with their
        probabilities (ranking features); `stated`, for a figure question in a document with a fact table,
        the rows its answer may state (none of them in the answer: the article does not give the figure)."""
        ranked = self.rank(query, rows)
        # The article's own questions ("Why the sudden shift ...?") are never answers.
        ranked = [c for c in ranked if not self.features.traits(c.sid).question] or ranked
        where = self.stating(query, stated or ())
        row_top = max((p for _, p in rows), default=0.0)
        reviewed = bool(ranked) and self.features.reviewed(self.index.sentences[ranked[0].sid].doc_id)
        if not ranked or ranked[0].p < self.refuse_below or not self.answers(query, ranked, row_top, ranked[0].sid in where, reviewed, stated is not None):
            return self._refusal(query, ranked, _what_is_missing(query))
        picked = [ranked[0]] + [c for c in ranked[1 : self.settings.max_sentences] if c.p >= EXTRA_PROBABILITY]
        picked = list({c.sid: c for c in picked if not self.features.traits(c.sid).heading or query.meta}.values()) or [ranked[0]]
        sids = [c.sid for c in picked]
        sids = self._with_setting(query, sids)[: self.settings.max_sentences]
        traits = [self.features.traits(s) for s in sids]
        if query.wants_name and not self._names_someone(query, sids):
            return self._refusal(query, ranked, "who" if query.kind == "who" else "which")
        if query.wants_date and not any(t.timed for t in traits):
            return self._refusal(query, ranked, "when")
        if query.is_figure and stated is not None:  # no skill computed it either
            if not where & set(sids):
                return self._refusal(query, ranked, "figure")
        scores = tuple(next((c.p for c in ranked if c.sid == s), 1.0) for s in sids)
        return Draft("quote", sids=tuple(sids), scores=scores)

    def answers(self, query: Query, ranked: list[Candidate], row_top: float = 0.0, row_stated: bool = False, reviewed: bool = True,
                table: bool = True) -> bool:
        """Whether the answerability model takes the article to answer the question."""
        if self.answerable is None:
            return True
        x = answerable_features(query, ranked, row_top, row_stated, reviewed, table, self.topic_coverage(query, ranked), self.period_fit(query, ranked))
        return float(self.answerable.probabilities(x)[0]) >= self.answerable.threshold("answer")

    def stating(self, query: Query, stated: list[Fact]) -> set[int]:
        """The sentences of the rows a figure answer may state: of a kind the question asks for or hints at,
        and, for a figure asked per unit ("price per share"), stated per that unit."""
        sids = {self.index.sentence_at(f.doc_id, f.start) for f in stated if not query.answer_kinds or f.kind in query.answer_kinds}
        return {s for s in sids if s is not None and query.stated_per(self.index.sentences[s].text)}

    def period_fit(self, query: Query, ranked: list[Candidate]) -> tuple[bool, bool]:
        """Whether the best sentence, or the one before it in its paragraph, names a year the question
        names; and whether it names years, none of them asked."""
        if not query.periods or not ranked:
            return False, False
        sid = ranked[0].sid
        prev = self.index.paragraph_previous(sid)
        years = {p.year for s in (sid, prev) if s >= 0 for p in find_periods(self.index.sentences[s].text)}
        # "since 2023" asks of every year from 2023 on
        fit = {y for y in years if any(p.year <= y <= (p.end_year or p.year) or (p.open_ended and y >= p.year) for p in query.periods)}
        return bool(fit), bool(years) and not fit

    def topic_coverage(self, query: Query, ranked: list[Candidate]) -> float:
        """The share of the question's own words other than names that its best sentence holds."""
        return self.retriever.coverage(query.topic, ranked[0].sid) if ranked else 0.0

    def date_of(self, query: Query, breadth: int = DATE_CANDIDATES) -> Dated | None:
        """The sentence that dates an event: the first of its best `breadth` sentences that holds a date
        or follows one in its paragraph."""
        ranked = self.rank(query)
        if not ranked or ranked[0].p < self.refuse_below:
            return None
        for c in ranked[:breadth]:
            period = first_period(self.index.sentences[c.sid].text)
            if period is not None:
                return Dated(c.sid, c.sid, period)
            prev = self.index.paragraph_previous(c.sid)
            period = first_period(self.index.sentences[prev].text) if prev >= 0 else None
            if period is not None:
                return Dated(prev, c.sid, period)
        return None

    def _with_setting(self, query: Query, sids: list[int]) -> list[int]:
        """For a when/who question whose best sentence lacks the date or name, the sentence before it that has it first."""
        best = sids[0]
        if query.wants_date and not self.features.traits(best).dated:
            sid = best
            for _ in range(SETTING_LOOKBACK):
                sid = self.index.paragraph_previous(sid)
                if sid < 0:
                    break
                if self.features.traits(sid).dated:
                    return [sid] + [s for s in sids if s != sid]
            nxt = self.index.following[best]  # "The story begins with high drama." then "In November 2020, ..."
            if nxt >= 0 and self.features.traits(nxt).dated:
                return [nxt] + [s for s in sids if s != nxt]
        if query.wants_name and not self._names_someone(query, [best]):
            prev = self.index.paragraph_previous(best)
            if prev >= 0 and self._names_someone(query, [prev]):
                return [prev] + [s for s in sids if s != prev]
        return sids

    def _names_someone(self, query: Query, sids: list[int]) -> bool:
        """A name the question does not hold; a person, when the question asks for one person and the
        corpus knows its people; or a group of people, when it does not."""
        asked = query.words
        for sid in sids:
            t = self.features.traits(sid)
            if query.wants_person and self.features.lexicon.persons:
                if t.persons - set(query.persons):
                    return True
            elif any(w.lower() not in asked for w in t.capitals) or (not query.wants_person and t.group):
                return True
        return False

    def _refusal(self, query: Query, ranked: list[Candidate], reason: str) -> Draft:
        closest = ranked[0] if ranked and self._related(query, ranked[0]) else None
        return Draft("refusal", sids=(closest.sid,) if closest else (), scores=(closest.p,) if closest else (), reason=reason,
                     notes=(f"refused: {reason}",))

    def _related(self, query: Query, best: Candidate) -> bool:
        coverage = self.retriever.coverage(query.topic, best.sid)
        return coverage >= RELATED_COVERAGE or (coverage > 0 and best.p >= self.refuse_below)
