"""Query analysis: the one place that reads a reader's question with patterns.

`Analyzer.analyze(question, history)` resolves a follow-up (`followup.py`) and builds a `Query` once:
the follow-up's own words and its borrowed context apart, the kind of answer asked for, the entities,
periods and figures named, an operation (difference, ratio, total, comparison, change, exchange rate,
elapsed time, order), the sections named, and a second part when one question asks two things.
Every later stage reads these fields, never the question's words. This module does not search,
answer or check figures.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

from .facts import FactTable, Mention
from .followup import Lexicon, referents, resolve_followup
from .quantity import Period, find_periods, find_quantities
from .resources import CASUAL_WORDS, PLACE_NAMES, SMALLTALK, STOPWORDS
from .text import CONTEXT_MARK, bm25_tokens
from .types import Quantity

SPELLED_CACHE = 4096  # the most typed words whose name is remembered (a memory bound, not a tuning knob)

# --- the kind of answer a question asks for -----------------------------------------------------

_METRIC_NOUNS = r"gmv|revenues?|profits?|income|earnings|sales|share|dau|fine|penalty|loss(?:es)?|growth|members|users|employees|staff|valuation|market cap\w*|capitali[sz]ation|price|cost|number|size|amount|total|discount|margin|parameters|headcount|worth"
# "growth engine", "price war", "share buyback": a metric noun modifying another noun names no figure.
_NOT_METRIC_HEADS = r"engines?|story|stories|strateg\w+|curves?|era|stocks?|models?|path|plans?|wars?|programs?|buybacks?|power|tactics?|mindshare|mindset"
_Q_FIGURE = re.compile(
    rf"\bhow (?:much|many|big|large|far|fast|high|low|long|deep|steep)\b|\bwhat (?:share|percentage|percent|proportion|portion|fraction|amount|number|size|figure|rate|value)\b"
    rf"|^(?:what|which)(?:'s|’s| is| was| were| are)\b[^?]*\b(?:{_METRIC_NOUNS})\b(?!-|\s+(?:{_NOT_METRIC_HEADS})\b)|\bhow .* (?:grow|grew|fall|fell|drop|shrink|shrank)\b"
    rf"|^(?:what|which)\s+(?:[\w-]+(?:'s|’s)\s+|(?:annual|quarterly|yearly|monthly|net|total|gross|average|operating|overall)\s+)?"
    rf"(?:valuation|revenues?|profits?|income|earnings|sales|losses|headcount|market cap\w*|net worth|prices?)\b(?!-|\s+(?:{_NOT_METRIC_HEADS})\b)",
    re.I,
)
_METRIC = re.compile(rf"\b(?:{_METRIC_NOUNS})\b", re.I)
# "When did ...?", "In what year ...?"; not "What did management admit when withdrawing ...?".
_Q_WHEN = re.compile(r"^(?:(?:and|so|but|then)\s+)?(?:since\s+|until\s+|by\s+)?when\b|\b(?:what|which)\s+(?:year|month|date|day|time)\b|\bhow long ago\b", re.I)
_Q_WHO = re.compile(r"\bwho(?:m|se)?\b|\bwhich (?:person|executive|founder|people)\b", re.I)
_Q_WHICH_NAMED = re.compile(r"\bwhich\s+(?:\w+\s+)?(?:agency|agencies|administration|government|regulators?|authorit(?:y|ies)|compan(?:y|ies)|firms?|banks?|funds?|investors?|executives?|persons?|people|countries|country|cit(?:y|ies)|universit(?:y|ies))\b", re.I)
_ONE_PERSON = re.compile(r"\b(?:CEO|chief executive|chairman|chairwoman|president|founder|head|heads|boss|runs|ran|leads|led|in charge)\b", re.I)
# "How did X take on Y?" asks for a manner; not "How does it compare ...?".
_Q_HOW = re.compile(r"^(?:(?:and|so|but|then)\s+)?how\s+(?:did|does|do|is|are|was|were|can|could|will|would|has|have|should)\b(?![^?]*\b(?:compare[sd]?|differ\w*|similar|stack up|rank)\b)", re.I)
_Q_WHY = re.compile(r"\bwhy\b|\bhow come\b|\bwhat (?:caused|led|drove|prompted|made)\b|\breasons?\b|\bmotivat", re.I)
_WH_START = re.compile(r"^(?:(?:and|so|but|then)\s+)?(?:who|whom|whose|what|when|where|why|how|which)\b", re.I)
_Q_META = re.compile(r"\b(?:title|headline|heading|section|chapter|years?|period|horizon|cover)\b", re.I)
_YES_NO = re.compile(r"^(?:so\s+)?(?:is|was|were|are|did|does|do|has|have|had|can|could)\b|\bright\s*\?$|\btrue\b", re.I)

_ASKS_TITLE = re.compile(
    r"\b(?:title|headline|called|named)\b[^?]*\b(?:article|piece|story|essay)\b|\b(?:article|piece)(?:'s)? (?:title|headline)\b"
    r"|\b(?:article|piece|story|essay)\b[^?]*\b(?:called|named|titled)\s*[?.!]*$"
    r"|\bthe headline\s*(?:[?.!]|$)|\bthe headline (?:say|says|call|calls|read|reads|use|uses)\b",
    re.I,
)
_ASKS_SUBTITLE = re.compile(r"\b(?:subtitle|sub-title|subheading|sub-heading|tagline|strapline|standfirst)\b|\bline (?:under|below) the (?:title|headline)\b", re.I)
_GIST_NOUN = r"(?:(?:main|central|key|core|overall|big)\s+(?:point|claim|argument|idea|message|thesis|takeaway|conclusion)s?|thesis|gist|summary|argument|takeaway)"
_DOCUMENT = r"(?:article|piece|essay|story|text|author|writer)"
_IN_ONE_LINE = r"(?:in|as)\s+(?:one|a single|a)\s+(?:line|sentence)"
_ASKS_GIST = re.compile(
    rf"\b{_DOCUMENT}\b(?:'s|’s)?\s+(?:(?:is\s+)?about|{_GIST_NOUN})(?:\s+{_IN_ONE_LINE})?\s*[?.!]*$"
    rf"|\b(?:{_GIST_NOUN}|tl;?dr)\b(?:\s+of)?\s+(?:the|this)\s+{_DOCUMENT}\b"
    rf"|\bwhat(?:'s|’s| is| does)\s+the\s+{_DOCUMENT}\s+(?:trying to say|arguing|argue|saying|claim)\b"
    rf"|^\s*(?:please\s+)?(?:summari[sz]e|sum up)\s+(?:(?:the|this)\s+{_DOCUMENT}\b|it\s*[?.!]*$)|^\s*sum it up\b|^\s*tl;?dr\b",
    re.I,
)
_ONE_LINE = re.compile(rf"\b{_IN_ONE_LINE}\b|\bone-liner\b", re.I)

# --- operations on figures ------------------------------------------------------------------------

# "X is (roughly) what share of Y", "X works out to what % of Y": X as a share of Y.
_IS_WHAT_SHARE = (r"(?:is|are|was|were|works? out to|makes? up|comes? to|amounts? to)\s+(?:roughly |about |approximately |even |at least )?"
                  r"(?:what (?:share|part|portion|fraction|proportion|percent(?:age)?|multiple)|what\s*%|half|a third|a quarter)")
_DIFFERENCE = re.compile(r"\bhow (?:much|many) (?:larger|bigger|more|less|smaller|higher|lower|greater)\b[^?]*\bthan\b|\b(?:difference|gap)\b|\bhow far\b[^?]*\b(?:ahead|behind)\b|\bby how (?:much|many) (?:points|percentage points)\b|\blead\b"
                         r"|\b(?:bigger|larger|more|less|smaller|higher|lower|greater|ahead|behind|short|beat|exceed)\w*\b[^?]*\bby how (?:much|many)\b|\bby (?:what|how big a|how much of a) margin\b|\bhow far short\b"
                         r"|\bhow (?:much|many(?: percentage)? points?)\b[^?]*\b(?:separate[sd]?|apart|deeper|steeper|(?:ahead|behind)(?! of (?:the|its|their|a|an)\b))\b", re.I)
_CHANGE = re.compile(r"\b(?:by how (?:much|many(?: percentage)? points?)|how (?:much|many(?: percentage)? points?))\b[^?]*\b(?:speed|sped|accelerat\w*|increas\w*|ris(?:e|es|en|ing)|rose|grow|grew|jump\w*|climb\w*|fall|fell|drop\w*|declin\w*|shr[iu]nk\w*|slow\w*|change\w*)\b", re.I)
# One end of a range ("29% to 45%"): "Acme's slowest growth", "the bottoms of the two ranges", "at the top end".
_NOT_OF_A_GAP = r"(?!\s+(?:gap|difference|margin|spread|distance|lead|separation|estimate)s?\b)"
_LOW_END = re.compile(r"(?<!\bat )\b(?:slowest|lowest|minimum|bottoms?|floors?|low(?:er)? ends?|start of (?:the|its|their) range)\b" + _NOT_OF_A_GAP, re.I)
_HIGH_END = re.compile(r"(?<!\bat )\b(?:fastest|highest|maximum|peak|tops?|ceilings?|high(?:er)? ends?|upper ends?)\b" + _NOT_OF_A_GAP, re.I)
# A gap asked as a percentage of the smaller figure ("By what percentage did A exceed B?", "how much
# bigger in percent"), not in percentage points nor as a share ("what percentage of").
_RELATIVE = re.compile(r"\b(?:what|how many) percent(?:age)?\b(?!\s+(?:of|points?)\b)|\bin percent(?:age)?(?: terms)?\b|(?:\bpercent(?:age)?|%)\s*(?:more|less|bigger|larger|higher|lower|smaller|greater)\b", re.I)
_MORE_WORDS = r"beat\w*|exceed\w*|ahead|outpac\w*|outstrip\w*|bigger|larger|higher|greater|more"
_RELATIVE_MORE = re.compile(rf"\b(?:{_MORE_WORDS})\b", re.I)
_RELATIVE_TO = re.compile(rf"\b(?:than|behind|trail\w*|{_MORE_WORDS})\b", re.I)
_RELATIVE_LESS = re.compile(r"\b(?:less|lower|smaller|fewer|behind|trail\w*)\b", re.I)
# Three or more names in a row, "A, B and C": what a total sums ("add up acme, globex and hooli gmv").
_LIST_JOIN = re.compile(r"^(?:['’]s)?\s*(?:,\s*(?:and\s+)?|and\s+|&\s*|\+\s*)$", re.I)
_EXCHANGE = re.compile(r"\bexchange rate\b|\b(?:yuan|cny|rmb) (?:to|per) (?:the |one |a )?(?:us )?(?:dollar|\$|usd)", re.I)
_IN_CURRENCY = re.compile(r"\b(?:in|into)\s+(?:us\s+|u\.s\.\s+|american\s+)?(?:dollars?|usd|us\$|\$|yuan|rmb|cny|renminbi)\b", re.I)
_TOTAL = re.compile(r"\b(?:combined|together|in total|total of|sum of|add(?:ed|ing)? up|altogether|plus(?! or minus))\b|\s\+\s", re.I)
_RATIO = re.compile(r"\b(?:what fraction|what proportion|what percent(?:age)? of|what multiple of|ratio|how many times)\b|\w\s+/\s+\w[^?]*=|\bas a (?:share|percentage|fraction|proportion) of\b"
                    rf"|\b{_IS_WHAT_SHARE}\s+of\b"
                    r"|(?<!first )(?<!second )(?<!last )(?<!latter )\b(?:half|a third|a quarter|twice|double|triple) (?:of|the size of|as (?:big|large|much))\b", re.I)
_COMPARE = re.compile(r"\b(?:which|who)\b[^?]*\b(?:bigger|larger|higher|more|greater|smaller|lower|less|faster|slower)\b|\bcompare|\bversus\b|\bvs\.?\s|\b(?:bigger|larger|higher|greater|smaller|lower|faster|slower)\b[^?]*\bthan\b"
                      r"|\b(?:more|less|fewer)\s+(?!than\b)[^?]*\bthan\b|\b(?:more|less|bigger|larger|higher|greater|smaller|lower|faster|slower|closer|better|worse)\b(?!\s+or\s+less\b)[^?]*\bor\b(?!\s+less\b)", re.I)
_RATE = frozenset({"percent", "percentage_points", "multiple"})
# What kind of figure a question asks for, where its words say so unmistakably; the first match decides.
# The words that ask come before the metric's ("How many members after it grew?" asks for a count).
_ASKED_KINDS = (
    (re.compile(r"\b(?:what|which|by what) (?:percent(?:age)?|share|proportion)\b|\bhow many (?:percentage )?points\b|\bhow many (?:percent(?:age)?|times|fold)\b|\bhow much off\b|\b(?:%|percent) off\b", re.I), _RATE),
    (re.compile(r"\bhow much money\b|\bhow many (?:(?:billion|million|trillion|thousand)s? (?:of )?)?(?:yuan|dollars|usd|rmb|euros?|pounds|yen)\b", re.I), frozenset({"money"})),
    (re.compile(r"\bhow much time\b|\bhow long\b", re.I), frozenset({"duration"})),
    (re.compile(r"\bhow many\b|\b(?:count|number of)\b", re.I), frozenset({"count", "duration", "ordinal"})),
    (re.compile(r"\b(?:grow|grew|growing|growth|how fast|share|rate|discount(?:ed|s)?|margin|price cuts?|cut prices|how steep)\b", re.I), _RATE),
    (re.compile(r"\b(?:cost|price|pay|paid|spend|spent|earn|raise|profit|revenue|income|earnings|sales|gmv|valuation|net worth|salary|fine|penalty|loss(?:es)?|losing)\b", re.I), frozenset({"money"})),
)
_ASKS_GROWTH = re.compile(r"\b(?:grow\w*|fast\w*|quick\w*|speed\w*|pace|rate|accelerat\w*|decelerat\w*|increas\w*|ris(?:e|es|ing)|rose|expan\w*|slow\w*|chang\w*|surg\w*|jump\w*|up|down|double\w*|triple\w*)\b", re.I)
_KIND_HINTS = (
    (re.compile(r"\bhow (?:many|long)\b", re.I), ("count", "duration")),
    (re.compile(r"\bhow (?:much|big|large)\b|\bcost|\bspen[dt]\b|\bpa(?:y|id)\b", re.I), ("money",)),
    (re.compile(r"\b(?:share|percent|percentage|proportion|rate|how fast|growth|discount)", re.I), ("percent",)),
)
_CURRENCY_HINTS = ((re.compile(r"\b(?:dollars?|usd|us\$)|\$", re.I), "USD"), (re.compile(r"\b(?:yuan|rmb|cny|renminbi)\b", re.I), "CNY"))
# "price per share"; not "per cent", "per se", "per capita", nor "per the article" (a function word follows).
_PER = re.compile(r"\bper\s+(?!(?:cent|se|capita)\b)(?!(?:" + "|".join(sorted(STOPWORDS)) + r")\b)[\w-]+", re.I)
_DOWN = re.compile(r"\b(?:slow\w*|decelerat\w*|fall\w*|fell|drop\w*|declin\w*|shr[iu]nk\w*|decreas\w*|cut|lower\w*|down|weaken\w*|los[te]\w*|plung\w*|plummet\w*)\b", re.I)
_UP = re.compile(r"\b(?:grow(?!th)\w*|grew|rise\w*|rose|ris(?:en|ing)|accelerat\w*|re-accelerat\w*|increas\w*|jump\w*|climb\w*|surg\w*|up|soar\w*|expand\w*)\b", re.I)
# "List every US-dollar amount", "what gmv numbers does the writer give", "which renminbi figures come up".
_LISTING = re.compile(r"(?:\blist\b[^?]*?|(?<!\bin )\b(?:all|every|each)\b(?! told)(?:\s+[\w'$-]+){0,3}?\s+)\b(?P<a>figures?|numbers?|amounts?|percentages?|stats|statistics|sums?)\b"
                      r"|\b(?:what|which)\s+(?:[\w'-]+\s+){0,3}?(?P<b>figures|numbers|amounts|percentages|stats|statistics|sums)\b", re.I)
_LISTED_KINDS = {"amount": "money", "sum": "money", "percentage": "percent"}
_TURN_DOWN = re.compile(r"\b(?:slow(?:s|ed|ing)?(?: down)?|decelerat\w*|fall(?:s|en|ing)?|fell|drop(?:s|ped|ping)?|declin\w*|shr[iu]nk\w*|plung\w*|plummet\w*|(?:went|gone|going|goes|go) down)\b", re.I)
_TURN_UP = re.compile(r"\b(?:accelerat\w*|re-accelerat\w*|jump(?:s|ed|ing)?|surg(?:e|es|ed|ing)|soar\w*|(?:went|gone|going|goes|go) up|pick(?:s|ed|ing)? (?:back )?up)\b", re.I)
_END_WORD = re.compile(r"\b(to|from)\s*$", re.I)  # the denominator of a rate ("price per share"), no metric of its own

# "How many months after E1 did E2?", "How long between E1 and E2?"
# The two sides of a two-figure question, tried in order: "between A and B", "A than B", "A or B",
# "A versus B", "A as a share of B", "A and B" (a total).
_SIDE_LEAD = re.compile(r"^(?:(?:so|and|but|ok|okay)\b[\s,]*)?(?:(?:what|who|how)(?:'s|’s|s)\s+|(?:which|what|who|how)\b[^,:;]*?(?:[,:;]|\b(?:is|are|was|were|did|does|do|has|have|had)\b)|(?:is|are|was|were|did|does|do|has|have|had)\b)[\s,:;]*", re.I)
_THAN = re.compile(r"^(?P<a>.+?)(?<!more )(?<!less )(?<!fewer )\bthan\b(?P<b>.+)$", re.I)  # "more than three" bounds a figure
_SUMMED = re.compile(r"\b(?:add(?:ed|ing)? up|sum|total|combined|altogether|(?<!pull )(?<!come )(?<!work )(?<!get )(?<!bring )together|plus)\b|\s\+\s", re.I)
_TIMES = re.compile(r"\bhow many times\b|\btimes (?:bigger|larger|more|higher|greater|faster|the size)\b|\b\d+(?:\.\d+)?\s*x\b|\?\s*x\b|\bmultiple of\b", re.I)
_TIMES_OF = re.compile(r"^(?:(?:so|and|roughly|about|approximately)\s+)*how many times (?:the size of |as (?:big|large|much) as |the )(?P<b>.+?)\s+(?:is|are|was|were|has|have|had|did|does)\s+(?P<a>.+)$", re.I)
_POINTING_SIDE = re.compile(r"^(?:that|this|it|those|these|them|that figure|that number|that amount|that one)$", re.I)
_POSSESSIVE = re.compile(r"\b(?:its|their)\b", re.I)
_COMPARED = re.compile(r"\bthan\b|\bbeats?\b|\bexceed\w*|\bvs\b|\bversus\b", re.I)
_SIDE_PATTERNS = (
    re.compile(r"\bbetween\s+(?P<a>.+?)\s+and\s+(?P<b>.+)$", re.I),
    _THAN,
    re.compile(r"^(?P<a>.+?)\s+(?:or|vs\.?|versus|compared (?:with|to)|against)\s+(?P<b>.+)$", re.I),
    re.compile(r"^(?P<a>.+?)\s+/\s+(?P<b>.+?)\s*=.*$"),  # "A / B = ?" ("Acme / Hooli" alone is "or")
    re.compile(rf"^(?P<a>[^,;:]+?)\s+(?:{_IS_WHAT_SHARE}|as a (?:share|percentage|fraction|proportion)|(?:even |at least |roughly |about )?(?<!first )(?<!second )(?<!last )(?<!latter )(?:half|a third|a quarter))\s+of\s+(?P<b>.+)$", re.I),
    re.compile(r"^(?:add(?:ed|ing)? up|sum of|total of)?\s*(?P<a>.+?)\s+(?:and|\+|plus)\s+(?P<b>.+?)(?:\s+(?:combined|together|put together|altogether|in total))?(?:\s*[:,;].*)?$", re.I),
)
_ELAPSED = re.compile(r"^\s*how (?:long|much time|many (?P<unit>days|weeks|months|years))\b\s*(?P<rest>.*?)\s*\?*\s*$", re.I)
_BETWEEN = re.compile(r"^(?:[\w' ]*?\b(?:passed|elapsed|went by|were there|are there|lay|lie|was it|is it) )?(?:between|separated?|separating) (?P<a>.+?) (?:and|from) (?P<b>.+)$"
                      r"|^(?:[\w' ]*?\b(?:passed|elapsed|went by|take|took|was it|is it) )?from (?P<a2>.+?) (?:to|until|till) (?P<b2>.+)$", re.I)
_AFTER = re.compile(r"^(?P<rel>after|before) (?P<rest>.+)$", re.I)
_DO = re.compile(r"\b(?:did|does|do)\b", re.I)
_BE = re.compile(r"\b(?:was|were|is|are|had|has)\b", re.I)
_FIRST = re.compile(r"^\s*(?:which|what)\s+(?:came|happened|comes|happens|was)\s+(?:first|earlier)\s*[,:;]?\s*(?P<a>.+?)\s*,?\s+or\s+(?P<b>.+?)\s*\?*\s*$", re.I)
_BEFORE_OR_AFTER = re.compile(r"^\s*(?:did|was|were|is|has|had)\s+(?P<a>.+?)\s+(?:(?:happen|come|occur|take place)\s+)?before\s+or\s+after\s+(?P<b>.+?)\s*\?*\s*$", re.I)
# "<question>, and (in) <wh-question>" or "<question>? <question>": two questions in one.
_TWO_PARTS = re.compile(r"^(.{8,}?)[,;]?\s+and\s+((?:(?:in|on|at|by|for|from|to|with|since|until)\s+)?(?:how|what|which|who|whom|when|why|where)\b.{6,})$", re.I)
_TWO_QUESTIONS = re.compile(r"^(.{8,}?)\?\s+((?:(?:and|but|also|so|then)\s+)?(?:how|what|which|who|whom|when|why|where|is|was|are|were|did|does|do|has|have|had|can|could)\b.{4,})$", re.I)
_ROLE = re.compile(r"\b(?:CEO|chief executive|chairman|chairwoman|president)\b", re.I)
_NAMEISH = re.compile(r"\b[A-Z][\w&-]*(?:\.[A-Za-z]+)*\b")
_SENTENCE_START = re.compile(r"(?:^|(?<!\bvs)(?<!\be\.g)(?<!\bi\.e)[.?!]\s+)[\"'“‘(]?$")
_CASUAL = re.compile(r"(?<![\w'’+-])(?:" + "|".join(re.escape(w) for w in sorted(CASUAL_WORDS, key=len, reverse=True)) + r")(?![\w'’.-])", re.I)
_SHORT_YEAR = re.compile(r"\b(in|since|until|till|during) '?([0-3]\d)\b(?![.,]\d)(?!-)(?!,\s*or\b)(?!\s*(?:%|[A-Za-z$€£¥]))", re.I)
_SPELLABLE = re.compile(r"(?<![\w'’-])[A-Za-z]{3,}(?![\w-])")
_PERIODISH = re.compile(r"(?:FY|H|Q)\d{1,4}|FY", re.I)
_SMALLTALK_LEAD = re.compile(r"^\W*(?:thanks|thank you|thx|ok(?:ay)?|cool|great|nice|hi|hello|hey)\b(?:\s+(?:so much|a lot|you|there))?[\s,!.;:-]+(?:and\s+|so\s+|now\s+)?(?=\w)", re.I)
_SMALLTALK = {kind: re.compile(rf"^\W*(?:{'|'.join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))})(?:\s+(?:you|bot|so much|again|there|all))*\W*$", re.I)
              for kind, phrases in SMALLTALK.items()}


@dataclass(frozen=True)
class Query:
    """A question as every later stage reads it; built once by `Analyzer.analyze`."""

    asked: str  # what the reader typed, cleaned
    text: str  # what is searched: the follow-up's own words, then what it borrows
    own: str  # the follow-up's own words (the whole question when it borrows nothing)
    borrowed: str = ""  # the earlier question a follow-up leans on, when it could not be rewritten whole
    standalone: str = ""  # the question as a reader would write it alone (shown as "Searched as")
    kind: str = "what"  # figure, when, who, why, how, what
    wants_name: bool = False  # who / which-company questions: the answer must name someone
    wants_person: bool = False  # "Who runs ...?": one person, not a group or a company
    wants_date: bool = False
    yes_no: bool = False
    meta: bool = False  # asks about headings, periods, sections
    gist: bool = False
    title: bool = False
    subtitle: bool = False
    one_line: bool = False
    smalltalk: str = ""  # greeting, thanks, bye, ack
    operation: str = ""  # difference, ratio, total, compare, change, exchange, convert, elapsed, order
    events: tuple[str, str] | None = None  # the two events of an elapsed/order question; the two sides of a two-figure one
    frame: str = ""  # a two-figure question's words outside its two sides ("How many more users does A have than B": "users" for both)
    unit: str = ""  # the unit an elapsed question asks in; "times" for a ratio asked as a multiple ("how many times bigger")
    end: str = ""  # the end of a range the question asks for: "low" ("Acme's slowest growth"), "high" or ""
    side_ends: tuple[str, str] = ("", "")  # the end each side asks for, else the question's
    listed: tuple[str, ...] = ()  # three or more entities named as a list ("A, B and C"): what a total sums
    mentions: tuple[Mention, ...] = ()  # fact-table entities named
    names: tuple[str, ...] = ()  # corpus names in the question
    unknown_names: tuple[str, ...] = ()  # capitalised words no document uses
    known: float = 1.0  # the share of the question's own content words that some document uses
    persons: tuple[str, ...] = ()
    words: frozenset[str] = frozenset()  # the question's words, lower-cased
    topic: str = ""  # the follow-up's own words without the names in them: what it asks about them
    role: str = ""  # CEO, chairman, ... named in the question
    periods: tuple[Period, ...] = ()
    figures: tuple[Quantity, ...] = ()  # figures the question itself states
    metric_terms: frozenset[str] = frozenset()
    figure_kinds: frozenset[str] = frozenset()  # figure kinds the words ask for unmistakably
    kind_hints: frozenset[str] = frozenset()
    currency: str = ""
    growth: bool = False
    direction: str = ""  # "up" or "down" when the question says a figure rose or fell
    turn: str = ""  # "up" or "down" when it says a figure turned that way (`turn_of`)
    listing: frozenset[str] | None = None  # asks for every figure of a sort ("every US-dollar amount"): the kinds named, maybe none
    figure_roles: tuple[str, ...] = ()  # per figure of the question: "to", "from" or "" (the word before it)
    than_at: int = -1  # where " than " stands in `text`
    per: str = ""  # the unit a figure is asked per ("share" for "price per share")
    undated: str = ""  # the question without the one year or month it names ("Why did X happen?" for "... in 2022?")
    sections: tuple[tuple[str, int, int], ...] = ()  # (doc_id, start, end) of sections named
    doc_ids: tuple[str, ...] | None = None
    parts: tuple[Query, ...] = ()
    followup: bool = False
    previous: str = ""  # a follow-up's previous question, as searched
    answers: tuple[str, ...] = ()  # a follow-up's last two answers, the last first: their figures are what its "that" may be

    @property
    def is_figure(self) -> bool:
        return self.kind == "figure"

    def stated_per(self, text: str) -> bool:
        """Whether `text` states a figure per the unit the question asks per ("per share", "a share",
        "quarterly" for "per quarter"); True when it asks per nothing."""
        if not self.per:
            return True
        unit = re.escape(self.per)
        forms = rf"\b(?:per|a|an|each|every)\s+{unit}\b|\b{unit}ly\b" + (r"|\bannual(?:ly)?\b" if self.per == "year" else "")
        return re.search(forms, text, re.I) is not None

    @property
    def answer_kinds(self) -> frozenset[str]:
        """The figure kinds an answer may state: those the words ask for, and those they hint at."""
        return self.figure_kinds | self.kind_hints


@dataclass
class Analyzer:
    """Builds `Query`s for one corpus: its names (`Lexicon`), fact table and section names."""

    lexicon: Lexicon
    table: FactTable
    sections: dict[str, list[tuple[str, int, int]]] = field(default_factory=dict)  # lower-cased short title -> spans
    vocabulary: object = None  # a callable term -> bool: does any document use this stemmed word
    documents: dict[str, str] = field(default_factory=dict)  # doc_id -> lower-cased text, for scoping by names
    words: Callable[[], frozenset[str]] = frozenset  # the language's ordinary words (`embedding.whole_words`), read when first needed
    _section_pattern: re.Pattern[str] | None = field(init=False, default=None)
    _naming: dict[str, frozenset[str]] = field(init=False, default_factory=dict)
    _spelled: dict[str, str | None] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        if self.sections:
            alternation = "|".join(re.escape(k) for k in sorted(self.sections, key=len, reverse=True))
            self._section_pattern = re.compile(rf"\b(?:{alternation})\b")

    def readings(self, question: str, history: Sequence[tuple[str, str]] = ()) -> list[Query]:
        """The Query for each thing a follow-up's "it" may stand for (`followup.referents`); [] when it has no such pronoun."""
        turns = [(_searched(q), a) for q, a in history if not _smalltalk(q)]
        if _SMALLTALK_LEAD.match(question) or _smalltalk(question):
            return []
        spelled = self._respell(question)
        return [self.analyze(question, history, referent=r) for r in referents(spelled, turns, self.lexicon)]

    def analyze(self, question: str, history: Sequence[tuple[str, str]] = (), referent: str | None = None) -> Query:
        """The Query for a cleaned question; `history` holds (standalone question, answer text) pairs, oldest
        first; `referent` is what a follow-up's "it" stands for (one of `readings`), else the rules decide."""
        lead = _SMALLTALK_LEAD.match(question)
        if lead and len(question[lead.end():].split()) >= 3:  # "Thanks, and how big was the fine?": the question after the courtesy
            rest = question[lead.end():]
            return replace(self.analyze(rest[0].upper() + rest[1:], history), asked=question)
        if kind := _smalltalk(question):  # "Hello!" mid-conversation is still a greeting, not a follow-up
            return Query(asked=question, text=question, own=question, standalone=question, smalltalk=kind)
        turns = [(_searched(q), a) for q, a in history if not _smalltalk(q)]  # "Thanks!" is nothing to follow up on
        spelled = self._respell(question)
        resolved = resolve_followup(spelled, turns, self.lexicon, referent)
        own, _, borrowed = resolved.partition(CONTEXT_MARK)
        borrowed = borrowed.rstrip("?").strip()
        q = self._build(question, resolved, own.strip(), borrowed, followup=resolved != spelled)
        scope = self._scope(q.names)
        if scope is None and q.followup and turns:  # a follow-up keeps the document of the turn before
            scope = self._scope(tuple(n for _, _, n in self.lexicon.find(turns[-1][0])))
        q = replace(q, doc_ids=scope)
        if q.followup and turns:
            # the last answer, then the one before ("combined?" after two figures asked in turn)
            q = replace(q, previous=turns[-1][0], answers=tuple(a or "" for _, a in reversed(turns[-2:])))
        two = (_TWO_PARTS.match(resolved) or _TWO_QUESTIONS.match(resolved)) if not borrowed else None
        if two is not None and (not bm25_tokens(two.group(2)) or len(_WORDS.findall(two.group(1))) < 2):
            two = None  # "..., and what are they?" asks no more than the first part's passage gives
        if two is not None:
            first = two.group(1).strip(" ,;:?") + "?"
            rest = two.group(2)[0].upper() + two.group(2)[1:]
            second = resolve_followup(rest, [(first, "")], self.lexicon)
            a, b = self._build(first, first, first, ""), self._build(rest, second, second.partition(CONTEXT_MARK)[0], "")
            if a.is_figure and b.is_figure:
                names = self.lexicon.find(second)
                if len(names) == 1 and not _METRIC.search(second):
                    # "... and how many did X have?": the first part's question about X
                    swapped = resolve_followup(f"And {names[0][2]}?", [(first, "")], self.lexicon)
                    b = replace(self._build(rest, swapped, swapped, ""), asked=rest)
            q = replace(q, parts=(a, b))
        return q

    def _own_sides(self, sides: tuple[str, str]) -> tuple[str, str]:
        """ "its" or "their" on the second side is the first side's entity ("Is X's AI revenue growing
        faster than its revenue overall?": X's revenue); a side naming only an entity takes the other's metric words."""
        a, b = sides
        named = self.table.entities_in(a)
        if named:
            b = _POSSESSIVE.sub(f"{named[0].entity}'s", b)
        # A side that is only a name ("Hooli's") asks the other side's figure of it: "Hooli's share".
        bare_a, bare_b = (self._unnamed(x) for x in (a, b))
        if a and b and not bm25_tokens(bare_b) and bm25_tokens(bare_a):
            b = f"{b} {bare_a}"
        elif a and b and not bm25_tokens(bare_a) and bm25_tokens(bare_b):
            a = f"{a} {bare_b}"
        return a, b

    def _unnamed(self, text: str) -> str:
        """`text` without the fact-table entities it names, nor their possessives."""
        return " ".join(_without(text, self.table.entities_in(text), possessive=True).split())

    def _build(self, asked: str, resolved: str, own: str, borrowed: str, followup: bool = False) -> Query:
        text = f"{own} {borrowed}".strip() if borrowed else resolved
        typed = own if _WH_START.match(own) else text  # a follow-up's own words decide its kind when they are a question
        kind = _kind(typed)
        mentions = tuple(self.table.entities_in(text))
        bare = _without(text, mentions)
        periods = tuple(find_periods(text))
        names = tuple(dict.fromkeys(n for _, _, n in self.lexicon.find(text)))
        operation, events, unit, frame = _operation(text, kind, len({m.entity for m in mentions}))
        if not operation and followup and asked != text:  # a rewrite may drop what the reader typed ("so pdd ahead by how many")
            operation, events, unit, frame = _operation(asked, _kind(asked), len({m.entity for m in mentions}))
        if events and operation in ("difference", "total", "ratio", "compare"):
            events = self._own_sides(events)
        standalone = resolved if not borrowed else f"{own.rstrip('?')}{_AFTER_OPEN}{borrowed}?)"
        figures = tuple(find_quantities(text, list(periods)))
        end = _range_end(own)
        return Query(
            asked=asked, text=text, own=own, borrowed=borrowed, standalone=standalone, kind=kind,
            wants_name=bool(_Q_WHO.search(own) or _Q_WHICH_NAMED.search(own)), wants_person=bool(_ONE_PERSON.search(text)),
            wants_date=bool(_Q_WHEN.search(own)), yes_no=bool(_YES_NO.search(own.strip())),
            meta=bool(_Q_META.search(text)),
            gist=bool(_ASKS_GIST.search(own)), title=bool(_ASKS_TITLE.search(own)), subtitle=bool(_ASKS_SUBTITLE.search(own)), one_line=bool(_ONE_LINE.search(own)),
            operation=operation, events=events, frame=frame, unit=unit, end=end,
            side_ends=tuple(_range_end(e) or end for e in events) if events else ("", ""),
            listed=_listed(text, mentions),
            mentions=mentions, names=names, unknown_names=tuple(self._unknown(asked)), known=self._known(own),
            persons=tuple(n for n in names if n in self.lexicon.persons),
            words=frozenset(w.lower() for w in _WORDS.findall(text)), topic=_without_names(own, self.lexicon),
            role=(m.group() if (m := _ROLE.search(text)) else ""),
            periods=periods, figures=figures,
            figure_roles=tuple((m.group(1).lower() if (m := _END_WORD.search(text[max(0, f.start - 8):f.start])) else "") for f in figures),
            undated=_undated(text, periods),
            direction=direction_of(own), turn=turn_of(own), listing=_listing(own), than_at=text.lower().find(" than "),
            metric_terms=self.table.terms(_PER.sub(" ", bare)),
            figure_kinds=_figure_kinds(_PER.sub(" ", text)), kind_hints=frozenset(k for p, ks in _KIND_HINTS if p.search(text) for k in ks),
            currency=next((c for p, c in _CURRENCY_HINTS if p.search(text)), ""), growth=bool(_ASKS_GROWTH.search(text)),
            sections=tuple(self._sections_named(text)), followup=followup,
            per=(m.group().split()[-1].lower() if (m := _PER.search(text)) else ""),
        )  # fmt: skip

    def _scope(self, names: tuple[str, ...]) -> tuple[str, ...] | None:
        """The documents a question is about: those naming every name it uses that not all documents use
        (None: all of them)."""
        if len(self.documents) < 2:
            return None
        scope = set(self.documents)
        for name in names:
            having = self._documents_naming(name)
            if having and having != set(self.documents):
                scope &= having
        return tuple(sorted(scope)) if scope and scope != set(self.documents) else None

    def _documents_naming(self, name: str) -> frozenset[str]:
        """The documents whose text uses a name (computed once per name)."""
        found = self._naming.get(name)
        if found is None:
            pattern = re.compile(rf"(?<![\w]){re.escape(name.lower())}(?![\w])")
            found = self._naming[name] = frozenset(d for d, text in self.documents.items() if pattern.search(text))
        return found

    def _sections_named(self, text: str) -> list[tuple[str, int, int]]:
        if self._section_pattern is None:
            return []
        q = re.sub(r"\bintro\b", "introduction", " ".join(text.lower().replace("’", "'").split()))
        return [span for m in self._section_pattern.finditer(q) for span in self.sections[m.group()]]

    def _known(self, text: str) -> float:

        terms = set(bm25_tokens(text))
        if self.vocabulary is None or not terms:
            return 1.0
        return sum(1 for t in terms if self.vocabulary(t)) / len(terms)

    def _unknown(self, question: str) -> list[str]:
        """Names in the question that no document mentions: the articles cannot answer about them."""

        if self.vocabulary is None:
            return []
        out = []
        periods = [(p.start, p.end) for p in find_periods(question)]
        for m in _NAMEISH.finditer(question):
            word = m.group()
            if any(s <= m.start() < e for s, e in periods) or _PERIODISH.fullmatch(word) or find_quantities(word):
                continue  # a date or a figure ("CNY0", "USD5") is no name
            if _SENTENCE_START.search(question[: m.start()]) and "." not in word and not any(c.isupper() for c in word[1:]):
                continue  # a capitalised first word is just the start of the question, or of one of its sentences
            if self.lexicon.find(word) or self._place_known(word):
                continue
            stems = bm25_tokens(word) + (bm25_tokens(word[:-1]) if word.endswith("s") and len(word) > 2 else [])  # "GMVs"
            if stems and not any(self.vocabulary(t) for t in stems) and self._name_meant(word) is None:
                out.append(word)
        return out

    def _place_known(self, word: str) -> bool:
        """Whether a country's adjective or capital stands for a country some document names ("American": "U.S.")."""

        for names in PLACE_NAMES:
            if word in names:
                return self.vocabulary is not None and any(tokens and all(self.vocabulary(t) for t in tokens)  # "United States": both words
                                                           for n in names if n != word for tokens in [bm25_tokens(n)])
        return False

    def _respell(self, text: str) -> str:
        """The question with each word no document uses that stands for a corpus name ("glob's", "Globx")
        written as that name."""
        # A capital letter alone is a name ("Plan U", "1+6+N"), not chat shorthand.
        text = _CASUAL.sub(lambda m: m.group() if len(m.group()) == 1 and m.group().isupper() else _keep_case(m.group(), CASUAL_WORDS[m.group().lower()]), text)
        text = _SHORT_YEAR.sub(lambda m: f"{m.group(1)} 20{m.group(2)}", text)  # "in 21" is 2021
        return _SPELLABLE.sub(lambda m: self._name_meant(m.group()) or m.group(), text)

    @cached_property
    def _ordinary(self) -> frozenset[str]:
        return self.words()

    def _name_meant(self, word: str) -> str | None:
        """The name a word the corpus does not use stands for (`Lexicon.closest`), or None."""

        key = word.lower()
        if key not in self._spelled:
            if len(self._spelled) >= SPELLED_CACHE:  # words readers type are unbounded: keep the cache small
                self._spelled.clear()
            stems = bm25_tokens(key)
            unused = self.vocabulary is not None and bool(stems) and not any(self.vocabulary(t) for t in stems)
            # "small" is no slip of a name that differs by a letter, "ten" no short form
            self._spelled[key] = self.lexicon.closest(word) if unused and key not in self._ordinary else None
        return self._spelled[key]


_WORDS = re.compile(r"[A-Za-z0-9&'’-]+")


def _without_names(text: str, lexicon: Lexicon) -> str:
    for start, end, _ in reversed(lexicon.find(text)):
        text = text[:start] + " " + text[end:]
    return " ".join(text.split())


_AFTER_OPEN = " (after: "


def _searched(standalone: str) -> str:
    """A standalone question as shown ("own words (after: earlier question?)") in the form follow-up resolution reads."""
    own, sep, rest = standalone.partition(_AFTER_OPEN)
    return f"{own}?{CONTEXT_MARK}{rest.removesuffix(')')}" if sep and standalone.endswith(")") else standalone


def _undated(text: str, periods: tuple[Period, ...]) -> str:
    simple = [p for p in periods if p.end_year is None and p.quarter is None and not p.open_ended]
    if len(simple) != 1:
        return ""
    p = simple[0]
    event = " ".join((text[: p.start] + text[p.end :]).replace(" in ?", "?").split())
    return re.sub(r"\b(?:in|during|by)\s*(?=[?.!]|$)", "", event).strip()


def _kind(question: str) -> str:
    for name, pattern in (("why", _Q_WHY), ("when", _Q_WHEN), ("who", _Q_WHO), ("figure", _Q_FIGURE), ("how", _Q_HOW)):
        if pattern.search(question):
            return name
    return "what"


def _figure_kinds(text: str) -> frozenset[str]:
    for pattern, kinds in _ASKED_KINDS:
        if pattern.search(text):
            return kinds
    return frozenset()


def _listing(text: str) -> frozenset[str] | None:
    """The figure kinds a question asking for every figure of a sort names (an empty set: none), or None."""
    m = _LISTING.search(text)
    if m is None:
        return None
    word = (m.group("a") or m.group("b")).lower().rstrip("s")
    return frozenset({_LISTED_KINDS[word]}) if word in _LISTED_KINDS else frozenset()


def direction_of(text: str) -> str:
    """ "up" or "down" when a text says a figure rose or fell (and not both), else ""."""
    down, up = bool(_DOWN.search(text)), bool(_UP.search(text))
    return "down" if down and not up else "up" if up and not down else ""


def turn_of(text: str) -> str:
    """ "up" or "down" when a text says a figure turned that way ("slowed", "re-accelerated", "went up";
    not "growing", which is a rate's level), else ""."""
    down, up = bool(_TURN_DOWN.search(text)), bool(_TURN_UP.search(text))
    return "down" if down and not up else "up" if up and not down else ""


def _without(text: str, mentions: Sequence[Mention], possessive: bool = False) -> str:
    """`text` with each of `mentions` (and, with `possessive`, its "'s") blanked out."""
    for m in reversed(mentions):
        end = m.end + 2 if possessive and text[m.end : m.end + 2] in ("'s", "’s") else m.end
        text = text[: m.start] + " " + text[end:]
    return text


def _listed(text: str, mentions: tuple[Mention, ...]) -> tuple[str, ...]:
    """The entities of the longest run of three or more names written as a list ("A, B and C"), else ()."""
    best: list[str] = []
    run: list[Mention] = []
    for m in sorted(mentions, key=lambda m: m.start):
        if run and not _LIST_JOIN.match(text[run[-1].end : m.start]):
            run = []
        run.append(m)
        if len(run) > len(best):
            best = [r.entity for r in run]
    best = list(dict.fromkeys(best))
    return tuple(best) if len(best) >= 3 else ()


def _range_end(text: str) -> str:
    """ "low" or "high" when a text asks for one end of a range ("the slowest", "the top end"), else ""."""
    low, high = bool(_LOW_END.search(text)), bool(_HIGH_END.search(text))
    return "low" if low and not high else "high" if high and not low else ""


def _keep_case(typed: str, meant: str) -> str:
    """`meant` capitalised as `typed` was ("Whats" -> "What's")."""
    return meant[0].upper() + meant[1:] if typed[:1].isupper() else meant


def _smalltalk(text: str) -> str:
    return next((kind for kind, pattern in _SMALLTALK.items() if pattern.match(text)), "")


def _operation(text: str, kind: str, mentions: int = 0) -> tuple[str, tuple[str, str] | None, str, str]:
    """The arithmetic or ordering a question asks for; its two events or sides when it names them; the unit
    an elapsed time is asked in; a two-figure question's words around its sides."""
    if m := _ELAPSED.match(text):
        events = _elapsed_events(m)
        if events:
            return "elapsed", events[:2], events[2], ""
    if m := (_FIRST.match(text) or _BEFORE_OR_AFTER.match(text)):
        return ("first" if m.re is _FIRST else "order"), (m.group("a").strip(" ,"), m.group("b").strip(" ,")), "", ""
    if kind not in ("figure", "how", "what"):  # "Who will lead ...?" is no arithmetic, but "Who had more X, A or B?" compares
        return ("compare", None, "", "") if kind == "who" and mentions > 1 and _COMPARE.search(text) else ("", None, "", "")
    if _TOTAL.search(text):
        return _with_sides("total", text)
    if mentions <= 1 and _CHANGE.search(text):  # "By how many points did X's growth speed up?": one figure's change
        return "change", None, "", ""
    if _RELATIVE.search(text) and _RELATIVE_TO.search(text):
        operation, sides, _, frame = _with_sides("difference", text)
        less = bool(_RELATIVE_LESS.search(text)) and not _RELATIVE_MORE.search(text)
        return operation, sides, "percent less" if less else "percent", frame
    for name, pattern in (("ratio", _RATIO), ("difference", _DIFFERENCE), ("compare", _COMPARE), ("change", _CHANGE), ("exchange", _EXCHANGE)):
        if pattern.search(text):
            return _with_sides(name, text) if name != "exchange" else (name, None, "", "")
    if _IN_CURRENCY.search(text):
        return "convert", None, "", ""
    return "", None, "", ""


def _with_sides(operation: str, text: str) -> tuple[str, tuple[str, str] | None, str, str]:
    sides = _sides(text, operation)
    unit = "times" if operation == "ratio" and _TIMES.search(text) else ""  # a ratio asked as a multiple
    return (operation, sides[:2], unit, sides[2]) if sides else (operation, None, unit, "")


def _sides(text: str, operation: str) -> tuple[str, str, str] | None:
    """The two things a two-figure question relates, as it words them, and the words around them ("the
    fine", "the buyout" and "How much bigger was" of "How much bigger was the fine than the buyout?");
    None when it words no clear pair (or three, "than Y and Z combined")."""
    text = text.strip().rstrip("?. ")
    if m := _TIMES_OF.match(text):  # "How many times the size of B is A?": A over B
        return m.group("a").strip(" ,"), m.group("b").strip(" ,"), ""
    lead = _SIDE_LEAD.match(text)
    head, body = (text[: lead.end()], text[lead.end() :]) if lead else ("", text)
    for pattern in _SIDE_PATTERNS:
        m = pattern.search(body)
        if m is None:
            continue
        a, b = (g.strip(" ,:;-—") for g in m.group("a", "b"))
        if operation == "total" and (pattern is not _SIDE_PATTERNS[0] and _COMPARED.search(body) or "," in a or not _SUMMED.search(body)):
            return None  # "Is X bigger than Y and Z combined?" or "add up X, Y and Z" relate three; "pull together" sums nothing
        a, b = ("" if _POINTING_SIDE.match(x) else x for x in (a, b))  # "that" alone: the figure the last answer gave
        if (a or b) and all(bm25_tokens(x) for x in (a, b) if x):
            frame = " ".join(f"{head} {body[: m.start()]} {body[m.end() :]}".split())  # without the words that join the sides
            return a, b, frame
    return None


def _elapsed_events(m: re.Match[str]) -> tuple[str, str, str] | None:
    unit = (m.group("unit") or "months").lower().rstrip("s")
    rest = m.group("rest")
    if b := _BETWEEN.match(rest):
        return b.group("a") or b.group("a2"), b.group("b") or b.group("b2"), unit
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
