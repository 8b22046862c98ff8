"""The figure guard: checks every figure of an answer against the fact table, and repairs near misses.

Each figure is matched by kind, currency, scale and value, then by the entity and period its sentence
names. Verdicts (FigureCheck.status): ok, unsupported, mismatch, period_mismatch, entity_mismatch,
over_precise, and derived for figures the answerer computed and passed in.

`fact_id` names the row the verdict is about: the row matched (ok, over_precise), the row whose value
the figure should have had (mismatch), or the row whose value it has but which belongs to another
period or entity (period_mismatch, entity_mismatch). `expected` holds the article's own wording when
exactly one row fits what the sentence says; `repair` puts it in.

Deliberately not done here: computing derived figures (the answerer does, with `derive_difference`
and `derive_ratio`), reading figures (quantity.py), and judging the words around a figure: a right
figure in a wrong claim passes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from weakref import WeakKeyDictionary

from .facts import FactTable, Mention, as_quantity, period_for
from .knowledge import Knowledge
from .quantity import (
    LOWER_BOUND,
    UPPER_BOUND,
    Period,
    bounds,
    find_periods,
    find_quantities,
    format_quantity,
    is_hedged,
    mantissa,
    scale_of,
    value_relation,
)
from .text import sentence_spans
from .types import Fact, FigureCheck, Quantity

# Best first: how a figure's number stands to a row's (see quantity.value_relation).
_RELATION_RANK = {"equal": 3, "endpoint": 2, "rounded": 2, "finer": 1}
# A name right after a figure, joined by these, is what the figure is about ("18% for Initech Cloud").
_AFTER_NAME = re.compile(r"\s+(?:for|at)\s+(?:the\s+)?")
# Between a name and its figure: a possessive or an opening bracket, then at most four words.
_TIGHT = re.compile(r"(?:['’]s)?(?:\s*\(\s*|\s+)?(?:[\w'’-]+\s+){0,4}(?:\(\s*)?")
_CLAUSE_CUT = re.compile(r"[,;:()—]|\b(?:and|while|whereas|but|versus|vs\.?|against)\b")
_LISTED = re.compile(r"\s*(?:,|and|&|or)\s*(?:and\s+)?")


@dataclass(frozen=True)
class _Row:
    """A fact row with what matching needs, computed once per table."""

    fact: Fact
    q: Quantity
    terms: frozenset[str]
    names: tuple[str, ...]  # its entity, then those the article itself names next to the figure
    mantissa: tuple[float, float] | None
    bounds: tuple[float, float]


@dataclass(frozen=True)
class _Claim:
    """A figure of the checked text with the entity, period and metric words its sentence gives it."""

    q: Quantity
    entities: tuple[str, ...]  # likeliest first; empty when the sentence names none
    period: Period | None
    near: frozenset[str]  # metric terms of the figure's own clause
    sentence: frozenset[str]  # metric terms of the whole sentence


_INDEX: WeakKeyDictionary[FactTable, dict[str, list[_Row]]] = WeakKeyDictionary()


def check_figures(text: str, table: FactTable, doc_ids: Iterable[str] | None = None, derived: Sequence[Quantity] = ()) -> list[FigureCheck]:
    """A verdict for each figure of `text`, in order, judged against the rows of `doc_ids` (all when None).

    `derived` holds figures the answerer computed from rows (a difference, a ratio); a figure that
    matches none of the rows but one of these is `derived`.
    """
    by_kind = _rows(table)
    if doc_ids is not None:
        wanted = set(doc_ids)
        by_kind = {k: [r for r in rows if r.fact.doc_id in wanted] for k, rows in by_kind.items()}
    out = []
    for s_start, s_end in sentence_spans(text):
        sentence = text[s_start:s_end]
        periods = find_periods(sentence)
        found = find_quantities(sentence, periods)
        if not found:
            continue
        mentions = table.entities_in(sentence)
        # Names and the figures themselves ("3-5 Years") are left out of the words that tell the metric.
        blanked = sentence
        for a, b in [(m.start, m.end) for m in mentions] + [(q.start, q.end) for q in found]:
            blanked = blanked[:a] + " " * (b - a) + blanked[b:]
        whole = table.terms(blanked)
        for i, q in enumerate(found):
            lo, hi = _clause(sentence, found, i)
            near = table.terms(blanked[lo:hi])
            claim = _Claim(q, _entities_for(sentence, q, mentions), period_for(periods, q.start, q.end), near, whole)
            check = _judge(claim, by_kind, table.knowledge)
            if check.status != "ok" and (d := _derived(q, derived)):
                check = FigureCheck(q.text, q.value, "derived", expected=d.text if d.text != q.text else None)
            out.append(
                FigureCheck(check.text, check.value, check.status, check.fact_id, q.start + s_start, q.end + s_start, check.expected)
            )
    return out


def repair(text: str, checks: Sequence[FigureCheck]) -> tuple[str, list[str]]:
    """Put the article's wording in for each near miss that one row fits; mark every other failed figure.

    Returns the new text and one note per change. Checks whose span no longer holds their figure are
    left alone (and noted), so a stale list cannot corrupt the text.
    """
    edits, notes = [], []
    for c in sorted(checks, key=lambda c: c.start):
        if c.status in ("ok", "derived"):
            continue
        if not (0 <= c.start < c.end <= len(text)) or text[c.start : c.end] != c.text:
            notes.append(f"left {c.text!r} as it is: the text no longer holds it at {c.start}:{c.end}")
            continue
        if c.expected and c.status != "unsupported":
            edits.append((c.start, c.end, c.expected))
            notes.append(
                f"{c.status}: replaced {c.text!r} with the article's {c.expected!r}" + (f" (see {c.fact_id})" if c.fact_id else "")
            )
        else:
            edits.append((c.start, c.end, f"[unverified: {c.text}]"))
            notes.append(f"{c.status}: marked {c.text!r} as unverified")
    for start, end, new in reversed(edits):
        text = text[:start] + new + text[end:]
    return text, notes


def derive_difference(a: Fact, b: Fact) -> Quantity:
    """The gap between two single-valued rows of one kind (percent gaps in percentage points)."""
    _same_footing(a, b)
    kind = "percentage_points" if a.kind == "percent" else a.kind
    gap = abs(a.value - b.value)
    unit = a.unit if a.kind == "duration" else None
    text = format_quantity(kind, gap, a.currency, unit)
    return Quantity(
        text, -1, -1, kind, value=gap, currency=a.currency, scale=scale_of(gap) if kind in ("money", "count") else None, unit=unit
    )


def derive_ratio(a: Fact, b: Fact) -> Quantity:
    """How many times `b` goes into `a`, as a multiple ("1.1x")."""
    _same_footing(a, b)
    if not b.value:
        raise ValueError(f"{b.id} is zero: no ratio")
    ratio = round(a.value / b.value, 2)
    return Quantity(format_quantity("multiple", ratio), -1, -1, "multiple", value=ratio)


def _same_footing(a: Fact, b: Fact) -> None:
    if a.value is None or b.value is None:
        raise ValueError(f"{a.id} and {b.id} must both be single values, not ranges")
    if a.kind != b.kind or a.currency != b.currency or a.unit != b.unit and a.kind == "duration":
        raise ValueError(f"{a.id} and {b.id} are not of one kind, currency and unit")


# --- matching ------------------------------------------------------------------------------------


def _rows(table: FactTable) -> dict[str, list[_Row]]:
    """The table's rows ready for matching, by kind; built once per table."""
    by_kind = _INDEX.get(table)
    if by_kind is None:
        by_kind = {}
        spans = {doc_id: sentence_spans(text) for doc_id, text in table.texts.items()}
        for f in table.facts:
            q = as_quantity(f)
            names = tuple(dict.fromkeys((f.entity, *_context_entities(table, f, spans.get(f.doc_id, [])))))
            row = _Row(f, q, table.metric_terms[f.id], names, mantissa(q), bounds(q))
            by_kind.setdefault(f.kind, []).append(row)
        _INDEX[table] = by_kind
    return by_kind


def _context_entities(table: FactTable, f: Fact, sentences: list[tuple[int, int]]) -> tuple[str, ...]:
    """The entities the article's own sentence puts next to a row's figure, by the rule used for claims.

    A claim that attributes the figure as the article does is faithful to it even where the row's
    entity is another ("caught up to Acme in total user numbers (over 900 million)").
    """
    text = table.texts.get(f.doc_id, "")
    for start, end in sentences:
        if start <= f.start and f.end <= end:
            sentence = text[start:end]
            q = Quantity(f.quote, f.start - start, f.end - start, f.kind)
            return _entities_for(sentence, q, table.entities_in(sentence))
    return ()


def _entities_for(sentence: str, q: Quantity, mentions: list[Mention]) -> tuple[str, ...]:
    """The entities a figure may be about, likeliest first; empty when the sentence names none before it.

    A name right after the figure ("18% for Initech Cloud") or tight before it ("Initech Cloud (18%)",
    "Globex Cloud holds an 18% share") is the one. A name further off may be the object of a
    comparison ("Umbrella overtook Vandelay in daily users, with 259 million"), so then every name
    before the figure is a candidate, as are names listed together ("Initech and Globex hold ...").
    """
    for m in mentions:
        if m.start >= q.end and _AFTER_NAME.fullmatch(sentence, q.end, m.start):
            return (m.entity,)
    before = [m for m in mentions if m.end <= q.start]
    if not before:
        return ()
    nearest = before[-1]
    if _TIGHT.fullmatch(sentence, nearest.end, q.start):
        group = [nearest]
        for m in reversed(before[:-1]):
            if not _LISTED.fullmatch(sentence, m.end, group[-1].start):
                break
            group.append(m)
    else:
        group = list(reversed(before))
    return tuple(dict.fromkeys(m.entity for m in group))


def _clause(sentence: str, found: list[Quantity], i: int) -> tuple[int, int]:
    """The span of the clause around the i-th figure, cut at punctuation, conjunctions and the next figures."""
    q = found[i]
    lo = found[i - 1].end if i else 0
    hi = found[i + 1].start if i + 1 < len(found) else len(sentence)
    for m in _CLAUSE_CUT.finditer(sentence, lo, q.start):
        lo = m.end()
    if m := _CLAUSE_CUT.search(sentence, q.end, hi):
        hi = m.start()
    return lo, hi


@lru_cache(maxsize=4096)
def _entity_fit(knowledge: Knowledge, named: tuple[str, ...], names: tuple[str, ...]) -> float:
    """How well the names a sentence gives a figure fit a row's names (0.5 when the sentence gives none)."""
    if not named:
        return 0.5  # unnamed: any entity fits, none better than another
    return max(knowledge.affinity(n, e) for n in named for e in names)


def _period_fits(claim: _Claim, row: _Row) -> bool:
    return claim.period is None or row.fact.period is None or claim.period.covers(row.fact.period)


def _metric_score(claim: _Claim, row: _Row) -> float:
    # What a count counts ("two pillars") says most about which row it is; words near the figure say
    # more than the rest of the sentence; of two rows the sentence fits equally, the one whose metric
    # it covers more fully ("share buyback" over "share buyback authorized") wins.
    same_unit = claim.q.unit is not None and claim.q.unit == row.fact.unit and claim.q.kind == "count"
    shared = len(claim.sentence & row.terms)
    return 3 * same_unit + 2 * len(claim.near & row.terms) + shared + (0.5 * shared / len(row.terms) if row.terms else 0.0)


def _near_score(claim: _Claim, row: _Row) -> float:
    shared = len(claim.near & row.terms)
    return shared + shared / len(row.terms) if row.terms else 0.0


def _relation(q: Quantity, lo: float, hi: float, row: _Row) -> str:
    """value_relation, skipped for rows whose numbers are too far off to be a rounding of the figure's."""
    if row.fact.currency != q.currency:
        return "different"
    rlo, rhi = row.bounds
    if lo > 0 and rlo > 0 and (hi < rlo * 0.5 or lo > rhi * 1.5):
        return "different"
    return value_relation(q, row.q)


def _judge(claim: _Claim, by_kind: dict[str, list[_Row]], knowledge: Knowledge) -> FigureCheck:
    """The verdict on one figure: first among the rows its sentence is about, then by value alone."""
    q = claim.q
    same_kind = by_kind.get(q.kind, [])
    lo, hi = bounds(q)
    relation = {r.fact.id: _relation(q, lo, hi, r) for r in same_kind}
    if q.low is not None and q.qualifier == "from" and all(rel != "equal" for rel in relation.values()):
        return _judge_endpoints(claim, by_kind, knowledge)
    entity = {r.fact.id: _entity_fit(knowledge, claim.entities, r.names) for r in same_kind}
    fits = [r for r in same_kind if entity[r.fact.id] > 0]
    metric = {r.fact.id: _metric_score(claim, r) for r in fits}
    about = [r for r in fits if metric[r.fact.id] > 0]  # rows of the entity and metric the sentence names

    def rank(r: _Row) -> tuple:
        return (
            metric.get(r.fact.id, 0.0),
            _RELATION_RANK.get(relation[r.fact.id], 0),
            entity[r.fact.id],
            r.q.qualifier == q.qualifier,
            -r.fact.start,
        )

    def fitting(rows: list[_Row], score) -> _Row | None:
        """The one row that scores best, if exactly one does."""
        if not rows:
            return None
        top = max(score(r) for r in rows)
        best = [r for r in rows if score(r) == top]
        return best[0] if top > 0 and len(best) == 1 else None

    # Where the sentence names a metric, only that metric's rows may match: "AI revenue grew 33%" is
    # not made right by the 33% cloud share.
    hits = [r for r in about or fits if relation[r.fact.id] != "different"]
    timely = [r for r in hits if _period_fits(claim, r)]
    if timely:
        best = max(timely, key=rank)
        # A value swapped between two metrics of one sentence ("bought back $20.1 billion ... another
        # $11.9 billion authorized"): the figure's own clause names another row's metric outright.
        closest = fitting([r for r in about if _period_fits(claim, r)], lambda r: _near_score(claim, r))
        if closest is not None and relation[closest.fact.id] == "different" and _near_score(claim, closest) > _near_score(claim, best):
            return _check(q, "mismatch", closest.fact, closest.fact.quote)
        return _verdict(q, best, relation[best.fact.id])
    strong = [r for r in hits if _strong(relation[r.fact.id])]
    if strong:
        best = max(strong, key=rank)
        right = fitting(
            [r for r in same_kind if r.fact.metric == best.fact.metric and r.fact.entity == best.fact.entity and _period_fits(claim, r)],
            lambda r: 1,
        )
        return _check(q, "period_mismatch", best.fact, right.fact.quote if right else None)
    others = [r for r in same_kind if _strong(relation[r.fact.id]) and entity[r.fact.id] == 0]
    if others:
        best = max(others, key=rank)
        right = fitting([r for r in fits if r.fact.metric == best.fact.metric and _period_fits(claim, r)], lambda r: 1)
        return _check(q, "entity_mismatch", best.fact, right.fact.quote if right else None)
    # The digits of a row under another currency or scale: "US$18.2 billion", "CNY 18.2 million".
    digits = mantissa(q)
    near = [
        r for r in about or fits
        if r.mantissa == digits and digits is not None and (r.fact.currency, r.fact.scale) != (q.currency, q.scale) and _period_fits(claim, r)
    ]  # fmt: skip
    if near:
        best = max(near, key=rank)
        return _check(q, "mismatch", best.fact, best.fact.quote)
    if not about:
        return _check(q, "unsupported")
    if q.kind == "money" and any(r.fact.currency == q.currency for r in about):
        about = [r for r in about if r.fact.currency == q.currency]
    right = fitting([r for r in about if _period_fits(claim, r)] or about, lambda r: metric[r.fact.id])
    return _check(q, "mismatch", right.fact if right else None, right.fact.quote if right else None)


def _strong(relation: str) -> bool:
    """A match that names the row: the value itself or a rounding of it, not merely a value inside its range."""
    return relation in ("equal", "endpoint", "rounded")


def _verdict(q: Quantity, row: _Row, rel: str) -> FigureCheck:
    source = row.q
    if q.qualifier in LOWER_BOUND and source.qualifier in UPPER_BOUND or q.qualifier in UPPER_BOUND and source.qualifier in LOWER_BOUND:
        return _check(q, "mismatch", row.fact, source.text)
    if rel == "finer" or q.qualifier == "exactly" and is_hedged(source):
        return _check(q, "over_precise", row.fact, source.text)
    return _check(q, "ok", row.fact, source.text if source.text != q.text else None)


def _judge_endpoints(claim: _Claim, by_kind: dict[str, list[_Row]], knowledge: Knowledge) -> FigureCheck:
    """A change ("from 50.8% to 45%") no range row states: each end must be a row of its own."""
    q = claim.q
    checks = []
    for v in (q.low, q.high):
        # Each end as it would be written alone, so that its own precision is judged.
        end = Quantity(
            format_quantity(q.kind, v, q.currency, q.unit), q.start, q.end, q.kind, v, currency=q.currency, scale=q.scale, unit=q.unit
        )
        checks.append(_judge(_Claim(end, claim.entities, claim.period, claim.near, claim.sentence), by_kind, knowledge))
    worst = next((c for c in checks if c.status != "ok"), checks[0])
    return FigureCheck(q.text, q.value, worst.status, worst.fact_id, q.start, q.end)


def _check(q: Quantity, status: str, fact: Fact | None = None, expected: str | None = None) -> FigureCheck:
    return FigureCheck(q.text, q.value, status, fact.id if fact else None, q.start, q.end, expected)


def _derived(q: Quantity, derived: Sequence[Quantity]) -> Quantity | None:
    for d in derived:
        if d.kind == q.kind and d.currency == q.currency and value_relation(q, d) in ("equal", "rounded"):
            return d
    return None
