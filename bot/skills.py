"""Skills: answers that are not a plain quote. Each has `match(query)` and `run(query, ctx) -> Draft | None`;
`SKILLS` sets their precedence in one place, and the extractive reader answers whatever none takes.

A skill returns None when it cannot answer after all (a row is missing, an event is undated), and
the next one is tried. Skills read the `Query`'s fields, never the question's words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

from .chunking import is_heading
from .draft import Dated, Draft
from .elapsed import elapsed_draft, order_draft
from .facts import FactTable
from .figures import derived_draft, premise_draft, rows_asked, same_figure, stated_turn, table_draft
from .index import Index
from .quantity import find_quantities
from .query import Analyzer, Query
from .reader import Reader
from .rows import RowModel
from .types import Fact

if TYPE_CHECKING:
    from collections.abc import Callable

# Sentences quoted for a question about the whole article ("in one line": one).
GIST_SENTENCES = 2
# A question naming a person in a role in a year is checked against the best of this many sentences
# that hold the role and the year.
ROLE_SENTENCES = 5
# Passages around the event that must not hold the question's year for a date to be corrected.
DATE_NEIGHBOURS = 3


@dataclass
class Context:
    """What skills may use: the index, the fact table and its row model, the analyzer and the reader."""

    index: Index
    table: FactTable
    rows: RowModel
    analyzer: Analyzer
    reader: Reader
    answer: Callable[[Query], Draft]  # the whole pipeline, for questions in two parts
    _rows: dict[tuple[str, tuple[str, ...] | None], list[tuple[Fact, float]]] = field(default_factory=dict, repr=False)

    def scored_rows(self, query: Query) -> list[tuple[Fact, float]]:
        """The question's fact rows with the row model's probabilities, best first (computed once per question)."""
        key = (query.text, query.doc_ids)
        rows = self._rows.get(key)  # subtle: read once; another thread may clear the memo meanwhile
        if rows is None:
            if len(self._rows) > 64:
                self._rows.clear()
            rows = self.rows.score(query, self.table, list(query.doc_ids) if query.doc_ids else None)
            if query.per:  # "price per share": only a figure the article states per share answers it
                rows = [(f, p) for f, p in rows if (s := self.sentence_of(f)) is not None and query.stated_per(self.index.sentences[s].text)]
            self._rows[key] = rows
        return rows

    def side_rows(self, query: Query, side: str) -> list[tuple[Fact, float]]:
        """The rows one side of a two-figure question asks for, scored on its words and the question's
        words outside both sides (`Query.frame`); for a side that is only "that", the rows the last answer stated."""
        if not side:
            return self._earlier_rows(query)
        worded = replace(self.analyzer.analyze(f"{side} {query.frame}".strip()), doc_ids=query.doc_ids)
        stated = [q for q in worded.figures if q.end <= len(side)]  # "the $11.9bn they spent": the rows stating that figure
        pinned = [(f, 1.0) for f in self.table.rows(query.doc_ids) if any(same_figure(f, q) for q in stated)]
        return pinned or self.scored_rows(worded)

    def _earlier_rows(self, query: Query) -> list[tuple[Fact, float]]:
        """The rows whose figures a follow-up's last answer stated, as the last question ranks them; then
        those the answer before stated, in its order."""
        if not query.answers or not query.previous:
            return []
        figures = [find_quantities(a) for a in query.answers]
        previous = replace(self.analyzer.analyze(query.previous), doc_ids=query.doc_ids)
        last = [(f, p) for f, p in self.scored_rows(previous) if any(same_figure(f, q) for q in figures[0])]
        seen = {f.id for f, _ in last}
        before = [(f, 0.0) for group in figures[1:] for q in group for f in self.table.rows(query.doc_ids) if f.id not in seen and same_figure(f, q)]
        return last + list({f.id: (f, p) for f, p in before}.values())

    def sentence_of(self, f: Fact) -> int | None:
        return self.index.sentence_at(f.doc_id, f.start)

    def date_of(self, event: str) -> Dated | None:
        q = replace(self.analyzer.analyze(event), kind="when", wants_date=True)
        return self.reader.date_of(q)


class Skill(Protocol):
    name: str

    def match(self, query: Query) -> bool: ...

    def run(self, query: Query, ctx: Context) -> Draft | None: ...


class SmallTalk:
    name = "smalltalk"

    def match(self, query: Query) -> bool:
        return bool(query.smalltalk)

    def run(self, query: Query, ctx: Context) -> Draft | None:
        return Draft("smalltalk", smalltalk=query.smalltalk)


class TwoParts:
    """ "How big was X's GMV and what share did it hold?": each part answered, the second read as a follow-up of the first."""

    name = "two parts"

    def match(self, query: Query) -> bool:
        return len(query.parts) == 2

    def run(self, query: Query, ctx: Context) -> Draft | None:
        drafts = tuple((part.asked if i else part.text, ctx.answer(part)) for i, part in enumerate(query.parts))
        if all(d.kind == "refusal" for _, d in drafts):  # neither part is answered: one refusal, not two
            return drafts[0][1]
        return Draft("parts", parts=drafts, notes=tuple(n for _, d in drafts for n in d.notes))


class Premise:
    """A figure the question states, corrected or confirmed against the row it is about."""

    name = "premise"

    def match(self, query: Query) -> bool:
        return bool(query.figures)

    def run(self, query: Query, ctx: Context) -> Draft | None:
        scored = ctx.scored_rows(query)
        return premise_draft(query, ctx.table, rows_asked(query, ctx.table, scored, ctx.rows.about), ctx.sentence_of)


class DirectionPremise:
    """ "Why did X's growth slow?" when the article says it re-accelerated: a "No" with the sentence that
    says which way the figure the question is about moved."""

    name = "direction premise"

    def match(self, query: Query) -> bool:
        # A yes/no, why or how question takes the turn for granted; "How fast did it fall?" asks its size.
        # One company at most: with two, the turn may be the other's ("... before it re-accelerated?").
        # The turn must be a figure's ("decline to list" is no metric's turn).
        return (bool(query.turn) and bool(query.metric_terms) and (query.yes_no or query.kind in ("why", "how"))
                and len({m.entity for m in query.mentions}) <= 1)

    def run(self, query: Query, ctx: Context) -> Draft | None:
        rows = rows_asked(query, ctx.table, ctx.scored_rows(query), ctx.rows.about)
        sid = ctx.sentence_of(rows[0]) if rows else None
        if sid is None:
            return None
        if query.periods and not (rows[0].period and any(p.covers(rows[0].period) for p in query.periods)):
            return None  # "Did growth slow in 2022?": a turn stated for another period does not answer it
        said = stated_turn(rows[0], ctx.index.sentences[sid].text)
        if not said or said == query.turn:
            return None
        return Draft("correction", sids=(sid,), rows=(rows[0],), notes=("the article states this figure in another direction",))


class Derived:
    """A difference, total, ratio, change, exchange rate, or rows side by side."""

    name = "derived"

    def match(self, query: Query) -> bool:
        return query.operation in ("difference", "total", "ratio", "compare", "change", "exchange")

    def run(self, query: Query, ctx: Context) -> Draft | None:
        return derived_draft(query, ctx.table, ctx.scored_rows(query), ctx.rows.about, ctx.sentence_of, lambda side: ctx.side_rows(query, side))


class Elapsed:
    """The time between two dated events; the article's own wording when a row states that very gap."""

    name = "elapsed"

    def match(self, query: Query) -> bool:
        return query.operation == "elapsed"

    def run(self, query: Query, ctx: Context) -> Draft | None:
        draft = elapsed_draft(query, ctx.date_of)
        if draft is None:
            return None
        gap = draft.computed.value
        stated = [f for f in rows_asked(query, ctx.table, ctx.scored_rows(query), ctx.rows.about)
                  if f.kind == "duration" and f.value == gap.value and f.unit == gap.unit]
        if stated and (sid := ctx.sentence_of(stated[0])) is not None:
            return Draft("figure", sids=(sid,), rows=(stated[0],), notes=("the article states this gap itself",))
        return draft


class Order:
    name = "order"

    def match(self, query: Query) -> bool:
        return query.operation in ("first", "order")

    def run(self, query: Query, ctx: Context) -> Draft | None:
        return order_draft(query, ctx.date_of)


# Sentences quoted at most for a question asking for every figure of a sort.
LIST_SENTENCES = 8


class Enumerate:
    """ "List every US-dollar amount the article quotes": the sentences of every fact row of the sort
    asked (currency, kind, metric, company), in the article's order."""

    name = "enumerate"

    def match(self, query: Query) -> bool:
        return query.listing is not None

    def run(self, query: Query, ctx: Context) -> Draft | None:
        kinds = query.listing or query.figure_kinds
        metric = query.metric_terms & frozenset().union(*ctx.table.metric_terms.values())  # words that name a metric of some row
        named = {m.entity for m in query.mentions}
        if not (query.currency or kinds or metric):
            return None  # "all the numbers": no sort to list
        rows = [f for f in ctx.table.facts if (not query.doc_ids or f.doc_id in query.doc_ids)
                and (not query.currency or f.currency == query.currency) and (not kinds or f.kind in kinds)
                and (not metric or metric & ctx.table.metric_terms[f.id])]
        of_named = [f for f in rows if f.entity in named or any(ctx.table.affinity(n, f.entity) > 0 for n in named)]
        rows = of_named if len(of_named) >= 2 else rows  # "Acme and its two challengers": not Acme's alone
        sids = sorted({s for f in rows if (s := ctx.sentence_of(f)) is not None})
        if len(rows) < 2 or not sids or len(sids) > LIST_SENTENCES:
            return None
        return Draft("quote", sids=tuple(sids), rows=tuple(rows), notes=("every fact row of the sort asked",))


class TableFigure:
    """A figure question a reviewed fact row answers outright (the row model's `answer` threshold). A
    drafted row never bypasses the ranker: the reader weighs it as a feature."""

    name = "table"

    def match(self, query: Query) -> bool:
        return query.is_figure and not query.operation

    def run(self, query: Query, ctx: Context) -> Draft | None:
        scored = ctx.scored_rows(query)
        about = rows_asked(query, ctx.table, scored, ctx.rows.about)
        if query.periods:
            # What the question asks about is ranked without its period; then whether the table holds that period.
            undated = replace(query, periods=())
            topic = rows_asked(undated, ctx.table, ctx.rows.score(undated, ctx.table, list(query.doc_ids) if query.doc_ids else None), ctx.rows.about)
            if topic and topic[0].period:  # every row of that figure, however it scored: does the table hold the asked period?
                same = [f for f in ctx.table.rows(query.doc_ids) if (f.doc_id, f.entity, f.metric) == (topic[0].doc_id, topic[0].entity, topic[0].metric)]
                if not any(f.period and p.covers(f.period) for f in same for p in query.periods):
                    return table_draft(query, same, ctx.sentence_of)  # the periods the table holds, as a refusal
        answered = {f.id for f in rows_asked(query, ctx.table, scored, ctx.rows.answer) if f.reviewed
                    and (not query.periods or not f.period or any(p.covers(f.period) for p in query.periods))}
        return table_draft(query, [f for f in about if f.id in answered], ctx.sentence_of)


class UnknownNames:
    """A name no document mentions: the articles cannot answer about it."""

    name = "unknown names"

    def match(self, query: Query) -> bool:
        return bool(query.unknown_names)

    def run(self, query: Query, ctx: Context) -> Draft | None:
        return Draft("refusal", reason="unknown", subject=", ".join(query.unknown_names), notes=("refused: a name no document mentions",))


class DatePremise:
    """ "Why did X happen in 2022?" when the article dates X elsewhere: a "No" with the article's date.
    Only when the question's year is in none of the passages that match the event, or the whole
    question, best."""

    name = "date premise"

    def match(self, query: Query) -> bool:
        # Only a yes/no, why or how question takes its date for granted; in "What happened in 2021?" the
        # date picks the events. A figure for a period is the table's question.
        return bool(query.undated) and not query.is_figure and (query.yes_no or query.kind in ("why", "how"))

    def run(self, query: Query, ctx: Context) -> Draft | None:
        asked = next(p for p in query.periods if p.end_year is None and p.quarter is None and not p.open_ended)
        event = replace(ctx.analyzer.analyze(query.undated), kind="when", wants_date=True)
        ranked = ctx.reader.rank(event)
        dated = ctx.reader.date_of(event)
        if dated is None or dated.period.year == asked.year and (asked.month is None or dated.period.month in (None, asked.month)):
            return None
        near = [c.sid for c in ranked[:DATE_NEIGHBOURS]] + [c.sid for c in ctx.reader.rank(query)[:DATE_NEIGHBOURS]]
        near += [ctx.index.previous[s] for s in near if ctx.index.previous[s] >= 0] + [dated.date_sid, dated.event_sid]
        if any(str(asked.year) in ctx.index.sentences[s].text for s in near):
            return None
        sids = tuple(sorted({dated.date_sid, dated.event_sid}))
        return Draft("correction", sids=sids, period=dated.period, wrong=asked.text, notes=("checked the date in the question against the article",))


class RolePremise:
    """ "What did X do after returning as CEO in 2023?" when the article's sentence on who held that
    role that year names others: a "No" with that sentence."""

    name = "role premise"

    def match(self, query: Query) -> bool:
        years = [p for p in query.periods if p.end_year is None and p.quarter is None and not p.open_ended]
        return bool(query.role and query.persons and len(years) == 1)

    def run(self, query: Query, ctx: Context) -> Draft | None:
        year = str(next(p.year for p in query.periods if p.end_year is None and p.quarter is None and not p.open_ended))
        role = re.compile(rf"\b{re.escape(query.role)}\b", re.I)
        for c in ctx.reader.rank(replace(query, kind="who", wants_name=True))[:ROLE_SENTENCES]:
            text = ctx.index.sentences[c.sid].text
            if year not in text or not role.search(text):
                continue
            named = sorted(ctx.reader.features.traits(c.sid).persons, key=text.find)
            if not named or any(p in named for p in query.persons):
                return None
            return Draft("correction", sids=(c.sid,), names=tuple(named), wrong=query.persons[0], notes=("checked the person in the question against the article",))
        return None


class Title:
    """The article's title line, or its subtitle when asked for one (none when the article has no subtitle)."""

    name = "title"

    def match(self, query: Query) -> bool:
        return query.title or query.subtitle

    def run(self, query: Query, ctx: Context) -> Draft | None:
        doc_id = _best_document(query, ctx)
        if query.subtitle:
            sids = tuple(s.sid for s in ctx.index.sentences if s.doc_id == doc_id and s.section == "Subtitle" and not is_heading(s))
            return Draft("subtitle", sids=sids) if sids else None
        title = next(s.sid for s in ctx.index.sentences if s.doc_id == doc_id)
        return Draft("title", sids=(title,))


class Gist:
    """A question about the whole article: the first sentences of its summary (else subtitle, else opening)."""

    name = "gist"

    def match(self, query: Query) -> bool:
        return query.gist

    def run(self, query: Query, ctx: Context) -> Draft | None:
        doc_id = _best_document(query, ctx)
        sentences = [s for s in ctx.index.sentences if s.doc_id == doc_id and not is_heading(s)]
        for part in ("Summary", "Subtitle"):
            chosen = [s for s in sentences if s.section == part]
            if chosen:
                break
        else:
            chosen = [s for s in sentences if s.section != "Title"]
        n = 1 if query.one_line else GIST_SENTENCES
        where = chosen[0].section.lower() if chosen and chosen[0].section in ("Summary", "Subtitle") else "opening"
        return Draft("gist", sids=tuple(s.sid for s in chosen[:n]), notes=(f"quoted the article's {where}",))


def _best_document(query: Query, ctx: Context) -> str:
    """The document a question about "the article" means: the only one, or the best-matching one."""
    if len(ctx.index.documents) == 1:
        return next(iter(ctx.index.documents))
    ranked = ctx.reader.rank(query)
    return ctx.index.sentences[ranked[0].sid].doc_id if ranked else next(iter(ctx.index.documents))


# Precedence: the first skill that matches and answers wins; the reader answers the rest.
SKILLS: tuple[Skill, ...] = (
    SmallTalk(), TwoParts(), UnknownNames(), Premise(), DirectionPremise(), Derived(), Elapsed(), Order(), Enumerate(), TableFigure(),
    DatePremise(), RolePremise(), Title(), Gist(),
)  # fmt: skip

