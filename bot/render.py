"""The renderer: the only code that turns a `Draft` into words, `[n]` markers and citations.

Quotes are the article's sentences verbatim (a line-opening list marker such as "- " is left out of
both the quote and its citation span, so `Citation.text` is still `document[start:end]`). A figure is
stated once: the quoted sentence states it, and a computed figure is stated once, after its inputs'
sentences, with "(computed from these figures)" or "(computed from these dates)". Markers are numbered
in the order their sentences are first cited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from .draft import KINDS, Draft
from .index import Index
from .quantity import find_quantities
from .types import Citation, Quantity

_MARKERS = re.compile(r"\s*\[[^\]]*\]")
_LIST_MARKER = re.compile(r"^\s*(?:[-*•–]|\d{1,2}[.)])\s+")
_LARGER = {"difference": "a difference of", "total": "together", "ratio": "", "change": "a change of", "exchange": "an implied exchange rate of"}
_REASONS = {
    "none": "The article doesn't say.",
    "figure": "The article doesn't give that figure.",
    "who": "The article doesn't say who.",
    "which": "The article doesn't say which.",
    "when": "The article doesn't say when.",
}
# Drafts that are the words below, then their quotes.
_LEADS = {
    "confirm": "Yes:",
    "periods": "The article doesn't give this figure for {subject}; it gives it for other periods:",
    "gist": "In the article's words:",
    "title": "The article is titled:",
}
_SMALLTALK = {
    "greeting": "Hello! Ask me anything about {titles}; every answer quotes the article.",
    "thanks": "You're welcome. Ask another question about the article whenever you like.",
    "bye": "Goodbye!",
    "ack": "Anything else you would like to know about the article?",
}


@dataclass
class Rendered:
    """An answer's text with its citations, the figures it computed, and the spans of its verbatim quotes."""

    text: str = ""
    citations: list[Citation] = field(default_factory=list)
    derived: list[Quantity] = field(default_factory=list)
    derivations: dict[str, str] = field(default_factory=dict)  # a derived figure's text -> its arithmetic
    quotes: list[tuple[int, int]] = field(default_factory=list)  # (start, end) in `text` of each quoted sentence


class _Writer:
    """Accumulates text, numbering each sentence the first time it is cited."""

    def __init__(self, index: Index, out: Rendered):
        self.index = index
        self.out = out
        self.parts: list[str] = []
        self.number: dict[int, int] = {}
        self.quoted: set[int] = set()

    def marker(self, sid: int, score: float = 1.0) -> str:
        if sid not in self.number:
            s = self.index.sentences[sid]
            start = s.start + _marker_length(s.text)
            n = len(self.out.citations) + 1
            self.out.citations.append(Citation(n=n, doc_id=s.doc_id, section=s.section, start=start, end=s.end,
                                               text=self.index.documents[s.doc_id].text[start:s.end], score=round(float(score), 4)))
            self.number[sid] = n
        return f"[{self.number[sid]}]"

    def markers(self, sids: tuple[int, ...] | list[int]) -> str:
        return "".join(self.marker(s) for s in dict.fromkeys(sids))

    def say(self, words: str) -> None:
        self.parts.append(words)

    def quote(self, sid: int, score: float = 1.0) -> None:
        self.quoted.add(sid)
        s = self.index.sentences[sid]
        text = s.text[_marker_length(s.text):].strip()
        start = len(self.joined()) + (1 if self.parts else 0)
        self.parts.append(f"{text} {self.marker(sid, score)}")
        self.out.quotes.append((start, start + len(text)))

    def quotes(self, sids: tuple[int, ...], scores: tuple[float, ...] = ()) -> None:
        for i, sid in enumerate(dict.fromkeys(sids)):
            if sid not in self.quoted:  # a sentence is quoted once, however often it is cited
                self.quote(sid, scores[i] if i < len(scores) else 1.0)

    def joined(self) -> str:
        return " ".join(self.parts)


def _marker_length(text: str) -> int:
    m = _LIST_MARKER.match(text)
    return m.end() if m else 0


def render(draft: Draft, index: Index) -> Rendered:
    """The words, markers and citations of a draft."""
    out = Rendered()
    w = _Writer(index, out)
    docs = list(dict.fromkeys(index.sentences[s].doc_id for s in _all_sids(draft)))
    if len(index.documents) > 1 and docs and draft.answerable and draft.kind not in ("title", "subtitle", "smalltalk"):
        w.say("From " + " and ".join(f"“{index.documents[d].title}”" for d in docs) + ":")  # which article answers
    _write(draft, w, index)
    out.text = w.joined()
    return out


def _all_sids(d: Draft) -> list[int]:
    sids = list(d.sids) + [s for _, e in d.events for s in (e.date_sid, e.event_sid)] + [s for _, ss in d.prose for s in ss]
    return sids + [s for _, p in d.parts for s in _all_sids(p)]


def answer_kind(draft: Draft) -> str:
    """The Answer.kind a draft renders as."""
    return KINDS.get(draft.kind, "quote")


def _write(d: Draft, w: _Writer, index: Index) -> None:
    kind = d.kind
    if kind in ("quote", "figure", "compare", "subtitle"):  # a subtitle's line opens with "Subtitle:" itself
        w.quotes(d.sids, d.scores)
    elif kind == "computed":
        _computed(d, w)
    elif kind == "order":
        _order(d, w)
    elif kind == "correction":
        _correction(d, w)
    elif kind in _LEADS:
        w.say(_LEADS[kind].format(subject=d.subject))
        w.quotes(d.sids)
    elif kind == "refusal":
        _refusal(d, w)
    elif kind == "smalltalk":
        titles = " and ".join(f"“{doc.title}”" for doc in index.documents.values()) or "the article"
        w.say(_SMALLTALK.get(d.smalltalk, _SMALLTALK["ack"]).format(titles=titles))
    elif kind == "parts":
        _parts(d, w, index)
    elif kind == "llm":
        for words, sids in d.prose:
            w.say(f"{words} {w.markers(sids)}")
    else:
        raise ValueError(f"unknown draft kind {kind!r}")


def _computed(d: Draft, w: _Writer) -> None:
    c = d.computed
    w.quotes(d.sids)
    inputs = w.markers(d.sids)
    value = ("about " if c.approximate and not c.value.text.startswith("about") else "") + c.value.text
    w.out.derived.append(c.value)
    w.out.derivations[value] = _arithmetic(c, value)
    if c.op == "elapsed":
        w.out.derived.extend(find_quantities(value))  # "four years and seven months": each part is computed
        w.say(f"The time from the first date to the second is {value} (computed from these dates). {inputs}")
        return
    if c.op == "ratio":
        a, b = (c.between + ("", ""))[:2]
        about = value if value.startswith("about") else f"about {value}"
        of = "" if c.value.kind == "multiple" else "of "
        w.say(f"{_possessive(a)} figure is {about} {of}{_possessive(b)} (computed from these figures). {inputs}")
        return
    if c.op == "relative":
        a, b = (c.between + ("", ""))[:2]
        about = value if value.startswith("about") else f"about {value}"
        gap = ""
        if c.gap is not None:
            w.out.derived.append(c.gap)
            stated = f"{'about ' if c.approximate else ''}{c.gap.text}"
            w.out.derivations[stated] = _arithmetic(replace(c, op="difference"), stated)
            gap = f", a difference of {stated}"
        w.say(f"{_possessive(a)} figure is {about} {'lower' if c.direction == 'down' else 'higher'} than {_possessive(b)}{gap} (computed from these figures). {inputs}")
        return
    if c.op == "change":
        w.say(f"That is a change of {value} {c.direction or 'up'} (computed from these figures). {inputs}")
        return
    if c.op == "exchange":
        usd = c.rows[1].currency
        w.say(f"That implies an exchange rate of {value} per {'US dollar' if usd == 'USD' else usd} (computed from these figures). {inputs}")
        return
    between = _and_list(c.between)
    if c.op == "total":
        w.say(f"Together, {between} come to {value} (computed from these figures). {inputs}")
    else:
        w.say(f"That is a difference of {value} between {between} (computed from these figures). {inputs}")


def _arithmetic(c, value: str) -> str:  # noqa: ANN001 - a Computed
    """The sum a computed figure comes from, in the article's own wording of its inputs."""
    quotes = [r.quote for r in c.rows]
    if c.op == "elapsed":
        return f"{c.dates[0].period.text} → {c.dates[1].period.text} = {value}"
    if c.op == "change":
        return f"{quotes[0]}: {value} {c.direction or 'up'}"
    if c.op == "relative":  # the larger first; "lower" is over the larger, "higher" over the smaller
        return f"({quotes[0]} − {quotes[1]}) ÷ {quotes[0] if c.direction == 'down' else quotes[1]} = {value}"
    sign = {"difference": " − ", "total": " + ", "ratio": " ÷ ", "exchange": " ÷ "}.get(c.op, ", ")
    return f"{sign.join(quotes)} = {value}"


def _order(d: Draft, w: _Writer) -> None:
    (name_a, a), (name_b, b) = d.events
    if d.first:
        (early, e1), (late, e2) = sorted(d.events, key=lambda nd: (nd[1].period.year, nd[1].period.month or 0))
        w.say(f"“{early}” came first: the article dates it to {e1.period.text} {w.marker(e1.date_sid)}, and “{late}” to {e2.period.text} {w.marker(e2.date_sid)}.")
    else:
        before = (a.period.year, a.period.month or 0) < (b.period.year, b.period.month or 0)
        w.say(f"{'Before' if before else 'After'}: the article dates “{name_a}” to {a.period.text} {w.marker(a.date_sid)} and “{name_b}” to {b.period.text} {w.marker(b.date_sid)}.")
    w.quotes(tuple(sorted({s for _, e in d.events for s in (e.date_sid, e.event_sid)})))


def _correction(d: Draft, w: _Writer) -> None:
    if d.period is not None:
        w.say(f"No: the article dates this to {d.period.text}:")
    elif d.names:
        names = list(dict.fromkeys(d.names))
        others = _and_list(names)
        w.say(f"No: the article names {others}, not {d.wrong}:")
    else:
        w.say("No, the article says otherwise:")
    w.quotes(d.sids)


def _refusal(d: Draft, w: _Writer) -> None:
    if d.reason == "unknown":
        w.say(f"The article doesn't mention {d.subject}.")
    else:
        w.say(_REASONS.get(d.reason, _REASONS["none"]))
    if d.sids:
        w.say("The closest passage is:")
        w.quotes(d.sids[:1], d.scores[:1])


def _parts(d: Draft, w: _Writer, index: Index) -> None:
    answered = [(q, p) for q, p in d.parts if p.answerable]
    if not answered:
        _write(d.parts[0][1], w, index)
        return
    for i, (q, p) in enumerate(d.parts):
        if p.answerable:
            _write(p, w, index)
        elif find_quantities(q):  # a reader's own figure is not repeated as if the article stated it
            w.say(f"On the {('first', 'second')[min(i, 1)]} question the article doesn't say.")
        else:
            w.say(f"On “{_MARKERS.sub('', q).strip()}” the article doesn't say.")  # a reader's "[7]" is no citation


def _and_list(names) -> str:  # noqa: ANN001 - a sequence of names
    """ "A", "A and B", "A, B and C"."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _possessive(name: str) -> str:
    return name + ("'" if name.endswith("s") else "'s") if name else "the first"
