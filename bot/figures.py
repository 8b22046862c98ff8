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

from .facts import FactTable, affinity
from .guard import check_figures, derive_difference
from .quantity import find_periods, format_quantity, scale_of
from .types import Fact, FigureCheck, Quantity, Sentence

# A table row answers a figure question when its lookup score reaches this. Measured on the gold set
# (eval/gold.jsonl): the right row of answerable figure questions scores >= 1.65 in all but 3 cases,
# while unanswerable figure questions top out at 1.75 (one at 2.25); 1.6 keeps the most right answers
# and the refusal path catches what is left.
FACT_MIN_SCORE = 1.6
# A figure quoted in a question is corrected (or confirmed) only against a row the question is about,
# one scoring at least this in the lookup (an entity or metric named).
PREMISE_MIN_SCORE = 1.0
# Both inputs of a derived figure must score at least this in the lookup.
DERIVE_MIN_SCORE = 1.5

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December")
_DIFFERENCE = re.compile(r"\bhow (?:much|many) (?:larger|bigger|more|less|smaller|higher|lower|greater)\b[^?]*\bthan\b|\b(?:difference|gap)\b|\bhow far\b[^?]*\b(?:ahead|behind)\b|\bby how (?:much|many) (?:points|percentage points)\b|\blead\b", re.I)
# A change of one figure the article gives as "from X to Y" ("By how many points did growth speed up?").
_CHANGE = re.compile(r"\b(?:by how (?:much|many(?: percentage)? points?)|how (?:much|many(?: percentage)? points?))\b[^?]*\b(?:speed|sped|accelerat\w*|increas\w*|ris(?:e|es|en|ing)|rose|grow|grew|jump\w*|climb\w*|fall|fell|drop\w*|declin\w*|shr[iu]nk\w*|slow\w*|change\w*)\b", re.I)
_EXCHANGE = re.compile(r"\bexchange rate\b|\b(?:yuan|cny|rmb) (?:to|per) (?:the |one |a )?(?:us )?(?:dollar|\$|usd)", re.I)
_TOTAL = re.compile(r"\b(?:combined|together|in total|total of|sum of)\b", re.I)
_RATIO = re.compile(r"\b(?:what fraction|what proportion|what percent(?:age)? of|ratio|how many times)\b", re.I)
_COMPARE = re.compile(r"\b(?:which|who)\b[^?]*\b(?:bigger|larger|higher|more|greater|smaller|lower|less|faster|slower)\b|\bcompare|\bversus\b|\bvs\.?\s|\b(?:bigger|larger|higher|greater|smaller|lower|faster|slower)\b[^?]*\bthan\b", re.I)
# What kind of figure a question asks for, where its words say so unmistakably.
# The first pattern that matches decides: rates and shares before money words ("revenue growth" is a rate).
_RATE = frozenset({"percent", "percentage_points", "multiple"})
_ASKED_KINDS = (
    (re.compile(r"\b(?:what|which|by what) (?:percent(?:age)?|share|proportion)\b", re.I), _RATE),
    (re.compile(r"\b(?:grow|grew|growing|growth|how fast|share|rate|discount(?:ed|s)?|margin|price cuts?|cut prices|how steep)\b", re.I), _RATE),
    (re.compile(r"\bhow much money\b|\b(?:cost|price|pay|paid|spend|spent|earn|raise|profit|revenue|income|earnings|sales|gmv|valuation|net worth|salary)\b", re.I), frozenset({"money"})),
    (re.compile(r"\bhow many\b|\b(?:count|number of)\b", re.I), frozenset({"count", "duration", "ordinal"})),
)
_YES_NO = re.compile(r"^(?:is|was|were|are|did|does|do|has|have|had|can|could)\b|\bright\s*\?$|\btrue\b", re.I)
_BAD = ("mismatch", "period_mismatch", "entity_mismatch", "over_precise")


_GROWTH = re.compile(r"\bgrowth\b", re.I)
_ASKS_GROWTH = re.compile(r"\b(?:grow\w*|fast\w*|quick\w*|speed\w*|pace|rate|accelerat\w*|decelerat\w*|increas\w*|ris(?:e|es|ing)|rose|expan\w*|slow\w*|chang\w*|surg\w*|jump\w*|up|down|double\w*|triple\w*)\b", re.I)


@dataclass(frozen=True)
class FigureReply:
    """A composed figure answer: text with [n] markers, the cited sentences in marker order, derived figures."""

    text: str
    sentences: tuple[Sentence, ...]
    derived: tuple[Quantity, ...] = ()
    kind: str = "table"  # table, derived, premise, elapsed, period (the figure for another period than the one asked)


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


def describe(f: Fact, table: FactTable, sentence: str | None = None) -> str:
    """What the row is about, then its figure as the article words it:
    "Alibaba's antitrust fine (April 2021): CNY 18.2 billion (US$2.8 billion)".

    The name comes first because the guard ties a figure to the name before it.
    """
    same = [table.by_id[i] for i in f.linked if i in table.by_id]
    same = [g.quote for g in same if g.entity == f.entity and g.metric == f.metric and g.period == f.period and g.start > f.start]
    figure = f.quote + (f" ({', '.join(same)})" if same else "")
    period = period_words(f.period) if f.period else ""
    # A period the cited sentence does not state (the article gives it a sentence earlier) is left out,
    # so every word of the framing can be checked against the one passage it cites.
    when = f" ({period})" if period and (sentence is None or period in sentence) else ""
    return f"{_possessive(f.entity)} {f.metric}{when}: {figure}"


def _possessive(name: str) -> str:
    return name + ("'" if name.endswith("s") else "'s")


def period_words(period: str) -> str:
    """ "2021-04" -> "April 2021"; "2024" -> "2024"."""
    if len(period) >= 7 and period[5:7].isdigit() and 1 <= int(period[5:7]) <= 12:
        return f"{_MONTHS[int(period[5:7]) - 1]} {period[:4]}"
    return period


def table_answer(question: str, table: FactTable, finder: SentenceFinder, doc_ids: list[str] | None = None,
                 within: list[tuple[str, int, int]] | None = None) -> FigureReply | None:
    """The best table row for a figure question, with its sentence; None when no row fits well enough.

    `within` holds (doc_id, start, end) spans the question points to ("according to the introduction"):
    rows inside them come first.
    """
    ranked = rows_asked(question, table, FACT_MIN_SCORE, doc_ids)
    if within:
        ranked.sort(key=lambda f: not any(f.doc_id == d and a <= f.start < b for d, a, b in within))
    if not ranked:
        return None
    asked = find_periods(question)
    if asked and ranked[0].period and not any(f.period and p.covers(f.period) for f in ranked for p in asked):
        return _other_periods(ranked, asked[0].text, table, finder)
    return row_answer(ranked[0], table, finder)


def _other_periods(ranked: list[Fact], asked: str, table: FactTable, finder: SentenceFinder) -> FigureReply | None:
    """ "Alibaba's share in 2022?" when the article gives 2021 and 2024: those, and not a figure for 2022."""
    best = ranked[0]
    rows = sorted({f.id: f for f in ranked if f.entity == best.entity and f.metric == best.metric and f.period}.values(), key=lambda f: f.period or "")
    at = {f.id: finder.at(f.doc_id, f.start) for f in rows}
    if any(s is None for s in at.values()):
        return None
    sentences = list(dict.fromkeys(at.values()))
    n = {s.sid: i for i, s in enumerate(sentences, start=1)}
    given = " ".join(f"{describe(f, table)}. [{n[at[f.id].sid]}]" for f in rows)
    quotes = " ".join(f"{s.text.strip()} [{n[s.sid]}]" for s in sentences)
    return FigureReply(f"The article doesn't give {_possessive(best.entity)} {best.metric} for {asked}. {given} {quotes}", tuple(sentences), kind="period")


def row_answer(f: Fact, table: FactTable, finder: SentenceFinder) -> FigureReply | None:
    """One row as an answer: what it is about, its figure, and the sentence that states it."""
    s = finder.at(f.doc_id, f.start)
    return None if s is None else FigureReply(f"{describe(f, table, s.text)}. [1] {s.text.strip()} [1]", (s,))


def rows_asked(question: str, table: FactTable, min_score: float, doc_ids: list[str] | None = None) -> list[Fact]:
    """Rows the lookup scores at least `min_score`, of a kind the question can be asking for, best first.
    A growth rate answers only a question about growth: "What percentage of Alibaba's revenue comes from
    cloud?" is not "cloud revenue growth from 3% to 13%"."""
    kinds = asked_kinds(question)
    growth = bool(_ASKS_GROWTH.search(question))
    return [f for f, score in table.lookup(question, doc_ids)
            if score >= min_score and (not kinds or f.kind in kinds) and (growth or not _GROWTH.search(f.metric))]


def asked_kinds(question: str) -> frozenset[str]:
    """The kinds of figure a question's words ask for unmistakably (empty when they do not say)."""
    for pattern, kinds in _ASKED_KINDS:
        if pattern.search(question):
            return kinds
    return frozenset()


def derived_answer(question: str, table: FactTable, finder: SentenceFinder, doc_ids: list[str] | None = None) -> FigureReply | None:
    """A difference, total or ratio of two rows the question names, with the arithmetic and both inputs
    cited; the change within one "from X to Y" row; or, for "which is bigger / how does X compare",
    both rows side by side."""
    total = bool(_TOTAL.search(question))
    op = "total" if total else "ratio" if _RATIO.search(question) else "difference" if _DIFFERENCE.search(question) else "compare" if _COMPARE.search(question) else None
    if op is None and _CHANGE.search(question):
        op = "change"
    if op is None and _EXCHANGE.search(question):
        return _exchange_rate(question, table, finder, doc_ids)
    if op is None:
        return None
    looked = table.lookup(question, doc_ids)
    ranked = [(f, s) for f, s in looked if s >= DERIVE_MIN_SCORE and f.value is not None]
    if op in ("change", "difference"):
        moves = [f for f, s in looked if s >= DERIVE_MIN_SCORE and f.qualifier == "from" and f.low is not None and f.high is not None]
        if moves and (op == "change" or not ranked or ranked[0][1] < (looked[0][1] if looked else 0)):
            return _change(moves[0], finder)
        if op == "change":
            return None
    if op == "compare":  # a side-by-side needs no arithmetic: ranges ("29% to 45%") are fine
        ranked = [(f, s) for f, s in looked if s >= DERIVE_MIN_SCORE]
        if ranked:
            top = ranked[0][0]
            # The other side may be named loosely ("Taobao and Tmall" for Taotian Group's figure).
            other = next((f for f, s in looked if s >= PREMISE_MIN_SCORE and f.entity != top.entity and f.metric == top.metric and f.kind == top.kind), None)
            if other is not None and all(f.entity == top.entity for f, _ in ranked[1:]):
                return _derive(top, other, op, table, finder)
    if op in ("compare", "total") and ranked:
        reply = _several(question, [f for f, _ in ranked], op, table, finder)
        if reply is not None:
            return reply
    if op == "ratio":  # "X is what fraction of Y": X, as named first, is the numerator
        order = {m.entity: m.start for m in reversed(table.entities_in(question))}
        ranked.sort(key=lambda fs: order.get(fs[0].entity, len(question)))
    for i, (a, _) in enumerate(ranked):
        for b, _ in ranked[i + 1:]:
            if _comparable(a, b):
                return _derive(a, b, op, table, finder)
    pair = _named_pair(question, table, doc_ids)
    return _derive(*pair, op, table, finder) if pair else None


def _comparable(a: Fact, b: Fact) -> bool:
    same_figure = a.entity == b.entity and a.metric == b.metric and a.period == b.period  # e.g. CNY and US$
    return not same_figure and a.kind == b.kind and a.currency == b.currency and a.unit == b.unit


def _named_pair(question: str, table: FactTable, doc_ids: list[str] | None) -> tuple[Fact, Fact] | None:
    """For a question that names two entities but no metric ("How far ahead of Huawei Cloud is Alibaba
    Cloud?"): the one pair of their rows sharing a metric, when there is exactly one."""
    named = list(dict.fromkeys(m.entity for m in table.entities_in(question)))
    if len(named) != 2:
        return None
    rows = [f for f in table.rows(doc_ids) if f.value is not None]
    pairs = [(a, b) for a in rows if a.entity == named[0] for b in rows if b.entity == named[1] and a.metric == b.metric and _comparable(a, b)]
    return pairs[0] if len(pairs) == 1 else None


def _several(question: str, rows: list[Fact], op: str, table: FactTable, finder: SentenceFinder) -> FigureReply | None:
    """Three or more entities' figures for one metric: "How does X compare with Y and Z?" lists them;
    "Is X bigger than Y and Z combined?" totals the ones after "than" and sets X beside the total."""
    mentions = table.entities_in(question)
    best: dict[str, Fact] = {}
    for f in rows:
        if f.entity not in best and f.metric == rows[0].metric and _comparable(f, rows[0]) or f is rows[0]:
            best.setdefault(f.entity, f)
    def row_entity(named: str) -> str | None:  # "Huawei's" share is Huawei Cloud's
        fits = [(affinity(named, e), e) for e in best if affinity(named, e) > 0]
        return max(fits)[1] if fits else None

    at = [(m.start, row_entity(m.entity)) for m in mentions]
    at = [(start, e) for start, e in at if e is not None]
    named = list(dict.fromkeys(e for _, e in at))
    if len(named) < 3:
        return None
    picked = [best[e] for e in named]
    if any(f.metric != picked[0].metric for f in picked):
        return None
    text, sentences = _inputs(picked, finder)
    if text is None:
        return None
    if op == "compare":
        return FigureReply(text, sentences, kind="table")
    than = question.lower().find(" than ")
    if than < 0:
        return None
    after = [best[e] for start, e in at if start > than]
    after = list({f.id: f for f in after}.values())
    if len(after) < 2 or len(after) == len(picked):
        return None
    a = after[0]
    q = _computed(a.kind, sum(f.value for f in after), a.currency, a.unit if a.kind == "duration" else None)
    names = " and ".join(f.entity for f in after)
    markers = "".join(f"[{n}]" for n in range(1, len(sentences) + 1))
    return FigureReply(f"{text} {names} together: {q.text} (computed from these figures). {markers}", sentences, (q,), kind="derived")


def _computed(kind: str, value: float, currency: str | None = None, unit: str | None = None) -> Quantity:
    """A figure computed from rows, written the way the article writes its figures."""
    return Quantity(format_quantity(kind, value, currency, unit), -1, -1, kind, value=value, currency=currency,
                    scale=scale_of(value) if kind in ("money", "count") else None, unit=unit)


def _inputs(rows: list[Fact], finder: SentenceFinder) -> tuple[str | None, tuple[Sentence, ...]]:
    """ "X's metric: quote. [n]" for each row, one marker per distinct sentence."""
    sentences: list[Sentence] = []
    parts = []
    for f in rows:
        s = finder.at(f.doc_id, f.start)
        if s is None:
            return None, ()
        if all(s.sid != t.sid for t in sentences):
            sentences.append(s)
        n = next(i for i, t in enumerate(sentences, 1) if t.sid == s.sid)
        parts.append(f"{_possessive(f.entity)} {f.metric}: {f.quote}. [{n}]")
    return " ".join(parts), tuple(sentences)


def _exchange_rate(question: str, table: FactTable, finder: SentenceFinder, doc_ids: list[str] | None) -> FigureReply | None:
    """The exchange rate one figure's two currencies imply: "CNY 18.2 billion (US$2.8 billion)" gives 6.5."""
    for f, score in table.lookup(question, doc_ids):
        if score < PREMISE_MIN_SCORE or f.kind != "money" or not f.value:
            continue
        twin = next((table.by_id[i] for i in f.linked if i in table.by_id and table.by_id[i].currency != f.currency
                     and table.by_id[i].metric == f.metric and table.by_id[i].value), None)
        if twin is None or f.currency is None or twin.currency is None:
            continue
        local, usd = (f, twin) if twin.currency == "USD" else (twin, f)
        rate = round(local.value / usd.value, 2)
        text, sentences = _inputs([local, usd], finder)
        if text is None:
            continue
        q = Quantity(format_quantity("count", rate), -1, -1, "count", value=rate)
        markers = "".join(f"[{n}]" for n in range(1, len(sentences) + 1))
        return FigureReply(f"{text} The implied exchange rate, in {local.currency} per {usd.currency}: {q.text} (computed from these figures). {markers}",
                           sentences, (q,), kind="derived")
    return None


def _change(f: Fact, finder: SentenceFinder) -> FigureReply | None:
    """The change within one "from X to Y" row, in the row's terms (percentage points for percents)."""
    s = finder.at(f.doc_id, f.start)
    if s is None:
        return None
    q = _computed("percentage_points" if f.kind == "percent" else f.kind, abs(f.high - f.low), f.currency, f.unit if f.kind == "duration" else None)
    ends = re.findall(r"\d+(?:\.\d+)?", f.quote)  # the row keeps low <= high; the quote keeps the order
    direction = "down" if len(ends) >= 2 and float(ends[0]) > float(ends[-1]) else "up"
    text = f"{_possessive(f.entity)} {f.metric}: {f.quote}. [1] A change of {q.text} {direction} (computed from these figures). [1]"
    return FigureReply(text, (s,), (q,), kind="derived")


def _derive(a: Fact, b: Fact, op: str, table: FactTable, finder: SentenceFinder) -> FigureReply | None:
    if (b.value or 0) > (a.value or 0) and op in ("difference", "compare"):
        a, b = b, a
    inputs, sentences = _inputs([a, b], finder)
    if inputs is None:
        return None
    if op == "compare":
        return FigureReply(inputs, sentences, kind="table")
    try:
        if op == "ratio":
            share = a.value / b.value * 100 if b.value else None
            if share is None:
                return None
            q = Quantity(format_quantity("percent", round(share)), -1, -1, "percent", value=float(round(share)))
        elif op == "total":
            q = _computed(a.kind, a.value + b.value, a.currency, a.unit if a.kind == "duration" else None)
        else:
            q = derive_difference(a, b)
    except ValueError:
        return None
    approx = "about " if (a.qualifier or b.qualifier) and not q.text.startswith("about") else ""
    if op == "ratio":
        result = f"{_possessive(a.entity)} is about {q.text} of {_possessive(b.entity)}"
    else:
        result = f"{'together' if op == 'total' else 'a difference of'} {approx}{q.text}"
    markers = "".join(f"[{n}]" for n in range(1, len(sentences) + 1))
    text = f"{inputs} {result[0].upper()}{result[1:]} (computed from these figures). {markers}"
    return FigureReply(text, sentences, (q,), kind="derived")


def premise_answer(question: str, table: FactTable, finder: SentenceFinder, doc_ids: list[str] | None = None) -> FigureReply | None:
    """A correction when the question quotes a figure the article contradicts; a "Yes" for a yes/no
    question whose figure is the one the question asks about. Both need the row to be what the
    question is about (a lookup match), so "Is pi 3.14?" is not "corrected" with some other row."""
    checks = check_figures(question, table, doc_ids)
    if not checks:
        return None
    about = rows_asked(question, table, PREMISE_MIN_SCORE, doc_ids)
    about_ids = {f.id for f in about}
    bad = [c for c in checks if c.status in _BAD]
    if bad:
        right = _expected_row(bad[0], question, table)
        if right is None or not (right.id in about_ids or about_ids & set(right.linked)):
            # The guard found no single row to put in; the row the question is about, of the same kind, is it.
            kind = table.by_id[bad[0].fact_id].kind if bad[0].fact_id in table.by_id else None
            right = next((f for f in about if f.kind == kind), None)
            if right is None:
                return None
        s = finder.at(right.doc_id, right.start)
        if s is None:
            return None
        return FigureReply(f"No: the article gives {describe(right, table, s.text)}. [1] {s.text.strip()} [1]", (s,), kind="premise")
    first = checks[0]
    if about and all(c.status == "ok" and c.fact_id for c in checks) and first.fact_id == about[0].id and _YES_NO.search(question.strip()):
        f = table.by_id[first.fact_id]
        s = finder.at(f.doc_id, f.start)
        if s is not None:
            return FigureReply(f"Yes: the article gives {describe(f, table, s.text)}. [1] {s.text.strip()} [1]", (s,), kind="premise")
    return None


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
