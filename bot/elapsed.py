"""Time between two events the article dates ("How many months after X did Y?") and their order
("Which came first, X or Y?"), as drafts.

The two events come from the `Query`; `date_of` (given by the caller, which can search) finds the
sentence that dates each one. The gap is computed from the two dates alone, and both dated sentences
are cited. This module neither searches nor writes words.
"""

from __future__ import annotations

from collections.abc import Callable

from .draft import Computed, Dated, Draft
from .quantity import Period, find_periods
from .query import Query
from .types import Quantity

_WORDS = ("", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")

DateOf = Callable[[str], "Dated | None"]


def months_between(a: Period, b: Period) -> int | None:
    """Whole months from `a` to `b`; None unless both name a month."""
    if a.month is None or b.month is None or a.year is None or b.year is None:
        return None
    return (b.year - a.year) * 12 + (b.month - a.month)


def elapsed_draft(query: Query, date_of: DateOf) -> Draft | None:
    """The time from the first event to the second, computed from the dates the article gives them."""
    if query.operation != "elapsed" or not query.events:
        return None
    a, b = date_of(query.events[0]), date_of(query.events[1])
    if a is None or b is None or a.date_sid == b.date_sid:
        return None
    unit = query.unit or "month"
    months = months_between(a.period, b.period)
    if unit in ("day", "week") or (months if months is not None else (b.period.year or 0) - (a.period.year or 0)) < 0:
        return None  # finer than the article's dates, or the events in the other order: not computed
    if months is None:
        if unit != "year" or a.period.year is None or b.period.year is None:
            return None
        value, unit_word = b.period.year - a.period.year, "year"
    elif unit == "year" and months % 12 == 0:
        value, unit_word = months // 12, "year"
    else:
        value, unit_word = months, "month"
    if value == 0:
        return None
    text = _spelled(value, unit_word)
    if unit == "year" and unit_word == "month" and months > 12:  # asked in years: "four years and seven months"
        text = f"{_spelled(months // 12, 'year')} and {_spelled(months % 12, 'month')}"
    figure = Quantity(text, -1, -1, "duration", value=float(value), unit=unit_word)
    sids = tuple(sorted({s for d in (a, b) for s in (d.date_sid, d.event_sid)}))
    return Draft("computed", sids=sids, computed=Computed("elapsed", figure, dates=(a, b)), notes=("computed from the dates of the cited passages",))


def _spelled(value: int, unit: str) -> str:
    """ "five months", "1 year", "14 months": small numbers in words, as the article writes them."""
    return f"{_WORDS[value] if value < len(_WORDS) else value} {unit}{'s' if value != 1 else ''}"


def order_draft(query: Query, date_of: DateOf) -> Draft | None:
    """Which of two events came first, by the dates the article gives them; None unless both are
    dated, apart, to a comparable precision."""
    if query.operation not in ("first", "order") or not query.events:
        return None
    a, b = date_of(query.events[0]), date_of(query.events[1])
    if a is None or b is None or a.date_sid == b.date_sid:
        return None
    ka, kb = (a.period.year, a.period.month or 0), (b.period.year, b.period.month or 0)
    if ka == kb or (ka[0] == kb[0] and 0 in (ka[1], kb[1])):
        return None  # the same date, or a year against a month of that year
    return Draft("order", events=((query.events[0], a), (query.events[1], b)), first=query.operation == "first",
                 notes=("ordered by the dates of the cited passages",))


def first_period(text: str) -> Period | None:
    """The first month-and-year (else year) the text names."""
    periods = [p for p in find_periods(text) if p.year is not None and p.end_year is None and p.quarter is None]
    return next((p for p in periods if p.month is not None), periods[0] if periods else None)
