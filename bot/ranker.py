"""The fitted sentence ranker: features for each candidate sentence, and a logistic model over them.

`Features.of(query, found)` turns the retrieval's candidates into a feature matrix: the retrieval
scores (`retrieval.py`), where the sentence stands (a heading, one of the article's own questions),
and what it holds of what the question asks for (a date for a when-question, a person for a
who-question, a figure of the asked kind or a fact row, a cause, a manner); each retrieval score also
as its gap to the best candidate. Features that did not help in cross-validation are left out
(README: the names and periods of the question, definitions, repeats of the last answer, and the
similarity to build-time generated questions). The weights are fitted by `python -m
eval.fit` and read as a `model.Logistic` from `bot/data/sentences.json` (with what they were fitted on
and their cross-validated scores); it gives each candidate a calibrated probability of being the
answering sentence, and the refusal threshold comes from the same file. No weight here is set by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .chunking import is_heading
from .facts import FactTable
from .followup import Lexicon
from .index import Index
from .model import DATA
from .quantity import find_periods, find_quantities
from .query import Query
from .resources import MANNER_CUES, NOT_NAMES, PEOPLE_WORDS
from .retrieval import Retrieval
from .types import Fact, Sentence

MODEL_FILE = DATA / "sentences.json"

# The order is the model's: the weights file names the features it was fitted with.
FEATURES = (
    "dense", "dense_ctx", "dense_own", "dense_prev", "dense_next", "chunk", "chunk_top",
    "lexical", "lexical_ctx", "lexical_heading", "lexical_borrowed", "lexical_prev", "prev_question",
    "heading", "question",
    "when_date", "when_time", "when_prev_date", "who_name", "who_person", "who_group",
    "figure_any", "figure_kind", "figure_row", "why_cause", "why_prev", "how_manner", "other_figure",
)  # fmt: skip
# Each of these also enters as its gap to the best candidate of the same question (0 for the best): a
# pointwise model then sees how a sentence stands against its rivals (cross-validated top-1 0.669 -> 0.701).
GAPS = ("dense", "dense_ctx", "dense_own", "dense_next", "dense_prev", "lexical", "lexical_ctx", "figure_row", "chunk")
FEATURES = FEATURES + tuple(f"{n}_gap" for n in GAPS)
# Each of these also enters as log(1 + its rank among the question's candidates): how a sentence stands
# on each score regardless of the scores' spread.
RANKED = ("dense", "dense_ctx", "dense_own", "dense_next", "lexical", "lexical_ctx")
# The similarity scores again, once per question kind, so that each kind weighs them its own way (a
# why-question's answer is often the sentence after the one that restates it; a figure's is the one that
# matches). Cross-validated top-1 over gold and sets A-M, 1,032 questions: 0.714 without the ranks and
# the kinds, 0.736 with both.
KINDS = ("figure", "how", "what", "when", "who", "why")
BY_KIND = ("dense", "dense_ctx", "dense_own", "dense_next", "dense_prev", "lexical", "lexical_ctx", "chunk",
           "dense_gap", "lexical_gap", "dense_ctx_gap", "dense_next_gap", "dense_prev_gap")
FEATURES = FEATURES + tuple(f"{n}_rank" for n in RANKED) + tuple(f"{n}@{k}" for k in KINDS for n in BY_KIND)

_CAPWORD = re.compile(r"\b[A-Z][A-Za-z0-9&-]*[A-Za-z0-9]\b")
_WORD = re.compile(r"[A-Za-z0-9&-]+")


@dataclass(frozen=True)
class Traits:
    """What a sentence holds, whatever the question: computed once per sentence."""

    dated: bool  # a year or a month and year
    timed: bool  # a date, or a span of time ("four months")
    kinds: frozenset[str]  # kinds of the figures it states
    capitals: tuple[str, ...]  # capitalised words that may be names
    persons: frozenset[str]
    group: bool  # names a group of people ("investors", "management")
    cause: bool
    manner: bool
    heading: bool
    question: bool


class Features:
    """Feature matrices for the candidates of one corpus."""

    def __init__(self, index: Index, table: FactTable, lexicon: Lexicon, cause_cues: tuple[str, ...]):
        self.index = index
        self.table = table
        self.lexicon = lexicon
        self._cause = _cue_pattern(cause_cues)
        self._manner = _cue_pattern(MANNER_CUES)
        self._group = _cue_pattern(PEOPLE_WORDS, flags=0)
        self._traits: dict[int, Traits] = {}
        self._title_words = {d: {w.lower() for w in _WORD.findall(doc.title)} for d, doc in index.documents.items()}

    def reviewed(self, doc_id: str) -> bool:
        """Whether the document's fact rows were reviewed by a person (not drafted by the grammar)."""
        return any(f.reviewed for f in self.table.by_doc.get(doc_id, ()))

    def traits(self, sid: int) -> Traits:
        t = self._traits.get(sid)
        if t is None:
            t = self._traits[sid] = self._compute(self.index.sentences[sid])
        return t

    def _compute(self, s: Sentence) -> Traits:
        periods = find_periods(s.text)
        quantities = find_quantities(s.text, periods)
        capitals = tuple(w for i, w in enumerate(_CAPWORD.findall(s.text)) if w not in NOT_NAMES and not (w.isupper() and len(w) <= 3))
        persons = frozenset(p for p in self.lexicon.persons if p in s.text)
        return Traits(
            dated=any(p.year for p in periods),
            timed=any(p.year for p in periods) or any(q.kind == "duration" for q in quantities),
            kinds=frozenset(q.kind for q in quantities), capitals=capitals, persons=persons, group=bool(self._group.search(s.text)),
            cause=bool(self._cause.search(s.text)), manner=bool(self._manner.search(s.text)),
            heading=is_heading(s), question=s.text.rstrip().endswith("?"),
        )  # fmt: skip

    def of(self, query: Query, found: Retrieval, rows: list[tuple[Fact, float]] = ()) -> np.ndarray:
        """One row per candidate of `found`, one column per name in FEATURES; `rows` are the question's
        fact rows with the row model's probabilities (figure questions)."""
        sids = found.sentence_ids
        n = len(sids)
        cols: dict[str, np.ndarray] = {name: np.zeros(n) for name in FEATURES}
        for name, values in found.features.items():
            cols[name] = values
        asked_words = query.words
        kinds = query.figure_kinds or query.kind_hints
        row_of = self._row_scores(query, rows) if query.is_figure else {}
        for i, sid in enumerate(sids):
            s = self.index.sentences[sid]
            t = self.traits(sid)
            prev = self.index.previous[sid]
            pt = self.traits(prev) if prev >= 0 else None
            cols["heading"][i] = t.heading and not query.meta
            if pt is not None and pt.question:  # the article asks the reader's question; this sentence answers it
                cols["prev_question"][i] = cols["dense_prev"][i]
            cols["question"][i] = t.question
            kind = query.kind
            if kind == "when" or query.wants_date:
                cols["when_date"][i] = t.dated
                cols["when_time"][i] = t.timed
                cols["when_prev_date"][i] = bool(pt and pt.dated) and self.index.paragraph_previous(sid) >= 0
            if kind == "who" or query.wants_name:
                title = self._title_words.get(s.doc_id, set())
                new = [w for w in t.capitals if w.lower() not in asked_words and w.lower() not in title]
                cols["who_name"][i] = bool(new)
                cols["who_person"][i] = bool(t.persons - set(query.persons))
                cols["who_group"][i] = t.group
            if kind == "figure":
                cols["figure_any"][i] = bool(t.kinds)
                cols["figure_kind"][i] = bool(t.kinds & kinds) if kinds else bool(t.kinds)
                cols["figure_row"][i] = row_of.get(sid, 0.0)
            elif kind not in ("when", "who"):
                cols["other_figure"][i] = bool(t.kinds)
            if kind == "why":
                cols["why_cause"][i] = t.cause
                cols["why_prev"][i] = cols["lexical_prev"][i]  # the sentence before restates the question: this one gives the reason
            if kind == "how":
                cols["how_manner"][i] = t.manner
        for name in GAPS:
            cols[f"{name}_gap"] = cols[name] - cols[name].max()
        for name in RANKED:
            order = np.argsort(-cols[name], kind="stable")
            rank = np.empty(n)
            rank[order] = np.arange(n)
            cols[f"{name}_rank"] = np.log1p(rank)
        if query.kind in KINDS:
            for name in BY_KIND:
                cols[f"{name}@{query.kind}"] = cols[name]
        return np.column_stack([cols[name] for name in FEATURES]).astype(np.float64)

    def _row_scores(self, query: Query, rows: list[tuple[Fact, float]]) -> dict[int, float]:
        """For each sentence, the best probability of a fact row it states (a figure question's best evidence)."""
        out: dict[int, float] = {}
        for f, p in rows:
            sid = self.index.sentence_at(f.doc_id, f.start)
            if sid is not None:
                out[sid] = max(out.get(sid, 0.0), p)
        return out


def _cue_pattern(cues: tuple[str, ...], flags: int = re.I) -> re.Pattern[str]:
    words = sorted({c.strip() for c in cues if c.strip()}, key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b", flags) if words else re.compile(r"(?!)")
