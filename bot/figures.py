"""Figures from the fact table: the rows a question asks for, figures computed from them, and false
premises checked against them. Every function takes a `Query` and returns a `Draft` or None.

A difference, total, ratio, change or exchange rate is computed only from rows the question names,
with both inputs cited; a figure a question quotes is confirmed only when the row it matches says
it in the asked direction, and corrected when the article contradicts it. Rows are ranked by the
fitted row model (`rows.py`). This module writes no words (see `render.py`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from .draft import Computed, Draft
from .facts import FactTable
from .guard import check_figures, derive_difference, derive_ratio
from .quantity import format_quantity, scale_of
from .query import Query, turn_of
from .types import Fact, FigureCheck, Quantity

_BAD = ("mismatch", "period_mismatch", "entity_mismatch", "over_precise")
_GROWTH = re.compile(r"\bgrowth\b", re.I)

# sid of the sentence that states a row (None when none does); given by the caller, which has the index.
SentenceOf = Callable[[Fact], "int | None"]
# The fact rows a side of a two-figure question asks for, scored on that side's own words, best first ("" for the rows the last answer stated).
SideRows = Callable[[str], "list[tuple[Fact, float]]"]
# Rows per side weighed when pairing the two sides of a two-figure question.
SIDE_ROWS = 5


def rows_asked(query: Query, table: FactTable, scored: list[tuple[Fact, float]], floor: float) -> list[Fact]:
    """Rows scoring at least `floor`, of a kind the question can be asking for, best first. A growth
    rate answers only a question about growth ("What percentage of revenue comes from X?" is no growth rate)."""
    kinds = query.figure_kinds
    return [f for f, p in scored if p >= floor and (not kinds or f.kind in kinds) and (query.growth or not _GROWTH.search(f.metric))]


def table_draft(query: Query, rows: list[Fact], sentence_of: SentenceOf) -> Draft | None:
    """The best row's sentence; the periods the table holds when the asked period is not among them."""
    if query.sections:
        rows = sorted(rows, key=lambda f: not any(f.doc_id == d and a <= f.start < b for d, a, b in query.sections))
    if not rows:
        return None
    best = rows[0]
    asked = [p for p in query.periods]
    if asked and best.period and not any(f.period and p.covers(f.period) for f in rows for p in asked):
        same = sorted({f.id: f for f in rows if f.entity == best.entity and f.metric == best.metric and f.period}.values(), key=lambda f: f.period or "")
        sids = tuple(dict.fromkeys(s for f in same if (s := sentence_of(f)) is not None))
        return Draft("periods", sids=sids, rows=tuple(same), subject=asked[0].text, notes=("the fact table holds this figure for other periods only",))
    sid = sentence_of(best)
    return None if sid is None else Draft("figure", sids=(sid,), rows=(best,), notes=("answered from the fact table",))


def derived_draft(query: Query, table: FactTable, scored: list[tuple[Fact, float]], floor: float, sentence_of: SentenceOf,
                  side_rows: SideRows | None = None) -> Draft | None:
    """A difference, total or ratio of two rows the question names; the change within one "from X to
    Y" row; an exchange rate implied by one figure in two currencies; or rows side by side for a comparison.
    When the question words its two sides ("A than B", "between A and B"), each side's likeliest row; a
    side that is only "that" (`side_rows("")`), or a follow-up naming one side or none, takes the rows the last answer stated."""
    op = query.operation
    two = op in ("difference", "total", "ratio", "compare")
    pair = None
    if two and query.events and side_rows is not None:
        pair = _side_pair(query.events, side_rows, valued=op != "compare", table=table, ends=query.side_ends)
    if two and pair is None and not query.events and query.answers and side_rows is not None:
        pair = _earlier_pair(query, [f for f, _ in side_rows("")], scored, valued=op != "compare", table=table)
    draft = _derive(*pair, op, sentence_of, query.unit) if pair is not None else None
    if draft is not None:
        return draft
    if two and query.events and "" in query.events:
        return None  # "that" with no figure of the last answer to stand for: nothing else may stand in
    if scored:  # the best-scored rows always count: a question may name its figure loosely ("cloud revenue growth")
        floor = min(floor, scored[0][1])
    if op == "exchange":
        return _exchange_rate(scored, floor, table, sentence_of)
    if op not in ("difference", "total", "ratio", "compare", "change"):
        return None
    if op != "compare":  # "the gap between the bottoms of the two ranges"
        scored = at_end(scored, query.end)
    usable = [(f, p) for f, p in scored if p >= floor]
    ranked = [(f, p) for f, p in usable if f.value is not None]
    if op in ("change", "difference"):
        moves = [f for f, _ in usable if f.qualifier == "from" and f.low is not None and f.high is not None]
        if moves and (op == "change" or not ranked or ranked[0][1] < usable[0][1]):
            return _change(moves[0], sentence_of)
        if op == "change":
            return None
    if op == "compare" and usable:
        # Each entity named, in the order named, with its best row of the top row's kind and metric; a
        # side may be named loosely (a part's name for its whole's figure).
        top = usable[0][0]
        metric = table.terms(top.metric)
        picked: dict[str, Fact] = {}
        for m in query.mentions:
            f = next((f for f, _ in scored if f.kind == top.kind and (f.metric == top.metric or metric & table.terms(f.metric))
                      and (m.entity == f.entity or table.affinity(m.entity, f.entity) > 0)), None)
            if f is not None:
                picked.setdefault(f.entity, f)
        if len(picked) >= 2:
            return _side_by_side(tuple(picked.values()), sentence_of)
    if op in ("compare", "total") and ranked:
        # Below the floor too: a row of an entity the question names, of the top row's metric, is asked for.
        seen = {f.id for f, _ in ranked}
        rest = [f for f, _ in scored if f.value is not None and f.id not in seen]
        draft = _several(query, [f for f, _ in ranked] + rest, op, table, sentence_of)
        if draft is not None:
            return draft
    if query.unit.startswith("percent"):  # a gap in percent: of the two things named, or none
        pair = _named_pair(query, table)
        return _derive(*pair, op, sentence_of, query.unit) if pair else None
    if op == "ratio":  # "X is what fraction of Y": X, as named first, is the numerator
        order = {m.entity: m.start for m in reversed(query.mentions)}
        ranked.sort(key=lambda fp: order.get(fp[0].entity, len(query.text)))
    for i, (a, _) in enumerate(ranked):
        for b, _ in ranked[i + 1 :]:
            if _comparable(a, b):
                return _derive(a, b, op, sentence_of, query.unit)
    pair = _named_pair(query, table)
    return _derive(*pair, op, sentence_of, query.unit) if pair else None


def _side_pair(sides: tuple[str, str], side_rows: SideRows, valued: bool, table: FactTable, ends: tuple[str, str] = ("", "")) -> tuple[Fact, Fact] | None:
    """The comparable pair of rows, one per side, that the row model finds likeliest together. For
    arithmetic (`valued`) a side's best row must have a single value ("mid-40% range" has none, and no
    other row may stand in for it; a range has one when the side asks for one of its `ends`); sides
    wording one metric ("X's share in 2021" and "in 2024") pair rows of that metric."""
    of = []
    for side, end in zip(sides, ends, strict=True):
        scored = at_end(side_rows(side), end)
        if not scored or valued and scored[0][0].value is None:
            return None
        of.append([(f, p) for f, p in scored[:SIDE_ROWS] if f.value is not None or not valued])
    terms = [table.terms(side) for side in sides]
    one_metric = bool(terms[0]) and terms[0] == terms[1]
    pairs = [(pa * pb, a, b) for a, pa in of[0] for b, pb in of[1] if a.id != b.id and _comparable(a, b) and (a.metric == b.metric or not one_metric)]
    if not pairs:
        return None
    _, a, b = max(pairs, key=lambda t: t[0])
    return a, b


def _earlier_pair(query: Query, earlier: list[Fact], scored: list[tuple[Fact, float]], valued: bool, table: FactTable) -> tuple[Fact, Fact] | None:
    """For a follow-up asking a figure of the last answer's: the last answer's two comparable rows
    ("so how far ahead is it?" after two user counts), or its first row and the row the follow-up's own
    words name ("how far short of Acme's is that?")."""
    earlier = [f for f in earlier if f.value is not None or not valued]
    typed = query.asked.lower()  # what the reader typed, not what the rewrite borrowed
    named = {m.entity for m in query.mentions if query.text[m.start : m.end].lower() in typed}
    stated = [q for q in query.figures if q.text.lower() in typed]
    # Only figures of one metric: a sentence's other figures (a discount beside market shares) are not "that".
    def one_metric(a: Fact, b: Fact) -> bool:
        return a.metric == b.metric or bool(table.terms(a.metric) & table.terms(b.metric))

    # ... and the pair holds the row the last question asked for (the first), as "it" or "that" does
    both = [(earlier[0], b) for b in earlier[1:] if _comparable(earlier[0], b) and one_metric(earlier[0], b)] if earlier else []
    if both and named <= {f.entity for f in earlier} and not stated:
        pair = both[0]
    elif earlier and (named or stated):
        a = earlier[0]
        b = next((f for f, _ in scored if f.id != a.id and f not in earlier and f.value is not None and _comparable(a, f) and one_metric(a, f)), None)
        if b is None:
            return None
        pair = (a, b)
    else:
        return None
    if query.unit == "times":  # "how many times bigger?": the larger over the smaller
        pair = tuple(sorted(pair, key=lambda f: -(f.value or 0)))
    return pair


def at_end(scored: list[tuple[Fact, float]], end: str) -> list[tuple[Fact, float]]:
    """A range's rows as the single value of the end asked ("low" or "high"); the others as they are."""
    if not end:
        return scored
    out = []
    for f, p in scored:
        v = f.low if end == "low" else f.high
        # A range the article states both ends of ("29% to 45%"), not a change ("from 3% to 13%") nor a
        # bound it implies ("triple-digit")
        stated = {float(n) for n in re.findall(r"\d+(?:\.\d+)?", f.quote.replace(",", ""))}
        if f.value is None and v is not None and f.qualifier != "from" and {f.low, f.high} <= stated:
            f = replace(f, value=v, quote=f"{f.quote} ({end} end)")
        out.append((f, p))
    return out


def same_figure(f: Fact, q: Quantity) -> bool:
    """Whether a row states the figure `q` (the same amount of the same kind and currency)."""
    if f.kind != q.kind or (f.currency or None) != (q.currency or None):
        return False
    return f.value == q.value if f.value is not None else (f.low, f.high) == (q.low, q.high)


def _comparable(a: Fact, b: Fact) -> bool:
    same_figure = a.entity == b.entity and a.metric == b.metric and a.period == b.period  # one amount in two currencies
    return not same_figure and a.kind == b.kind and a.currency == b.currency and a.unit == b.unit


def _named_pair(query: Query, table: FactTable) -> tuple[Fact, Fact] | None:
    """For a question naming two entities but no metric ("How far ahead of X is Y?"): the one pair of
    their rows sharing a metric, when there is exactly one."""
    named = list(dict.fromkeys(m.entity for m in query.mentions))
    if len(named) != 2:
        return None
    rows = [f for f in table.rows(query.doc_ids) if f.value is not None]
    # A name stands for its own rows, or for those of a part or equivalent ("Initech" for Initech Cloud's).
    of = [[f for f in rows if table.affinity(n, f.entity) > 0] for n in named]
    pairs = [(a, b) for a in of[0] for b in of[1] if a.entity != b.entity and a.metric == b.metric and _comparable(a, b)]
    return pairs[0] if len(pairs) == 1 else None


def _several(query: Query, rows: list[Fact], op: str, table: FactTable, sentence_of: SentenceOf) -> Draft | None:
    """Three or more entities' figures for one metric: listed side by side; totalled ("X, Y and Z
    combined"); or, for "Is X bigger than Y and Z combined?", the ones after "than" totalled."""
    best: dict[str, Fact] = {}
    for f in rows:
        if f.entity not in best and f.metric == rows[0].metric and _comparable(f, rows[0]) or f is rows[0]:
            best.setdefault(f.entity, f)

    def row_entity(named: str) -> str | None:
        fits = [(table.affinity(named, e), e) for e in best if table.affinity(named, e) > 0]
        return max(fits)[1] if fits else None

    at = [(m.start, e) for m in query.mentions if (e := row_entity(m.entity)) is not None]
    named = list(dict.fromkeys(e for _, e in at))
    if len(named) < 3:
        return None
    picked = [best[e] for e in named]
    if op == "compare":
        return _side_by_side(tuple(picked), sentence_of)
    than = query.than_at
    if than < 0:  # "X, Y and Z combined": every one of the list, when it is one
        after = [best[e] for e in dict.fromkeys(row_entity(n) for n in query.listed) if e is not None]
        if op != "total" or len(after) < 3:
            return None
    else:
        after = list({f.id: f for start, e in at if start > than and (f := best[e])}.values())
        if len(after) < 2 or len(after) == len(picked):
            return None
    q = _computed(after[0].kind, sum(f.value for f in after), after[0].currency, after[0].unit if after[0].kind == "duration" else None)
    sids = _sids(picked, sentence_of)
    if sids is None:
        return None
    computed = Computed("total", q, tuple(after), approximate=any(f.qualifier for f in after), between=tuple(f.entity for f in after))
    return Draft("computed", sids=sids, rows=tuple(picked), computed=computed, notes=("derived from fact-table rows",))


def _side_by_side(rows: tuple[Fact, ...], sentence_of: SentenceOf) -> Draft | None:
    sids = _sids(list(rows), sentence_of)
    return None if sids is None else Draft("compare", sids=sids, rows=rows, notes=("compared fact-table rows",))


def _sids(rows: list[Fact], sentence_of: SentenceOf) -> tuple[int, ...] | None:
    sids = [sentence_of(f) for f in rows]
    return None if any(s is None for s in sids) else tuple(dict.fromkeys(sids))


def _computed(kind: str, value: float, currency: str | None = None, unit: str | None = None) -> Quantity:
    """A figure computed from rows, written the way the article writes its figures."""
    return Quantity(format_quantity(kind, value, currency, unit), -1, -1, kind, value=value, currency=currency,
                    scale=scale_of(value) if kind in ("money", "count") else None, unit=unit)


def _exchange_rate(scored: list[tuple[Fact, float]], floor: float, table: FactTable, sentence_of: SentenceOf) -> Draft | None:
    """The exchange rate one figure's two currencies imply ("CNY 18.2 billion (US$2.8 billion)" gives 6.5)."""
    for f, p in scored:
        if p < floor or f.kind != "money" or not f.value:
            continue
        twin = next((table.by_id[i] for i in f.linked if i in table.by_id and table.by_id[i].currency != f.currency
                     and table.by_id[i].metric == f.metric and table.by_id[i].value), None)
        if twin is None or f.currency is None or twin.currency is None:
            continue
        local, usd = (f, twin) if twin.currency == "USD" else (twin, f)
        rate = round(local.value / usd.value, 2)
        sids = _sids([local, usd], sentence_of)
        if sids is None:
            continue
        q = Quantity(format_quantity("money", rate, local.currency), -1, -1, "money", value=rate, currency=local.currency)
        return Draft("computed", sids=sids, rows=(local, usd), computed=Computed("exchange", q, (local, usd)), notes=("derived from fact-table rows",))
    return None


def stated_turn(f: Fact, sentence: str) -> str:
    """The way the article says a row's figure turned: a "from X to Y" row by its ends, another by the
    words of its sentence ("shrunk", "re-accelerated"); "" when it says neither or both."""
    return _direction(f) if f.qualifier == "from" else turn_of(sentence)


def _direction(f: Fact) -> str:
    ends = re.findall(r"\d+(?:\.\d+)?", f.quote)  # the row keeps low <= high; the quote keeps the order
    return "down" if len(ends) >= 2 and float(ends[0]) > float(ends[-1]) else "up"


def _change(f: Fact, sentence_of: SentenceOf) -> Draft | None:
    """The change within one "from X to Y" row, in the row's terms (percentage points for percents)."""
    sid = sentence_of(f)
    if sid is None:
        return None
    q = _computed("percentage_points" if f.kind == "percent" else f.kind, abs(f.high - f.low), f.currency, f.unit if f.kind == "duration" else None)
    return Draft("computed", sids=(sid,), rows=(f,), computed=Computed("change", q, (f,), direction=_direction(f)), notes=("derived from fact-table rows",))


def _derive(a: Fact, b: Fact, op: str, sentence_of: SentenceOf, unit: str = "") -> Draft | None:
    if (b.value or 0) > (a.value or 0) and op in ("difference", "compare"):
        a, b = b, a
    if op == "compare":
        return _side_by_side((a, b), sentence_of)
    sids = _sids([a, b], sentence_of)
    if sids is None:
        return None
    try:
        if op == "ratio":
            if not b.value:
                return None
            if unit == "times" and a.value >= b.value:  # "how many times bigger": a multiple; a smaller one is a share
                exact, ratio = a.value / b.value, derive_ratio(a, b).value
                times = ratio if abs(exact - ratio) < 1e-9 else round(exact, 1)  # 4.25 as it is, 3.1733 as 3.2
                q = Quantity(f"{format_quantity('multiple', times).removesuffix('x')} times", -1, -1, "multiple", value=times)
            else:
                share = round(a.value / b.value * 100) if a.value >= b.value / 100 else round(a.value / b.value * 100, 2)
                if not share:
                    return None  # too small a share to state
                q = Quantity(format_quantity("percent", share), -1, -1, "percent", value=float(share))
        elif op == "total":
            q = _computed(a.kind, a.value + b.value, a.currency, a.unit if a.kind == "duration" else None)
        elif unit.startswith("percent") and a.kind != "percent":  # "by what percentage did A exceed B?": (A - B) / B
            less = unit == "percent less"  # "what percent less did B have than A?": (A - B) / A
            if not (a.value if less else b.value):
                return None
            gap = (a.value - b.value) / (a.value if less else b.value) * 100
            gap = round(gap) if gap >= 1 else round(gap, 2)
            if not gap:
                return None
            op, q = "relative", Quantity(format_quantity("percent", gap), -1, -1, "percent", value=float(gap))
        else:
            q = derive_difference(a, b)
        also = derive_difference(a, b) if op == "relative" else None
    except ValueError:
        return None
    # Two figures of one entity are told apart by their metrics ("between large model discounts and core product discounts").
    between = (a.entity, b.entity) if a.entity != b.entity else (f"{a.entity}'s {a.metric}", f"the {b.metric}")
    down = op == "relative" and unit == "percent less"
    computed = Computed(op, q, (a, b), approximate=bool(a.qualifier or b.qualifier), between=between[::-1] if down else between, gap=also,
                        direction="down" if down else "")
    return Draft("computed", sids=sids, rows=(a, b), computed=computed, notes=("derived from fact-table rows",))


def premise_draft(query: Query, table: FactTable, about: list[Fact], sentence_of: SentenceOf) -> Draft | None:
    """A correction when the question quotes a figure the article contradicts; a "Yes" for a yes/no
    question whose figure is the one it asks about, said in the asked direction. `about` holds the rows
    the question is about (rows of its entity or metric), best first: another row never corrects it."""
    # A bare number with no unit or scale ("... in 21?") claims nothing to check.
    bare = {q.start for q in query.figures if q.kind == "count" and not q.unit and not q.scale}
    checks = [c for c in check_figures(query.text, table, query.doc_ids) if c.start not in bare]
    if not checks:
        return None
    about_ids = {f.id for f in about}
    bad = [c for c in checks if c.status in _BAD]
    if bad:
        right = _expected_row(bad[0], query, table)
        if right is None or not (right.id in about_ids or about_ids & set(right.linked)):
            kind = table.by_id[bad[0].fact_id].kind if bad[0].fact_id in table.by_id else None
            right = next((f for f in about if f.kind == kind), None)
            if right is None:
                return None
        sid = sentence_of(right)
        return None if sid is None else Draft("correction", sids=(sid,), rows=(right,), notes=("checked the figure in the question against the fact table",))
    first = checks[0]
    if not (about and all(c.status == "ok" and c.fact_id for c in checks) and first.fact_id == about[0].id and query.yes_no):
        return None
    f = table.by_id[first.fact_id]
    sid = sentence_of(f)
    if sid is None:
        return None
    if f.qualifier == "from" and not _said_in_direction(query, f, first):
        # "Did growth slow to 3%?" when the article says it rose from 3% to 13%: not what it says.
        return Draft("correction", sids=(sid,), rows=(f,), notes=("the article states this figure in another direction",))
    return Draft("confirm", sids=(sid,), rows=(f,), notes=("checked the figure in the question against the fact table",))


def _said_in_direction(query: Query, f: Fact, check: FigureCheck) -> bool:
    """A "from X to Y" row confirms a question only when the question moves the same way and, when it
    names one end, names it as the article does (the end it ends at for "to Y", the start for "from X")."""
    row = _direction(f)
    if query.direction and query.direction != row:
        return False
    ends = re.findall(r"\d+(?:\.\d+)?", f.quote)
    if len(ends) < 2 or check.value is None:
        return True
    start, end = float(ends[0]), float(ends[-1])
    role = next((r for q, r in zip(query.figures, query.figure_roles, strict=False) if q.start == check.start), "")
    if role == "to":
        return abs(check.value - end) < 1e-9
    if role == "from":
        return abs(check.value - start) < 1e-9
    return True


def _expected_row(c: FigureCheck, query: Query, table: FactTable) -> Fact | None:
    """The row holding what the question should have said."""
    if c.status in ("mismatch", "over_precise") and c.fact_id in table.by_id:
        return table.by_id[c.fact_id]
    named = {m.entity for m in query.mentions}
    candidates = sorted((f for f in table.facts if c.expected and f.quote == c.expected), key=lambda f: f.entity not in named)
    if candidates:
        return candidates[0]
    return table.by_id.get(c.fact_id) if c.fact_id else None
