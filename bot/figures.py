"""Figure questions answered from the fact table: stated figures, derived figures, and false premises.

A question that asks for a figure is answered from the table first: the row's own wording, whom and
what it is about, its period, and the article sentence that states it. A difference or total is
computed only from two rows, with the arithmetic shown and both inputs cited. A question that quotes
a figure the article contradicts gets a "No" and the article's figure. This module never composes
sentence answers (see `compose.py`) and never judges free text (see `guard.py`).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from .facts import FactTable
from .guard import check_figures, derive_difference
from .quantity import format_quantity, scale_of
from .types import Fact, FigureCheck, Quantity, Sentence

# A table row answers a figure question when its lookup score reaches this. Measured on the gold set
# (eval/gold.jsonl): the right row of answerable figure questions scores >= 1.65 in all but 3 cases,
# while unanswerable figure questions top out at 1.75 (one at 2.25); 1.6 keeps the most right answers
# and the refusal path catches what is left.
FACT_MIN_SCORE = 1.6
# Both inputs of a derived figure must score at least this in the lookup.
DERIVE_MIN_SCORE = 1.5

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December")
_DIFFERENCE = re.compile(r"\bhow (?:much|many) (?:larger|bigger|more|less|smaller|higher|lower|greater)\b(?! is\b)|\b(?:difference|gap)\b|\bhow far (?:ahead|behind)\b|\bby how (?:much|many) (?:points|percentage points)\b|\blead\b", re.I)
_TOTAL = re.compile(r"\b(?:combined|together|in total|total of|sum of)\b", re.I)
_YES_NO = re.compile(r"^(?:is|was|were|are|did|does|do|has|have|had|can|could)\b|\bright\s*\?$|\btrue\b", re.I)
_BAD = ("mismatch", "period_mismatch", "entity_mismatch", "over_precise")


@dataclass(frozen=True)
class FigureReply:
    """A composed figure answer: text with [n] markers, the cited sentences in marker order, derived figures."""

    text: str
    sentences: tuple[Sentence, ...]
    derived: tuple[Quantity, ...] = ()
    kind: str = "table"  # table, derived, premise


class SentenceFinder:
    """The sentence that holds a given offset of a document."""

    def __init__(self, sentences: list[Sentence]):
        self._by_doc: dict[str, tuple[list[int], list[Sentence]]] = {}
        for s in sentences:
            starts, sents = self._by_doc.setdefault(s.doc_id, ([], []))
            starts.append(s.start)
            sents.append(s)

    def at(self, doc_id: str, offset: int) -> Sentence | None:
        starts, sents = self._by_doc.get(doc_id, ([], []))
        i = bisect.bisect_right(starts, offset) - 1
        return sents[i] if i >= 0 and sents[i].start <= offset < sents[i].end else None


def describe(f: Fact, table: FactTable) -> str:
    """What the row is about, then its figure as the article words it:
    "Alibaba's antitrust fine (April 2021): CNY 18.2 billion (US$2.8 billion)".

    The name comes first because the guard ties a figure to the name before it.
    """
    same = [table.by_id[i] for i in f.linked if i in table.by_id]
    same = [g.quote for g in same if g.entity == f.entity and g.metric == f.metric and g.period == f.period and g.start > f.start]
    figure = f.quote + (f" ({', '.join(same)})" if same else "")
    when = f" ({period_words(f.period)})" if f.period else ""
    return f"{_possessive(f.entity)} {f.metric}{when}: {figure}"


def _possessive(name: str) -> str:
    return name + ("'" if name.endswith("s") else "'s")


def period_words(period: str) -> str:
    """ "2021-04" -> "April 2021"; "2024" -> "2024"."""
    if len(period) >= 7 and period[5:7].isdigit() and 1 <= int(period[5:7]) <= 12:
        return f"{_MONTHS[int(period[5:7]) - 1]} {period[:4]}"
    return period


def table_answer(question: str, table: FactTable, finder: SentenceFinder, doc_ids: list[str] | None = None) -> FigureReply | None:
    """The best table row for a figure question, with its sentence; None when no row fits well enough."""
    ranked = table.lookup(question, doc_ids)
    if not ranked or ranked[0][1] < FACT_MIN_SCORE:
        return None
    f = ranked[0][0]
    s = finder.at(f.doc_id, f.start)
    if s is None:
        return None
    return FigureReply(f"{describe(f, table)}. {s.text.strip()} [1]", (s,))


def derived_answer(question: str, table: FactTable, finder: SentenceFinder, doc_ids: list[str] | None = None) -> FigureReply | None:
    """A difference or total of two rows the question names, with the arithmetic and both inputs cited."""
    total = bool(_TOTAL.search(question))
    if not (total or _DIFFERENCE.search(question)):
        return None
    ranked = [(f, s) for f, s in table.lookup(question, doc_ids) if s >= DERIVE_MIN_SCORE and f.value is not None]
    for i, (a, _) in enumerate(ranked):
        for b, _ in ranked[i + 1:]:
            same_figure = a.entity == b.entity and a.metric == b.metric and a.period == b.period  # e.g. CNY and US$
            if same_figure or a.kind != b.kind or a.currency != b.currency or a.unit != b.unit:
                continue
            return _derive(a, b, total, table, finder)
    return None


def _derive(a: Fact, b: Fact, total: bool, table: FactTable, finder: SentenceFinder) -> FigureReply | None:
    if (b.value or 0) > (a.value or 0) and not total:
        a, b = b, a
    sa, sb = finder.at(a.doc_id, a.start), finder.at(b.doc_id, b.start)
    if sa is None or sb is None:
        return None
    try:
        if total:
            value = a.value + b.value
            kind = a.kind
            q = Quantity(format_quantity(kind, value, a.currency, a.unit if kind == "duration" else None), -1, -1, kind, value=value,
                         currency=a.currency, scale=scale_of(value) if kind in ("money", "count") else None)
        else:
            q = derive_difference(a, b)
    except ValueError:
        return None
    approx = "about " if (a.qualifier or b.qualifier) and not q.text.startswith("about") else ""
    same_sentence = sa.sid == sb.sid
    ma, mb = "[1]", "[1]" if same_sentence else "[2]"
    result = f"together {approx}{q.text}" if total else f"a difference of {approx}{q.text}"
    text = (
        f"{_possessive(a.entity)} {a.metric}: {a.quote} {ma}; {_possessive(b.entity)} {b.metric}: {b.quote} {mb}; "
        f"{result} (computed from the figures above)."
    )
    sentences = (sa,) if same_sentence else (sa, sb)
    return FigureReply(text, sentences, (q,), kind="derived")


def premise_answer(question: str, table: FactTable, finder: SentenceFinder, doc_ids: list[str] | None = None) -> tuple[FigureReply | None, list[FigureCheck]]:
    """A correction when the question quotes a figure the article contradicts; a "Yes" for a yes/no
    question whose figures all check out. Returns the reply (or None) and the question's checks."""
    checks = check_figures(question, table, doc_ids)
    bad = [c for c in checks if c.status in _BAD]
    if bad:
        c = bad[0]
        right = _expected_row(c, question, table)
        if right is None:
            return None, checks
        s = finder.at(right.doc_id, right.start)
        if s is None:
            return None, checks
        text = f"No: the article gives {describe(right, table)}. {s.text.strip()} [1]"
        return FigureReply(text, (s,), kind="premise"), checks
    if checks and all(c.status == "ok" and c.fact_id for c in checks) and _YES_NO.search(question.strip()):
        f = table.by_id[checks[0].fact_id]
        s = finder.at(f.doc_id, f.start)
        if s is not None:
            return FigureReply(f"Yes: the article gives {describe(f, table)}. {s.text.strip()} [1]", (s,), kind="premise"), checks
    return None, checks


def _expected_row(c: FigureCheck, question: str, table: FactTable) -> Fact | None:
    """The row holding what the question should have said."""
    if c.status in ("mismatch", "over_precise") and c.fact_id in table.by_id:
        return table.by_id[c.fact_id]
    named = {m.entity for m in table.entities_in(question)}
    candidates = [f for f in table.facts if c.expected and f.quote == c.expected]
    candidates.sort(key=lambda f: f.entity not in named)
    if candidates:
        return candidates[0]
    return table.by_id.get(c.fact_id) if c.fact_id else None
