"""Drafts: what an answer says, before any words are written.

A skill or the extractive reader returns a `Draft`: the kind of answer, the sentences it quotes (by
sentence id), the fact rows it rests on, the figures it computed with their inputs, and notes. Only
`render.py` turns a draft into text with `[n]` markers; nothing edits rendered text.
"""

from __future__ import annotations

from dataclasses import dataclass

from .quantity import Period
from .types import Fact, Quantity

# Draft kinds, and the Answer.kind each renders as.
KINDS = {
    "quote": "quote", "figure": "figure", "computed": "computed", "compare": "figure", "order": "computed",
    "correction": "correction", "confirm": "correction", "periods": "refusal", "refusal": "refusal",
    "gist": "gist", "title": "title", "subtitle": "title", "smalltalk": "smalltalk", "parts": "quote", "llm": "llm",
}  # fmt: skip


@dataclass(frozen=True)
class Dated:
    """An event's dating: the sentence holding the date, the event's own sentence (may be the same), the date."""

    date_sid: int
    event_sid: int
    period: Period


@dataclass(frozen=True)
class Computed:
    """A figure computed from the article: the operation, the value, and what it was computed from."""

    op: str  # difference, relative (a difference as a share of the smaller), total, ratio, change, exchange, elapsed
    value: Quantity
    rows: tuple[Fact, ...] = ()  # the fact rows it was computed from
    dates: tuple[Dated, ...] = ()  # for elapsed time: the two dated events
    direction: str = ""  # "up" or "down" for a change
    approximate: bool = False
    between: tuple[str, ...] = ()  # the entities a difference or total is about
    gap: Quantity | None = None  # for a relative difference, the difference itself


@dataclass(frozen=True)
class Draft:
    """What an answer says; see the module docstring."""

    kind: str
    sids: tuple[int, ...] = ()  # quoted sentences, in the order they are quoted
    scores: tuple[float, ...] = ()  # the ranker's probability for each quoted sentence (1.0 when a skill chose it)
    rows: tuple[Fact, ...] = ()
    computed: Computed | None = None
    events: tuple[tuple[str, Dated], ...] = ()  # (the event as the question names it, its dating) for order questions
    first: bool = False  # an order question asked "which came first"
    names: tuple[str, ...] = ()  # the people the article names, for a role correction
    wrong: str = ""  # what a correction corrects (a person, a date)
    period: Period | None = None  # the date a date correction gives
    reason: str = ""  # for refusals: none, figure, who, which, when, unknown, period
    subject: str = ""  # what a refusal names (unknown names, the period asked)
    smalltalk: str = ""
    parts: tuple[tuple[str, Draft], ...] = ()  # (the part's question, its draft) for two-part questions
    prose: tuple[tuple[str, tuple[int, ...]], ...] = ()  # an LLM's sentences, each with the sentences it cites
    notes: tuple[str, ...] = ()

    @property
    def answerable(self) -> bool:
        return self.kind not in ("refusal", "periods") and not (self.kind == "parts" and all(not d.answerable for _, d in self.parts))
