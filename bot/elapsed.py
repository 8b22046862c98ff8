"""Time between two events the article dates: "How many months after the Ant IPO was halted did the fine come?",
and their order: "Did the memo come out before or after Eddie Wu became CEO?", "Which came first, A or B?".

The question is split into its two events; `date_of` (given by the caller, which can search) finds
the sentence that dates each one. The gap is computed from the two dates alone, shown with its
arithmetic, and both dated sentences are cited. This module neither searches nor checks figures.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .quantity import Period, find_periods
from .types import Quantity, Sentence

_ASK = re.compile(r"^\s*how (?:long|much time|many (?P<unit>days|weeks|months|years))\b\s*(?P<rest>.*?)\s*\?*\s*$", re.I)
_BETWEEN = re.compile(r"^(?:(?:had |has )?(?:passed|elapsed|went by|were there) )?between (?P<a>.+?) and (?P<b>.+)$", re.I)
_AFTER = re.compile(r"^(?P<rel>after|before) (?P<rest>.+)$", re.I)
# The main clause after "after E1": do-support marks it best ("... was halted did the fine come").
_DO = re.compile(r"\b(?:did|does|do)\b", re.I)
_BE = re.compile(r"\b(?:was|were|is|are|had|has)\b", re.I)
_WORDS = ("", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")


@dataclass(frozen=True)
class Dated:
    """An event's dating: the sentence holding the date, the event's own sentence (may be the same), the date."""

    date_sentence: Sentence
    event_sentence: Sentence
    period: Period


@dataclass(frozen=True)
class Elapsed:
    """The answer: text with [n] markers, cited sentences in marker order, and the computed figure."""

    text: str
    sentences: tuple[Sentence, ...]
    figure: Quantity


def events(question: str) -> tuple[str, str, str] | None:
    """The two events a "how long after/between" question names, and the unit asked ("month" by default)."""
    m = _ASK.match(question)
    if not m:
        return None
    unit = (m.group("unit") or "months").lower().rstrip("s")
    rest = m.group("rest")
    if b := _BETWEEN.match(rest):
        return b.group("a"), b.group("b"), unit
    a = _AFTER.match(rest)
    if not a:
        return None
    tail = a.group("rest")
    split = list(_DO.finditer(tail)) or list(_BE.finditer(tail))
    if not split:
        return None
    cut = split[-1]
    first, second = tail[: cut.start()].strip(" ,"), tail[cut.end() :].strip(" ,")
    if not first or not second:
        return None
    return (first, second, unit) if a.group("rel").lower() == "after" else (second, first, unit)


def months_between(a: Period, b: Period) -> int | None:
    """Whole months from `a` to `b`; None unless both name a month."""
    if a.month is None or b.month is None or a.year is None or b.year is None:
        return None
    return (b.year - a.year) * 12 + (b.month - a.month)


def elapsed_answer(question: str, date_of: Callable[[str], Dated | None]) -> Elapsed | None:
    """The time from the first event to the second, computed from the dates the article gives them."""
    asked = events(question)
    if asked is None:
        return None
    first, second, unit = asked
    a, b = date_of(first), date_of(second)
    if a is None or b is None or a.date_sentence.sid == b.date_sentence.sid:
        return None
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
    number = _WORDS[value] if value < len(_WORDS) else str(value)
    figure_text = f"{number} {unit_word}{'s' if value != 1 else ''}"
    figure = Quantity(figure_text, -1, -1, "duration", value=float(value), unit=unit_word)
    cited, number_of, quotes = _quoted(a, b)
    markers = "".join(f"[{number_of[d.date_sentence.sid]}]" for d in (a, b))  # the two sentences holding the dates
    # The dates stay in the quoted sentences, so that each marker's sentence holds every figure it backs.
    text = f"{quotes} The time from the first date to the second is {figure_text} (computed from these dates). {markers}"
    return Elapsed(text, cited, figure)


def _quoted(a: Dated, b: Dated) -> tuple[tuple[Sentence, ...], dict[int, int], str]:
    """The sentences dating two events, in document order: them, their marker numbers by sid, and the quotes."""
    cited = tuple(sorted({s.sid: s for d in (a, b) for s in (d.date_sentence, d.event_sentence)}.values(), key=lambda s: s.sid))
    number_of = {s.sid: n for n, s in enumerate(cited, 1)}
    return cited, number_of, " ".join(f"{s.text.strip()} [{number_of[s.sid]}]" for s in cited)


_FIRST = re.compile(r"^\s*(?:which|what)\s+(?:came|happened|comes|happens|was)\s+(?:first|earlier)\s*[,:;]?\s*(?P<a>.+?)\s*,?\s+or\s+(?P<b>.+?)\s*\?*\s*$", re.I)
_BEFORE_OR_AFTER = re.compile(r"^\s*(?:did|was|were|is|has|had)\s+(?P<a>.+?)\s+(?:(?:happen|come|occur|take place)\s+)?before\s+or\s+after\s+(?P<b>.+?)\s*\?*\s*$", re.I)


def order_answer(question: str, date_of: Callable[[str], Dated | None]) -> tuple[str, tuple[Sentence, ...]] | None:
    """Which of two events came first, by the dates the article gives them: the answer's text with
    [n] markers and the cited sentences; None unless both are dated, apart, to a comparable precision."""
    m = _FIRST.match(question) or _BEFORE_OR_AFTER.match(question)
    if m is None:
        return None
    names = (m.group("a").strip(" ,"), m.group("b").strip(" ,"))
    a, b = date_of(names[0]), date_of(names[1])
    if a is None or b is None or a.date_sentence.sid == b.date_sentence.sid:
        return None
    ka, kb = (a.period.year, a.period.month or 0), (b.period.year, b.period.month or 0)
    if ka == kb or (ka[0] == kb[0] and 0 in (ka[1], kb[1])):
        return None  # the same date, or a year against a month of that year
    cited, n, quotes = _quoted(a, b)
    if m.re is _FIRST:
        (early, d1), (late, d2) = sorted(((names[0], a), (names[1], b)), key=lambda nd: (nd[1].period.year, nd[1].period.month or 0))
        lead = (f"“{early}” came first: the article dates it to {d1.period.text} [{n[d1.date_sentence.sid]}], "
                f"and “{late}” to {d2.period.text} [{n[d2.date_sentence.sid]}].")
    else:
        lead = (f"{'Before' if ka < kb else 'After'}: the article dates “{names[0]}” to {a.period.text} [{n[a.date_sentence.sid]}] "
                f"and “{names[1]}” to {b.period.text} [{n[b.date_sentence.sid]}].")
    return f"{lead} {quotes}", cited


def first_period(text: str) -> Period | None:
    """The first month-and-year (else year) the text names."""
    periods = [p for p in find_periods(text) if p.year is not None and p.end_year is None and p.quarter is None]
    return next((p for p in periods if p.month is not None), periods[0] if periods else None)
