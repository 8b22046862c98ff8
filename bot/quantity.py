"""The quantity grammar: figures as articles write them and as an LLM or a reader rewrites them.

Reads money (CNY, RMB, yuan, ¥, US$, $, USD, and a few other dollar prefixes so that "HK$" is not
read as US dollars), scales (thousand ... trillion, k/m/mn/bn/b/tn), percentages and percentage
points, ranges ("29% to 45%", "1%-4%", "between X and Y", "3-5 Years"), approximations and bounds
("approximately", "over", "up to", "mid-40%", "low single digits", "triple-digit"), multiples,
ordinal ranks, and number words ("seven consecutive quarters"). Years and months are periods, found
by `find_periods` and never read as figures; names with digits ("99PLUS", "1+6+N", "Battlefield 2")
are not figures either.

Maintained parsers (quantulum3, Microsoft Recognizers, price-parser) each misread some of the
corpus's figures (quantulum3 turns "(US$2.8 billion)" into -2.8e9; none reads "mid-40%"), so the
grammar is ours.

Deliberately not done here: deciding what a figure is about (facts.py), judging it against an
article (guard.py), fractions and vague amounts ("half", "a few", "several", "thousands of"), and
spelled-out numbers above ninety-nine ("three hundred").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from .types import Quantity

KINDS = ("money", "percent", "percentage_points", "count", "duration", "ordinal", "multiple")

# Canonical qualifiers that bound the true value from below or above.
LOWER_BOUND = frozenset({"over", "at least"})
UPPER_BOUND = frozenset({"nearly", "under", "up to"})

_EXPONENT = {"thousand": 3, "million": 6, "billion": 9, "trillion": 12}
_SCALE_NAME = {
    "k": "thousand", "thousand": "thousand",
    "m": "million", "mn": "million", "mln": "million", "million": "million",
    "b": "billion", "bn": "billion", "billion": "billion",
    "t": "trillion", "tn": "trillion", "trn": "trillion", "trillion": "trillion",
}  # fmt: skip
_CURRENCY = {
    "$": "USD", "US$": "USD", "U.S.$": "USD", "USD": "USD", "HK$": "HKD", "HKD": "HKD", "NT$": "TWD",
    "S$": "SGD", "A$": "AUD", "C$": "CAD", "¥": "CNY", "￥": "CNY", "RMB¥": "CNY", "CNY": "CNY",
    "RMB": "CNY", "Rmb": "CNY", "€": "EUR", "EUR": "EUR", "£": "GBP", "GBP": "GBP", "JPY": "JPY",
}  # fmt: skip
# Durations compare in days; a month and a year are their calendar averages.
_DAYS = {"hour": 1 / 24, "day": 1.0, "week": 7.0, "month": 30.4375, "quarter": 91.3125, "year": 365.25, "decade": 3652.5}
_UNIT_NAME = {"hr": "hour", "hrs": "hour", "yr": "year", "yrs": "year"}

_SMALL = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_ORDINAL_WORDS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
}
_MULTIPLE_WORDS = {"doubled": 2, "tripled": 3, "trebled": 3, "quadrupled": 4, "halved": 0.5}
# Percent ranges of "(low|mid|high) (single|double|triple)-digit" growth.
_DIGIT_BANDS = {
    ("single", ""): (1, 9), ("single", "low"): (1, 4), ("single", "mid"): (4, 6), ("single", "high"): (6, 9),
    ("double", ""): (10, 99), ("double", "low"): (10, 20), ("double", "mid"): (30, 60), ("double", "high"): (70, 99),
    ("triple", ""): (100, 999), ("triple", "low"): (100, 300), ("triple", "mid"): (400, 600), ("triple", "high"): (700, 999),
}  # fmt: skip

_QUALIFIER = {
    "approximately": "approximately", "approx": "approximately", "approx.": "approximately",
    "about": "approximately", "around": "approximately", "roughly": "approximately", "some": "approximately",
    "an estimated": "approximately", "estimated": "approximately", "circa": "approximately",
    "~": "approximately", "≈": "approximately",
    "nearly": "nearly", "almost": "nearly", "close to": "nearly", "just under": "nearly",
    "over": "over", "more than": "over", "above": "over", "upwards of": "over", "in excess of": "over",
    "just over": "over", "at least": "at least",
    "under": "under", "less than": "under", "below": "under", "fewer than": "under",
    "up to": "up to", "at most": "up to", "no more than": "up to", "as much as": "up to",
    "as many as": "up to", "as high as": "up to",
    "exactly": "exactly", "precisely": "exactly",
}  # fmt: skip

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip

_MONTH_NAME = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
# Every period holds a year: periods are read around each year found, which is fast on long texts.
_YEAR = re.compile(r"(?:19|20)\d\d(?!\d)")
_PERIOD_BEFORE = re.compile(
    rf"(?:(?P<q_ord>(?i:first|second|third|fourth))\s+(?i:quarter\s+of\s+)(?:(?i:fiscal)\s+(?:(?i:year)\s+)?)?"
    rf"|\bQ(?P<q_num>[1-4])\s?(?:FY\s?|(?i:fiscal)\s+)?|\b(?P<month>{_MONTH_NAME})\.?,?\s+|\b(?P<fy>FY\s?|(?i:fiscal)\s+(?:(?i:year)\s+)?))\Z"
)
_PERIOD_AFTER = re.compile(
    r"-(?P<month>0[1-9]|1[0-2])(?![\d%])|\s?[-–—/]\s?(?P<to>(?:19|20)\d\d(?!\d)|\d\d(?!\d)|(?i:present|now|today|date)\b)"
)
_NOT_A_YEAR = re.compile(r"[\w%]|[.,]\d|\s?(?i:%|percent|per cent|thousand|million|billion|trillion|bn|mn|tn)\b")
_OPEN_ENDED = re.compile(r"(?i:since|after|from)\s+\Z")

# A loose scan for digits (fast), then the longest well-formed number at its start.
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_WELL_FORMED = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
_CODES_BEFORE = frozenset({"CNY", "RMB", "Rmb", "USD", "HKD", "EUR", "GBP", "JPY"})
_CURRENCY_ENDS = frozenset("$¥￥€£" + "".join(c[-1] for c in _CODES_BEFORE))  # last characters of currency prefixes
_LOWER_WORD = re.compile(r"[a-z]+")
_WORD_NUMBER = re.compile(
    r"(?:(?P<tens>twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[-\s](?P<unit>one|two|three|four|five|six|seven|eight|nine)\b)?"
    r"|(?P<small>one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen)"
    r"|(?P<dozen>a\s+dozen))\b",
    re.I,
)
# "mid-40%", "low 30s percent", "the mid-40% range".
_TENS_BAND = re.compile(r"(?P<pos>low|mid|high)[-\s]?(?P<tens>[1-9]0)s?\s?(?:%|％|(?i:percent|per\s?cent)\b)(?:\s+range\b)?", re.I)
# "low single digits", "triple-digit": growth-rate bands in percent.
_DIGIT_BAND = re.compile(r"(?:(?P<pos>low|mid|high)[-\s])?(?P<band>single|double|triple)[-\s]digits?\b", re.I)
# "the triple pressures of regulation, competition, and ...": a count of what follows (plural noun).
_GROUP_WORD = re.compile(r"(?P<word>double|triple)(?=\s+(?!(?:its|his|this|was|has|as|is|us|thus|plus|less|unless)\b)[a-z]+s\b)", re.I)
_GROUP_ALONE = re.compile(r"double|triple", re.I)
_ORDINAL_WORD = re.compile(r"(?P<word>second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth)[-\s](?:largest|biggest|ranked)\b", re.I)
_MULTIPLE_WORD = re.compile(r"(?:doubled|tripled|trebled|quadrupled|halved)\b", re.I)
_ORDINAL_SUFFIX = re.compile(r"(?:st|nd|rd|th)\b")
_RANK_NO = re.compile(r"\bNo\.\s?\Z")
_CITATION = re.compile(r"\[\d+(?:\s*[,–-]\s*\d+)*\]")
_LIST_MARKER = re.compile(r"[.)][ \t]")
# Words that may start a figure, and what to try there. A text is scanned for them only when its
# words include one, through a small pattern of just those words: far faster than one big pattern.
_TRIGGERS = {
    **{w: "number" for w in (*_SMALL, *_TENS, "dozen")},
    **{w: "ordinal" for w in _ORDINAL_WORDS if w != "first"},
    **{w: "multiple" for w in _MULTIPLE_WORDS},
    **{w: "band" for w in ("low", "mid", "high", "single", "double", "triple")},
}
_TRIGGER_WORDS = frozenset(_TRIGGERS)
_CUR_PREFIX = re.compile(
    r"(?:(?<![A-Za-z])(?P<sym>(?:US|U\.S\.|HK|NT|S|A|C)?\$|RMB\s?¥|¥|￥|€|£)|(?<![A-Za-z])(?P<code>USD|CNY|RMB|Rmb|HKD|EUR|GBP|JPY))\s?\Z"
)
_SCALE = re.compile(
    r"(?:\s?(?P<long>(?i:thousand|million|billion|trillion))|\s?(?P<mid>(?i:mn|mln|bn|tn|trn))|(?P<short>[kKmMbBtT]))(?![A-Za-z])"
)
_CUR_SUFFIX = re.compile(
    r"\s(?:(?P<CNY>(?i:yuan|renminbi)|RMB|CNY)|(?P<HKD>HKD|(?i:hong\s+kong\s+dollars?|hk\s?dollars?))|(?P<USD>USD|(?i:(?:us|u\.s\.)\s?dollars?|dollars?)))(?![A-Za-z])"
)
_POINTS = re.compile(r"\s?(?i:(?P<pp>percentage[-\s]points?|pp|ppts?)|(?P<bp>basis[-\s]points?|bps))\b")
_PERCENT = re.compile(r"\s?(?:%|％|(?i:percent|per\s?cent|pct)\b)")
_MULTIPLE = re.compile(r"[xX×](?![\w])|\s(?i:times)\b|[-\s]?(?i:fold)\b")
_DURATION = re.compile(
    r"-(?P<h>hour|day|week|month|quarter|year|decade)\b"
    r"|\s+(?:(?i:consecutive|straight|successive|short|long|full|more|additional|whole|past|previous|next|last|further)\s+){0,2}"
    r"(?P<u>(?i:hours?|hrs?|days?|weeks?|months?|quarters?|years?|yrs?|decades?))\b"
)
_RANGE_GAP = re.compile(r"\s?[-–—~]\s?|\s+(?:to|through)\s+")
_AND_GAP = re.compile(r"\s+and\s+")
_QUALIFIER_RE = re.compile(
    r"(?<![\w])(?P<q>(?i:approximately|approx\.?|about|around|roughly|nearly|almost|close\s+to|an\s+estimated|estimated|some|circa"
    r"|just\s+over|just\s+under|over|more\s+than|above|upwards\s+of|in\s+excess\s+of|at\s+least|under|less\s+than|below|fewer\s+than"
    r"|at\s+most|no\s+more\s+than|up\s+to|as\s+(?:much|many|high)\s+as|exactly|precisely|from|between)|~|≈)\s*\Z"
)
# Last words of the qualifiers above: a cheap test before searching for one.
_QUALIFIER_ENDS = frozenset(
    "approximately approx about around roughly nearly almost to an estimated some circa over under than above of least below most as exactly precisely from between".split()
)
_RANGE_VERB = re.compile(r"(?i:rang(?:e|es|ed|ing)|var(?:y|ies|ied|ying))\s+\Z")
_PREV_WORD = re.compile(r"(?P<w>[A-Za-z][\w'’.]*)\s+\Z")
_NEXT_WORDS = re.compile(r"(?:\s+[A-Za-z][\w'’-]*){1,5}")
_LOWER_WORD_AHEAD = re.compile(r"\s+(?:of\s+)?[a-z]")
_LITERAL = re.compile(r"\d[\d,]*(?:\.\d+)?")

# A capitalised word before a bare number makes it a name ("Battlefield 2", "Qwen 2.5"), unless the
# word is one that starts sentences or precedes figures anyway.
_FUNCTION_WORDS = frozenset(
    """in on at by for of to from with after before about around over under nearly roughly approximately just only some
    the a an and or but its their his her all each every another these those this that than up down since until
    within across during between among almost exactly precisely more less fewer top""".split()
)
# Words after a count that are not what it counts.
_NOT_NOUNS = frozenset("its has was this as is us his does gets makes takes keeps sees helps also plus less".split())


@dataclass(frozen=True)
class Period:
    """A year or month a text names ("April 2021", "2024", "(2020-2022)"), with its span."""

    text: str
    start: int
    end: int
    year: int
    month: int | None = None
    end_year: int | None = None  # last year of a range ("2020-2022")
    quarter: int | None = None
    open_ended: bool = False  # "2023-Present", "since 2023"

    def covers(self, period: str) -> bool:
        """True when a fact-table period ("2021", "2021-04") falls inside this one."""
        year = int(period[:4])
        month = int(period[5:7]) if len(period) >= 7 else None
        if self.open_ended:
            return year >= self.year
        if self.end_year is not None:
            return self.year <= year <= self.end_year
        if year != self.year:
            return False
        if self.month is None or month is None:
            return True
        return month == self.month


@dataclass
class _Atom:
    """One number with what is attached to it, before ranges and qualifiers are read."""

    start: int
    end: int
    num: Decimal
    currency: str | None = None
    scale: str | None = None
    kind: str | None = None
    unit: str | None = None
    negative: bool = False
    low: float | None = None  # set for bands ("mid-40%")
    high: float | None = None
    qualifier: str | None = None
    whole: bool = False  # bands, ranks and "doubled" are complete figures: never ends of a range
    bare: bool = False  # digits with nothing attached: a name's number unless a range or noun says otherwise

    def value(self, scale: str | None) -> Decimal:
        v = self.num * (Decimal(10) ** _EXPONENT[scale]) if scale else self.num
        return -v if self.negative else v


def find_periods(text: str) -> list[Period]:
    """Every year, month, quarter or year range that `text` names, in order."""
    out: list[Period] = []
    for y in _YEAR.finditer(text):
        ys, ye = y.span()
        if out and ys < out[-1].end:
            continue  # the second year of a range already read
        if ys and (text[ys - 1].isalnum() and text[max(0, ys - 2) : ys] != "FY" or text[ys - 1] in "$.,_"):
            continue
        year = int(y.group())
        word = _prev_word(text, ys)
        hinted = word[:3] in _MONTHS or word in ("of", "year", "fiscal", "fy") or len(word) == 2 and word[0] == "q"
        before = _PERIOD_BEFORE.search(text, max(0, ys - 32), ys) if hinted else None
        after = _PERIOD_AFTER.match(text, ye)
        start = before.start() if before else ys
        if before and before.group("q_ord"):
            p = Period(text[start:ye], start, ye, year, quarter=_ORDINAL_WORDS[before.group("q_ord").lower()])
        elif before and before.group("q_num"):
            p = Period(text[start:ye], start, ye, year, quarter=int(before.group("q_num")))
        elif before and before.group("month"):
            p = Period(text[start:ye], start, ye, year, month=_MONTHS[before.group("month")[:3].lower()])
        elif after and after.group("month"):
            p = Period(text[ys : after.end()], ys, after.end(), year, month=int(after.group("month")))
        elif after and after.group("to"):
            last = after.group("to")
            if last.isdigit():
                end_year = int(last) if len(last) == 4 else year // 100 * 100 + int(last)
                p = Period(text[ys : after.end()], ys, after.end(), year, end_year=end_year)
            else:
                p = Period(text[ys : after.end()], ys, after.end(), year, open_ended=True)
        elif before:  # FY2024, fiscal 2024
            p = Period(text[start:ye], start, ye, year)
        elif _NOT_A_YEAR.match(text, ye):
            continue  # "2021 billion", "2024%": a number, not a year
        else:
            p = Period(y.group(), ys, ye, year, open_ended=bool(_OPEN_ENDED.search(text, max(0, ys - 8), ys)))
        out.append(p)
    return out


def _prev_word(text: str, pos: int) -> str:
    """The word just before `pos` (spaces and ".,-" skipped), lower-cased; cheap gate before a regex search."""
    k = pos
    while k > 0 and text[k - 1] in " .,-\t":
        k -= 1
    j = k
    while j > 0 and text[j - 1].isalnum() and k - j < 16:
        j -= 1
    return text[j:k].lower()


def find_quantities(text: str, periods: list[Period] | None = None) -> list[Quantity]:
    """Every figure in `text`, in order, each with its exact span (`text[q.start:q.end] == q.text`).

    `periods` may pass `find_periods(text)` when the caller has it already.
    """
    if not text:
        return []
    blocked = [(p.start, p.end) for p in (find_periods(text) if periods is None else periods)]
    if "[" in text:
        blocked += [m.span() for m in _CITATION.finditer(text)]
    atoms = []
    lowered = text.lower()
    present = _TRIGGER_WORDS.intersection(_LOWER_WORD.findall(lowered))
    if present:
        for w in _trigger_pattern(frozenset(present)).finditer(lowered):
            if a := _read_trigger(text, w.start(), _TRIGGERS[w.group()]):
                atoms.append(a)
    for m in _NUMBER.finditer(text):
        if not any(s <= m.start() < e for s, e in blocked) and (a := _read_number(text, m)):
            atoms.append(a)
    atoms.sort(key=lambda a: (a.start, a.start - a.end))
    kept: list[_Atom] = []
    for a in atoms:
        if any(s < a.end and a.start < e for s, e in blocked):
            continue
        if kept and a.start < kept[-1].end:
            continue
        kept.append(a)
    return _assemble(text, kept)


@lru_cache(maxsize=256)
def _trigger_pattern(words: frozenset[str]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(sorted(words, key=len, reverse=True)) + r")\b")


def parse_quantity(s: str) -> Quantity | None:
    """The one figure `s` is ("CNY 18.2 billion", "over 900 million", "two"), or None."""
    stripped = s.strip()
    if not stripped:
        return None
    lead = len(s) - len(s.lstrip())
    found = find_quantities(stripped)
    if len(found) == 1 and found[0].start == 0 and found[0].end == len(stripped):
        q = found[0]
        return Quantity(**{**q.to_dict(), "start": q.start + lead, "end": q.end + lead})
    # A lone number or number word is a count even without the noun it would count.
    m = _WELL_FORMED.fullmatch(stripped) or _WORD_NUMBER.fullmatch(stripped) or _GROUP_ALONE.fullmatch(stripped)
    if m is None or found or find_periods(stripped):
        return None
    if m.re is _GROUP_ALONE:
        num = Decimal(2 if stripped.lower() == "double" else 3)
    else:
        num = Decimal(stripped.replace(",", "")) if m.re is _WELL_FORMED else _word_value(m)
    return Quantity(s[lead : lead + len(stripped)], lead, lead + len(stripped), "count", value=float(num))


# --- comparing figures -------------------------------------------------------------------------


def base_value(q: Quantity, x: float) -> float:
    """`x` (a value, low or high of `q`) in comparable base units: days for durations."""
    if q.kind == "duration" and q.unit in _DAYS:
        return x * _DAYS[q.unit]
    return x


def bounds(q: Quantity) -> tuple[float, float]:
    """The (low, high) a figure states, in base units; equal for a single value."""
    if q.value is not None:
        v = base_value(q, q.value)
        return v, v
    return base_value(q, q.low or 0.0), base_value(q, q.high or 0.0)


@lru_cache(maxsize=4096)
def steps(q: Quantity) -> tuple[float, float]:
    """The rounding steps of a single figure in base units: (as written, counting integer trailing zeros)."""
    lit = _LITERAL.search(q.text)
    factor = base_value(q, float(Decimal(10) ** _EXPONENT[q.scale])) if q.scale else base_value(q, 1.0)
    if lit is None:  # a number word
        return factor, factor
    digits = lit.group().replace(",", "")
    if "." in digits:
        fine = factor * 10.0 ** -len(digits.split(".")[1])
        return fine, fine
    zeros = len(digits) - len(digits.rstrip("0")) if digits.strip("0") else 0
    return factor, factor * 10.0**zeros


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def _rounds_to(x: float, step: float, shown: float) -> bool:
    # Half-way values round either way: writers round 3.75 to 3.8 and to 3.7 alike.
    return abs(x - shown) <= step / 2 * (1 + 1e-9)


def is_hedged(q: Quantity) -> bool:
    """True when the wording admits the value is not exact ("about", "nearly", "over", bands...)."""
    return q.qualifier is not None and q.qualifier not in ("exactly", "from")


def value_relation(claim: Quantity, source: Quantity) -> str:
    """How `claim`'s number stands to `source`'s: equal, rounded, endpoint, finer or different.

    rounded: the claim is a coarser rounding of the source (or an approximate claim covers it);
    endpoint: a single claim equals one end of a source range; finer: the claim is consistent with the
    source but more precise than it. Kind and currency are the caller's to compare.
    """
    (clo, chi), (slo, shi) = bounds(claim), bounds(source)
    c_single, s_single = claim.value is not None, source.value is not None
    if _close(clo, slo) and _close(chi, shi):
        return "equal"
    if claim.qualifier == "from":
        return "different"  # a change's two ends are two figures, never a rounding of one
    hedged = is_hedged(claim)
    if c_single and s_single:
        fine, coarse = steps(claim)
        rel = abs(clo - slo) / max(abs(slo), 1e-12)
        # A rounding stays close: 5% off at most, 7.5% when the wording admits it ("about US$3 billion"
        # for US$2.8 billion passes, "around 50 million" for 46 million does not).
        if _rounds_to(slo, coarse, clo) and rel <= (0.075 if hedged else 0.05):
            return "rounded"
        s_fine = steps(source)[0]
        if fine < s_fine and abs(clo - slo) < s_fine / 2 and rel <= 0.05:
            return "finer"
        if source.qualifier in LOWER_BOUND and slo < clo <= slo * 1.2 or source.qualifier in UPPER_BOUND and slo * 0.8 <= clo < slo:
            return "finer"
        return "different"
    if c_single:
        if _close(clo, slo) or _close(clo, shi):
            return "endpoint"
        if slo < clo < shi:
            if source.qualifier == "from":
                return "different"
            return "rounded" if hedged else "finer"
        coarse = steps(claim)[1]
        if hedged and (_rounds_to(slo, coarse, clo) or _rounds_to(shi, coarse, clo)):
            return "rounded"
        return "different"
    if s_single:
        if clo <= slo <= chi and chi - clo <= 0.25 * abs(slo):
            return "rounded"
        return "different"
    if source.qualifier != "from" and slo <= clo and chi <= shi:
        return "finer"
    return "different"


def same_quantity(a: Quantity, b: Quantity) -> bool:
    """True when two figures state the same thing: kind, currency and number(s)."""
    return a.kind == b.kind and a.currency == b.currency and value_relation(a, b) == "equal"


def is_rounding(shown: Quantity, precise: Quantity) -> bool:
    """True when `shown` is a rounding of `precise` ("about CNY 18 billion" of "CNY 18.2 billion")."""
    return shown.kind == precise.kind and shown.currency == precise.currency and value_relation(shown, precise) == "rounded"


def mantissa(q: Quantity) -> tuple[float, float] | None:
    """The number(s) as written before the scale (18.2 for "CNY 18.2 billion"); None for bands."""
    if q.low is not None and q.qualifier not in (None, "from"):
        return None
    factor = 10.0 ** _EXPONENT[q.scale] if q.scale else 1.0
    lo, hi = (q.value, q.value) if q.value is not None else (q.low, q.high)
    return round(lo / factor, 9), round(hi / factor, 9)


def format_quantity(kind: str, value: float, currency: str | None = None, unit: str | None = None) -> str:
    """A figure written the way the article writes it ("CNY 22 billion", "22 million", "14%")."""
    if kind in ("percent", "percentage_points"):
        return f"{_trim(value)}%" if kind == "percent" else f"{_trim(value)} percentage points"
    if kind == "multiple":
        return f"{_trim(value)}x"
    scale = scale_of(value)
    number = f"{_trim(value / 10.0 ** _EXPONENT[scale])} {scale}" if scale else _trim(value)
    if kind == "money":
        prefix = {"USD": "US$", None: ""}.get(currency, f"{currency} ")
        return f"{prefix}{number}"
    return f"{number} {unit}s" if kind == "duration" and unit else number


def scale_of(value: float) -> str | None:
    """The scale word a value is written with: "billion" for 2.8e9; None below a million."""
    return next((s for s in ("trillion", "billion", "million") if abs(value) >= 10.0 ** _EXPONENT[s]), None)


def _trim(x: float) -> str:
    return f"{x:,.2f}".rstrip("0").rstrip(".")


# --- reading -------------------------------------------------------------------------------------


def _word_value(m: re.Match[str]) -> Decimal:
    if m.group("dozen"):
        return Decimal(12)
    if m.group("small"):
        return Decimal(_SMALL[m.group("small").lower()])
    unit = m.group("unit")
    return Decimal(_TENS[m.group("tens").lower()] + (_SMALL[unit.lower()] if unit else 0))


def _read_trigger(text: str, pos: int, trigger: str) -> _Atom | None:
    """The figure a trigger word starts, if any: a number word, a band, a rank or a multiple."""
    if trigger == "number":
        if text[pos : pos + 5].lower() == "dozen":
            if text[max(0, pos - 2) : pos].lower() != "a ":
                return None
            pos -= 2
        m = _WORD_NUMBER.match(text, pos)
        return _read_word(text, m) if m and (pos == 0 or not text[pos - 1].isalnum()) else None
    if trigger == "ordinal":
        if m := _ORDINAL_WORD.match(text, pos):
            return _Atom(pos, m.end(), Decimal(_ORDINAL_WORDS[m.group("word").lower()]), kind="ordinal", whole=True)
        return None
    if trigger == "multiple":
        m = _MULTIPLE_WORD.match(text, pos)
        return _Atom(pos, m.end(), Decimal(str(_MULTIPLE_WORDS[m.group().lower()])), kind="multiple", whole=True) if m else None
    if m := _TENS_BAND.match(text, pos):
        tens, where = int(m.group("tens")), m.group("pos").lower()
        lo, hi = {"low": (0, 3), "mid": (4, 6), "high": (7, 9)}[where]
        return _Atom(pos, m.end(), Decimal(tens), kind="percent", low=float(tens + lo), high=float(tens + hi), qualifier=where, whole=True)
    if m := _DIGIT_BAND.match(text, pos):
        band, where = m.group("band").lower(), (m.group("pos") or "").lower()
        lo, hi = _DIGIT_BANDS[band, where]
        return _Atom(
            pos, m.end(), Decimal(lo), kind="percent", low=float(lo), high=float(hi), qualifier=f"{where} {band}-digit".strip(), whole=True
        )
    if (m := _GROUP_WORD.match(text, pos)) and (pos == 0 or not text[pos - 1].isalnum() and text[pos - 1] != "-"):
        return _Atom(pos, m.end(), Decimal(2 if m.group("word").lower() == "double" else 3), whole=True)
    return None


def _attach(text: str, atom: _Atom) -> None:
    """Extend `atom` over its scale, currency, percent/points/multiple sign and duration unit."""
    end = atom.end
    if sm := _SCALE.match(text, end):
        atom.scale = _SCALE_NAME[(sm.group("long") or sm.group("mid") or sm.group("short")).lower()]
        end = sm.end()
    if atom.currency is None and (cm := _CUR_SUFFIX.match(text, end)):
        atom.currency = cm.lastgroup
        end = cm.end()
    if atom.currency is None:
        if pm := _POINTS.match(text, end):
            atom.kind = "percentage_points"
            if pm.group("bp"):
                atom.num /= 100
            end = pm.end()
        elif pm := _PERCENT.match(text, end):
            atom.kind, end = "percent", pm.end()
        elif pm := _MULTIPLE.match(text, end):
            atom.kind, end = "multiple", pm.end()
        elif atom.scale is None and (dm := _DURATION.match(text, end)):
            unit = (dm.group("h") or dm.group("u")).lower()
            unit = _UNIT_NAME.get(unit, unit).removesuffix("s")
            atom.kind, atom.unit, end = "duration", unit, dm.end()
    atom.end = end


def _read_number(text: str, m: re.Match[str]) -> _Atom | None:
    pos = m.start()
    digits = _WELL_FORMED.match(m.group()).group()
    end = pos + len(digits)
    if (
        text[end : end + 1] in ("+", "/", ":")
        and end < len(text)
        or text[end : end + 1] in (".", ",")
        and text[end + 1 : end + 2].isdigit()
    ):
        return None  # "1+6+N", "24/7", "10:30", "1.2.3", "1,2"
    prev = text[pos - 1] if pos else ""
    if digits.isdigit() and "No" in text[max(0, pos - 5) : pos] and (rm := _RANK_NO.search(text, max(0, pos - 5), pos)):
        return _Atom(rm.start(), end, Decimal(digits), kind="ordinal", whole=True)
    if prev and (prev.isalnum() or prev in "_.,+/:") and text[max(0, pos - 3) : pos] not in _CODES_BEFORE:
        return None  # inside a word, a name or a bigger number: "A380", "Qwen2", "1+6+N", "24/7"
    if not _is_figure_position(text, pos, end, digits):
        return None
    if digits.isdigit() and (sm := _ORDINAL_SUFFIX.match(text, end)):
        return _Atom(pos, sm.end(), Decimal(digits), kind="ordinal", whole=True)
    atom = _Atom(pos, end, Decimal(digits.replace(",", "")))
    lead = text[pos - 2 : pos].rstrip()[-1:] if pos >= 2 else prev
    if lead and lead in _CURRENCY_ENDS and (cm := _CUR_PREFIX.search(text, max(0, pos - 8), pos)):
        atom.currency = _CURRENCY[re.sub(r"\s", "", cm.group("sym") or cm.group("code"))]
        atom.start = cm.start()
    elif pos >= 1 and text[pos - 1] in "-−":
        if pos >= 2 and text[pos - 2].isalpha():
            return None  # "COVID-19": the digits belong to a name
        # A sign, unless the dash joins two figures ("1%-4%", "3 - 5"): then it makes a range.
        before = text[max(0, pos - 12) : pos - 1].rstrip()[-1:]
        if not (before.isdigit() or before in ("%", "$")):
            atom.negative, atom.start = True, pos - 1
    _attach(text, atom)
    if atom.end < len(text) and (text[atom.end].isalnum() or text[atom.end] == "_"):
        return None  # "99PLUS", "5G", "2020s"
    if atom.currency or atom.scale or atom.kind:
        return atom
    if len(digits) == 4 and digits.isdigit() and 1900 <= int(digits) <= 2099:
        return None  # a year, found by find_periods
    atom.bare = True
    return atom


def _is_figure_position(text: str, pos: int, end: int, digits: str) -> bool:
    """False for digits that mark or name rather than count: a list's "2. ", "11.11", "Double 11"."""
    if digits == "11.11" or text[max(0, pos - 7) : pos].lower() == "double ":
        return False
    j = pos - 1 if pos and text[pos - 1] == "(" else pos
    while j > 0 and text[j - 1] in " \t":
        j -= 1
    at_line_start = j == 0 or text[j - 1] == "\n"
    return not (at_line_start and len(digits) <= 2 and (_LIST_MARKER.match(text, end) or j < pos and text.startswith(") ", end)))


def _read_word(text: str, m: re.Match[str]) -> _Atom | None:
    start, end = m.span()
    if start and text[start - 1] == "-" or text.startswith("-", end) and not _DURATION.match(text, end):
        return None  # "Three-Wave Plan", "two-thirds": parts of compounds, not counts
    atom = _Atom(start, end, _word_value(m))
    _attach(text, atom)
    if atom.scale or atom.currency or atom.kind:
        return atom
    # "one" is a pronoun or article far more often than a count ("one of two", "on one hand", "one
    # ultimate variable"), so alone it is never a figure; "one billion", "one percent" are.
    if m.group().lower() == "one":
        return None
    # Other number words count only when they quantify what follows ("two ferocious rivals", "two of
    # its ... businesses"); a number word closing a quoted name ("choose one of two") does not.
    return atom if _LOWER_WORD_AHEAD.match(text, end) else None


def _mergeable(a: _Atom, b: _Atom) -> bool:
    if a.whole or b.whole:
        return False
    for x, y in ((a.currency, b.currency), (a.kind, b.kind), (a.unit, b.unit)):
        if x is not None and y is not None and x != y:
            return False
    return not (a.scale and not b.scale)


def _assemble(text: str, atoms: list[_Atom]) -> list[Quantity]:
    out: list[Quantity] = []
    i = 0
    while i < len(atoms):
        a = atoms[i]
        b = atoms[i + 1] if i + 1 < len(atoms) else None
        if b is not None and _mergeable(a, b):
            gap = text[a.end : b.start]
            if _RANGE_GAP.fullmatch(gap) or _AND_GAP.fullmatch(gap) and _prev_word(text, a.start) == "between":
                out.append(_range(text, a, b))
                i += 2
                continue
        if not (a.bare and _names(text, a.start)):
            out.append(_single(text, a))
        i += 1
    return out


def _names(text: str, start: int) -> bool:
    """True when the word before `start` is a name that the number belongs to ("Battlefield 2", "Qwen 2.5")."""
    pw = _PREV_WORD.search(text, max(0, start - 30), start)
    return pw is not None and pw.group("w")[0].isupper() and pw.group("w").lower() not in _FUNCTION_WORDS


def _qualifier(text: str, start: int, ranged: bool) -> tuple[str | None, int]:
    if _prev_word(text, start) not in _QUALIFIER_ENDS and text[max(0, start - 2) : start].strip() not in ("~", "≈"):
        return None, start
    qm = _QUALIFIER_RE.search(text, max(0, start - 24), start)
    if qm is None:
        return None, start
    word = re.sub(r"\s+", " ", qm.group("q").lower())
    if word in ("from", "between"):
        if not ranged:
            return None, start
        if word == "between":
            return None, qm.start()
        if _RANGE_VERB.search(text, max(0, qm.start() - 10), qm.start()):
            return None, start  # "ranging from X to Y" is a plain range
        return "from", qm.start()
    return _QUALIFIER[word], qm.start()


def _kind(a: _Atom) -> str:
    return a.kind or ("money" if a.currency else "count")


def _count_unit(text: str, end: int) -> str | None:
    """The plural noun a count counts, from the few words after it ("six core business groups")."""
    m = _NEXT_WORDS.match(text, end)
    if m is None:
        return None
    for w in m.group().split():
        if w == "of":
            continue
        lw = w.lower()
        if w.islower() and len(w) > 3 and lw.endswith("s") and not lw.endswith(("ss", "us", "ous", "is", "ics")) and lw not in _NOT_NOUNS:
            return lw
    return None


def _single(text: str, a: _Atom) -> Quantity:
    kind = _kind(a)
    if a.low is not None:  # a band: its own words say how approximate it is
        return Quantity(text[a.start : a.end], a.start, a.end, kind, low=a.low, high=a.high, qualifier=a.qualifier)
    qualifier, start = (None, a.start) if kind == "ordinal" else _qualifier(text, a.start, ranged=False)
    scale = a.scale if kind in ("money", "count") else None
    unit = a.unit if kind == "duration" else _count_unit(text, a.end) if kind == "count" else None
    value = float(a.value(scale))
    return Quantity(text[start : a.end], start, a.end, kind, value=value, currency=a.currency, scale=scale, unit=unit, qualifier=qualifier)


def _range(text: str, a: _Atom, b: _Atom) -> Quantity:
    kind = b.kind or a.kind or ("money" if a.currency or b.currency else "count")
    scale_b = b.scale if kind in ("money", "count") else None
    scale_a = a.scale or scale_b if kind in ("money", "count") else None
    lo, hi = sorted((float(a.value(scale_a)), float(b.value(scale_b))))
    qualifier, start = _qualifier(text, a.start, ranged=True)
    unit = b.unit or a.unit if kind == "duration" else _count_unit(text, b.end) if kind == "count" else None
    return Quantity(
        text[start : b.end],
        start,
        b.end,
        kind,
        low=lo,
        high=hi,
        currency=a.currency or b.currency,
        scale=scale_b or scale_a,
        unit=unit,
        qualifier=qualifier,
    )
