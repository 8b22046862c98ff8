"""Small value objects passed between the stages of the pipeline.

Offsets (`start`, `end`) are always character offsets into `Document.text`, which is the file's
content exactly as stored (decoded as UTF-8, nothing normalised), so `text[start:end]` is the span.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


def _plain(obj: Any) -> dict[str, Any]:
    return asdict(obj)


@dataclass(frozen=True)
class Section:
    """A titled part of a document: `start:end` covers its body, `heading_*` its heading line."""

    title: str
    start: int
    end: int
    heading_start: int
    heading_end: int
    level: int = 1  # 0 for title/summary/subtitle, 1 for sections, 2 for sub-sections

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class Document:
    """One article of the corpus with its detected structure."""

    doc_id: str
    path: str
    title: str
    text: str
    sha256: str
    sections: tuple[Section, ...] = ()

    def section_at(self, offset: int) -> Section | None:
        """The section whose span holds `offset` (headings belong to their own section)."""
        for s in self.sections:
            if s.heading_start <= offset < s.end:
                return s
        return None


@dataclass(frozen=True)
class Sentence:
    """One sentence of a document (or a heading line), with its span."""

    sid: int
    doc_id: str
    section: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Chunk:
    """Consecutive sentences of one section; `sentence_ids` index the index's sentence table."""

    cid: int
    doc_id: str
    section: str
    start: int
    end: int
    text: str
    sentence_ids: tuple[int, ...]


@dataclass(frozen=True)
class Hit:
    """A retrieved sentence with its fused score and the chunk it came through."""

    sentence: Sentence
    chunk_id: int
    score: float


@dataclass(frozen=True)
class Quantity:
    """A figure as written in text, read by the quantity grammar.

    `value` is the number in base units (18.2e9 for "CNY 18.2 billion", 33.0 for "33%"); a range has
    `low`/`high` and `value=None`; `qualifier` records approximate wording ("approximately", "over",
    "up to", "mid", ...). `kind` is one of money, percent, percentage_points, count, duration, ordinal,
    multiple.
    """

    text: str
    start: int
    end: int
    kind: str
    value: float | None = None
    low: float | None = None
    high: float | None = None
    currency: str | None = None
    scale: str | None = None
    unit: str | None = None
    qualifier: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class Fact:
    """One row of a document's fact table: a figure the article states, where, and about what."""

    id: str
    doc_id: str
    entity: str
    metric: str
    kind: str
    quote: str
    start: int
    end: int
    value: float | None = None
    low: float | None = None
    high: float | None = None
    currency: str | None = None
    scale: str | None = None
    unit: str | None = None
    period: str | None = None
    qualifier: str | None = None
    linked: tuple[str, ...] = ()
    reviewed: bool = True  # False for rows drafted by the quantity grammar for a document without a reviewed table

    def to_dict(self) -> dict[str, Any]:
        d = _plain(self)
        d["linked"] = list(self.linked)
        return d


@dataclass(frozen=True)
class FigureCheck:
    """The guard's verdict on one figure of a text.

    status: ok, unsupported, mismatch, period_mismatch, entity_mismatch, over_precise, derived.
    """

    text: str
    value: float | None
    status: str
    fact_id: str | None = None
    start: int = -1
    end: int = -1
    expected: str | None = None  # the article's own wording when it differs
    derivation: str | None = None  # for a derived figure, the arithmetic: "CNY 8 trillion − CNY 5.2 trillion = CNY 2.8 trillion"

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class Citation:
    """A cited span: marker `[n]` in `Answer.text` is `citations[n-1]`."""

    n: int
    doc_id: str
    section: str
    start: int
    end: int
    text: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass
class Answer:
    """What `Bot.ask` returns."""

    text: str
    citations: list[Citation] = field(default_factory=list)
    answerable: bool = True
    question: str = ""
    standalone_question: str = ""
    figures: list[FigureCheck] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    backend: str = "extractive"
    kind: str = "quote"  # quote, figure, computed, correction, refusal, gist, title, smalltalk, llm

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (what the CLI's --json and the HTTP API return)."""
        return {
            "text": self.text,
            "citations": [c.to_dict() for c in self.citations],
            "answerable": self.answerable,
            "question": self.question,
            "standalone_question": self.standalone_question,
            "figures": [f.to_dict() for f in self.figures],
            "notes": list(self.notes),
            "backend": self.backend,
            "kind": self.kind,
        }
