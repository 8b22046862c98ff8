"""Fact tables: every figure an article states, what it is about, and where it stands.

A table is one `<doc_id>.facts.jsonl` per document, next to the document (`<doc_id>.txt` or `.md`),
one JSON object per line with the fields of `Fact`. `FactTable.load` validates each row against its
document; `FactTable.lookup` finds the rows a reader's question asks for; `draft_facts` drafts rows
for a new document from the quantity grammar, to be reviewed by hand.

Also here, because the table's lookups and the figure guard must agree on them: the entity names and
aliases readers use, the metric words and their synonyms, and the sentence and period binding of
figures.

Deliberately not done here: judging a figure against the table (guard.py), reading figures
(quantity.py), and CSV tables (JSONL is diff-friendly and keeps the types).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from pathlib import Path

from .errors import FactTableError
from .knowledge import Knowledge
from .quantity import KINDS, Period, find_periods, find_quantities
from .resources import METRIC_STOPWORDS, STOPWORDS, SYNONYMS
from .text import sentence_spans, stem
from .types import Fact, Quantity

_STOPWORDS = STOPWORDS | METRIC_STOPWORDS
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[-'’+][A-Za-z0-9]+)*")


def phrase_index(synonyms: dict[str, tuple[str, ...]]) -> dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]]:
    """Synonym phrases by first word, longest first, so one pass over a text's words folds them."""
    index: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {}
    for term, phrases in synonyms.items():
        for p in phrases:
            words = tuple(p.split())
            index.setdefault(words[0], []).append((words, tuple(term.split())))
    for entries in index.values():
        entries.sort(key=lambda e: len(e[0]), reverse=True)
    return index


_GENERAL_PHRASES = phrase_index(SYNONYMS)

_CAPITALISED = re.compile(r"\b[A-Z][\w&'’.-]*(?:\s+(?:of\s+)?[A-Z][\w&'’.-]*)*")
_SLUG = re.compile(r"[^a-z0-9]+")
_CLAUSE_MARK = re.compile(r"[,;:()—]")
_METRIC_WORD = re.compile(r"[A-Za-z][\w'’-]*")
_OPEN_BRACKET = re.compile(r"\s*\(\s*")
_PERIOD_FORMAT = re.compile(r"\d{4}(?:-(?:0[1-9]|1[0-2]))?")
_CURRENCY_FORMAT = re.compile(r"[A-Z]{3}")

REQUIRED = {"id": str, "doc_id": str, "entity": str, "metric": str, "kind": str, "quote": str, "start": int, "end": int}
OPTIONAL = {
    "value": (int, float),
    "low": (int, float),
    "high": (int, float),
    "currency": str,
    "scale": str,
    "unit": str,
    "period": str,
    "qualifier": str,
    "linked": list,
    "reviewed": bool,
}


@dataclass(frozen=True)
class Mention:
    """An entity named in a text: the canonical entity and the span of the name used."""

    entity: str
    start: int
    end: int


def terms(text: str, phrases: dict | None = None) -> frozenset[str]:
    """The metric terms of a text: synonyms folded ("penalty" -> fine), other words lightly stemmed."""
    phrases = _GENERAL_PHRASES if phrases is None else phrases
    words = _TOKEN.findall(text.lower())
    out: set[str] = set()
    i, n = 0, len(words)
    while i < n:
        w = words[i]
        for phrase, folded in phrases.get(w, ()):
            k = len(phrase)
            if k == 1 or tuple(words[i : i + k]) == phrase:
                out.update(folded)
                i += k
                break
        else:
            out.update(_word_terms(w))
            i += 1
    return frozenset(out)


@lru_cache(maxsize=65536)
def _word_terms(w: str) -> tuple[str, ...]:
    if w.endswith(("'s", "’s")):
        w = w[:-2]
    if len(w) > 1 and w not in _STOPWORDS and not w.isdigit():
        return (stem(w),)
    return ()




def period_for(periods: list[Period], start: int, end: int) -> Period | None:
    """The period a figure at start:end belongs to, among those of its sentence.

    The nearest wins; one written after the figure ("50.8% in 2021") binds tighter than one before it,
    so in "50.8% in 2021 to the mid-40% range by 2024" each figure gets its own year.
    """
    best, best_gap = None, float("inf")
    for p in periods:
        gap = p.start - end if p.start >= end else (start - p.end) * 1.5 if p.end <= start else None
        if gap is not None and gap < best_gap:
            best, best_gap = p, gap
    return best


def period_label(p: Period | None) -> str | None:
    """A period as the fact table writes it: "2021", "2021-04"; None for ranges and open periods."""
    if p is None or p.end_year is not None or p.open_ended:
        return None
    return f"{p.year}-{p.month:02d}" if p.month else str(p.year)


def as_quantity(f: Fact) -> Quantity:
    """A row as the figure its quote states."""
    return Quantity(f.quote, f.start, f.end, f.kind, f.value, f.low, f.high, f.currency, f.scale, f.unit, f.qualifier)


@dataclass(eq=False)
class FactTable:
    """The fact rows of a corpus with lookups by id, document, entity and kind; `texts` holds the documents."""

    facts: tuple[Fact, ...] = ()
    texts: dict[str, str] = field(default_factory=dict)
    knowledge: Knowledge = field(default_factory=Knowledge)
    by_id: dict[str, Fact] = field(init=False, repr=False)
    by_doc: dict[str, list[Fact]] = field(init=False, repr=False)
    by_entity: dict[str, list[Fact]] = field(init=False, repr=False)
    by_kind: dict[str, list[Fact]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.facts = tuple(self.facts)
        self.by_id, self.by_doc, self.by_entity, self.by_kind = {}, {}, {}, {}
        for f in self.facts:
            self.by_id[f.id] = f
            self.by_doc.setdefault(f.doc_id, []).append(f)
            self.by_entity.setdefault(f.entity, []).append(f)
            self.by_kind.setdefault(f.kind, []).append(f)

    def __len__(self) -> int:
        return len(self.facts)

    @classmethod
    def load(cls, corpus_dir: str | Path, knowledge: Knowledge | None = None, draft: bool = True, reviewed: bool = True) -> FactTable:
        """Read and validate every `*.facts.jsonl` in `corpus_dir`; a document without one gets the rows
        the quantity grammar drafts from its text (`reviewed` False), unless `draft` is False. With
        `reviewed` False the reviewed tables are left unread and every document is drafted (how
        `eval.fit` shows its models documents that have no reviewed table)."""
        folder = Path(corpus_dir)
        if not folder.is_dir():
            raise FactTableError(f"{folder}: no such corpus folder; pass the folder that holds the articles and their .facts.jsonl files.")
        facts: list[Fact] = []
        texts: dict[str, str] = {}
        where: dict[str, str] = {}
        for path in sorted(folder.glob("*.facts.jsonl")) if reviewed else ():
            doc_id = path.name.removesuffix(".facts.jsonl")
            texts[doc_id] = _document_text(path, doc_id)
            for lineno, row in _rows(path):
                fact = _validate(row, doc_id, texts[doc_id], f"{path}:{lineno}")
                if fact.id in where:
                    raise FactTableError(f"{path}:{lineno}: id {fact.id!r} is already used at {where[fact.id]}; give this row another id.")
                where[fact.id] = f"{path}:{lineno}"
                facts.append(fact)
        knowledge = knowledge if knowledge is not None else Knowledge.load(folder)
        if draft:
            facts += _drafted(folder, set(texts), knowledge, {f.id for f in facts}, texts)
        by_id = {f.id: f for f in facts}
        for f in facts:
            for other in f.linked:
                if other not in by_id:
                    raise FactTableError(
                        f"{where[f.id]}: linked id {other!r} is not a row of any table; fix the id or drop it from linked."
                    )
                if f.id not in by_id[other].linked:
                    raise FactTableError(f"{where[other]}: row {other!r} does not link back to {f.id!r}; add {f.id!r} to its linked list.")
        return cls(tuple(facts), texts, knowledge)

    def rows(self, doc_ids: Iterable[str] | None = None) -> list[Fact]:
        """The rows of the given documents (all rows when None)."""
        if doc_ids is None:
            return list(self.facts)
        return [f for d in doc_ids for f in self.by_doc.get(d, ())]

    @cached_property
    def _entity_pattern(self) -> tuple[re.Pattern[str], dict[str, str]]:
        names = {a: e for e, aliases in self.knowledge.aliases.items() for a in (e, *aliases) if a.strip()}
        names.update({f.entity: f.entity for f in self.facts if f.entity.strip()})
        alternation = "|".join(re.escape(n).replace("'", "['’]") for n in sorted(names, key=len, reverse=True)) or "(?!)"
        return re.compile(rf"(?<![\w-])(?:{alternation})(?![\w-])", re.I), {n.replace("’", "'").lower(): e for n, e in names.items()}

    def _alias_lower(self, text: str) -> bool:
        """Whether a knowledge file writes this name in lower case itself ("retail arm")."""
        return any(a == text for aliases in self.knowledge.aliases.values() for a in aliases)

    @cached_property
    def _lower_words(self) -> frozenset[str]:
        """The lower-case words and word pairs of the documents: a name written so is an ordinary word there."""
        out: set[str] = set()
        for text in self.texts.values():
            words = re.findall(r"(?<![\w-])[a-z][\w-]*", text)
            out.update(words)
            out.update(f"{a} {b}" for a, b in zip(words, words[1:], strict=False))
        return frozenset(out)

    def entities_in(self, text: str) -> list[Mention]:
        """Every entity named in `text` (by name or alias), in order."""
        pattern, names = self._entity_pattern
        out: list[Mention] = []
        for m in pattern.finditer(text):
            word = m.group()
            if out and m.start() < out[-1].end:
                continue  # inside a name read as a longer one ("Initech's cloud")
            # Readers write names in lower case ("hooli's revenue"); a lower-case match that is an ordinary
            # word of the documents is no mention (an alias such as "retail arm" is written so on purpose).
            if word.islower() and word in self._lower_words and not self._alias_lower(word):
                continue
            # "Initech's retail arm": a lower-case alias (Globex's) after another name's possessive is that
            # one's, unless its entity is a part of the possessor ("Initech's delivery unit", its own).
            if (word.islower() and out and re.fullmatch(r"['’]s\s+", text[out[-1].end : m.start()])
                    and self.affinity(out[-1].entity, names[word.replace("’", "'").lower()]) == 0):
                continue
            # "Initech's cloud" is Initech Cloud when that is a name of its own.
            whole = re.match(r"['’]s\s+([\w-]+)", text[m.end() :])
            longer = whole and names.get(f"{word.replace('’', chr(39)).lower()} {whole.group(1).lower()}")
            if longer:
                out.append(Mention(longer, m.start(), m.end() + whole.end()))
                continue
            out.append(Mention(names[word.replace("’", "'").lower()], m.start(), m.end()))
        return out

    @cached_property
    def _by_term(self) -> dict[str, list[str]]:
        """Row ids by the metric terms of their metric."""
        out: dict[str, list[str]] = {}
        for f in self.facts:
            for t in self.metric_terms[f.id]:
                out.setdefault(t, []).append(f.id)
        return out

    @cached_property
    def _latest(self) -> frozenset[str]:
        """Rows that are the latest of several periods of their entity and metric (what "now" asks for)."""
        groups: dict[tuple[str, str, str], list[Fact]] = {}
        for f in self.facts:
            if f.period:
                groups.setdefault((f.doc_id, f.entity, f.metric), []).append(f)
        return frozenset(max(g, key=lambda f: f.period).id for g in groups.values() if len({f.period for f in g}) > 1)

    @cached_property
    def metric_terms(self) -> dict[str, frozenset[str]]:
        """Each row's metric terms, by id."""
        return {f.id: self.terms(f.metric) for f in self.facts}

    @cached_property
    def _phrases(self) -> dict:
        return phrase_index(self.knowledge.synonyms)

    def terms(self, text: str) -> frozenset[str]:
        """The metric terms of a text with this corpus's synonyms (see `terms`)."""
        return terms(text, self._phrases)

    def affinity(self, named: str, entity: str) -> float:
        return self.knowledge.affinity(named, entity)

    def stateable(self, query: object, doc_ids: Iterable[str] | None = None) -> list[Fact]:
        """The rows a figure answer may state: candidates of the question (`candidates`, any entity's
        sharing a metric word), then only of an entity it names or one related to it ("the division that
        runs X" names a part for its whole), not another company's; a growth rate only when growth is asked."""
        named = {m.entity for m in query.mentions}
        return [f for f, x in self.candidates(query, doc_ids, any_entity=True) if not x["growth_unasked"]
                and (not named or any(self.affinity(n, f.entity) or self.affinity(f.entity, n) for n in named))]

    def candidates(self, query: object, doc_ids: Iterable[str] | None = None, any_entity: bool = False) -> list[tuple[Fact, dict[str, float]]]:
        """The rows a question may ask for, each with the features the row model (`rows.py`) weighs,
        in a stable order (latest period first, numbers before words for one figure, document order).

        `query` is a `query.Query`: its mentions, metric terms, periods, kind hints, asked kinds and currency.
        A row is a candidate when it is of an entity the question names (or none is named) and shares a
        metric word with it, or is of the very entity named and of a kind the question hints at."""
        named = {m.entity for m in query.mentions}
        asked = query.metric_terms
        scope = set(doc_ids) if doc_ids is not None else None
        # Only rows sharing a metric word or of an entity named can be candidates: found through the
        # term and entity indexes, so a corpus of many documents costs no more than its matching rows.
        ids = {i for t in asked for i in self._by_term.get(t, ())} | {f.id for e in named for f in self.by_entity.get(e, ())}
        rows = [self.by_id[i] for i in ids if scope is None or self.by_id[i].doc_id in scope]
        # Metric words the question uses that some row's metric holds: a row lacking one of them is
        # about something else or broader ("AI revenue growth" is not plain "revenue growth").
        metric_words = asked & frozenset().union(*(self.metric_terms[f.id] for f in rows)) if rows else frozenset()
        out = []
        for f in sorted(rows, key=lambda f: (f.doc_id, f.start)):
            entity = max((self.affinity(n, f.entity) for n in named), default=0.0)
            metric = self.metric_terms[f.id]
            overlap = len(asked & metric)
            if named and entity == 0 and not (any_entity and overlap):
                continue
            if overlap == 0 and not (entity == 1.0 and f.kind in query.kind_hints):
                continue
            covers = [p.covers(f.period) for p in query.periods] if f.period else []
            out.append((f, {
                "entity": entity, "unnamed": float(not named), "overlap": float(overlap),
                "coverage": overlap / len(metric) if metric else 0.0,
                "asked_coverage": overlap / len(metric_words) if metric_words else 0.0,
                "unmatched": float(len(metric_words - metric)),
                "period_match": float(any(covers)), "period_conflict": float(bool(covers) and not any(covers)),
                "kind_hint": float(f.kind in query.kind_hints),
                "kind_conflict": float(bool(query.figure_kinds) and f.kind not in query.figure_kinds),
                "currency": float(bool(query.currency) and f.currency == query.currency),
                "growth_unasked": float(not query.growth and "growth" in metric),
                "hedged": float(f.qualifier not in (None, "from")),
                "reviewed": float(f.reviewed),
                "latest": float(f.id in self._latest),
            }))  # fmt: skip
        out.sort(key=lambda fx: fx[0].qualifier not in (None, "from"))
        out.sort(key=lambda fx: fx[0].period or "", reverse=True)
        return out


def _drafted(folder: Path, reviewed: set[str], knowledge: Knowledge, ids: set[str], texts: dict[str, str]) -> list[Fact]:
    """Drafted rows for every document of the folder that has no reviewed table (ids kept unique corpus-wide)."""
    from .corpus import DOC_SUFFIXES

    out: list[Fact] = []
    matcher = FactTable(knowledge=knowledge)
    for path in sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in DOC_SUFFIXES):
        doc_id = path.stem
        if doc_id in reviewed:
            continue
        try:
            text = open(path, encoding="utf-8", newline="").read()
        except (OSError, UnicodeDecodeError):
            continue  # the corpus loader reports an unreadable document
        texts[doc_id] = text
        drafts = draft_facts(doc_id, text, matcher)
        rename = {f.id: f.id if f.id not in ids else _unique_id(f"{doc_id}-{f.id}", ids) for f in drafts}
        ids.update(rename.values())
        out += [replace(f, id=rename[f.id], linked=tuple(rename.get(x, x) for x in f.linked)) for f in drafts]
    return out


def _document_text(path: Path, doc_id: str) -> str:
    for ext in (".txt", ".md"):
        doc = path.with_name(doc_id + ext)
        if doc.is_file():
            try:
                return open(doc, encoding="utf-8", newline="").read()
            except (OSError, UnicodeDecodeError) as e:
                raise FactTableError(f"{path}: cannot read its document {doc} ({e}); fix the document or remove the table.") from e
    raise FactTableError(f"{path}: no document {doc_id}.txt or {doc_id}.md beside it; name the table after its document.")


def _rows(path: Path) -> Iterable[tuple[int, dict]]:
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise FactTableError(f"{path}: cannot read the fact table ({e}); it must be UTF-8 JSON Lines.") from e
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise FactTableError(f"{path}:{lineno}: not valid JSON ({e.msg} at column {e.colno}); write one JSON object per line.") from e
        if not isinstance(row, dict):
            raise FactTableError(f"{path}:{lineno}: a row must be a JSON object, not {type(row).__name__}.")
        yield lineno, row


def _validate(row: dict, doc_id: str, text: str, where: str) -> Fact:
    for key, typ in REQUIRED.items():
        if key not in row:
            raise FactTableError(f"{where}: missing field {key!r}; every row needs {', '.join(REQUIRED)}.")
        if not isinstance(row[key], typ) or isinstance(row[key], bool):
            raise FactTableError(f"{where}: field {key!r} must be a {typ.__name__}, got {row[key]!r}.")
    for key, value in row.items():
        if key in REQUIRED:
            continue
        if key not in OPTIONAL:
            raise FactTableError(f"{where}: unknown field {key!r}; the fields are {', '.join([*REQUIRED, *OPTIONAL])}.")
        if value is not None and (not isinstance(value, OPTIONAL[key]) or (isinstance(value, bool) and OPTIONAL[key] is not bool)):
            raise FactTableError(f"{where}: field {key!r} has the wrong type ({value!r}).")
    if row["doc_id"] != doc_id:
        raise FactTableError(f"{where}: doc_id {row['doc_id']!r} differs from the table's document {doc_id!r}; fix the doc_id.")
    if row["kind"] not in KINDS:
        raise FactTableError(f"{where}: kind {row['kind']!r} is not one of {', '.join(KINDS)}.")
    has_value = row.get("value") is not None
    has_range = row.get("low") is not None and row.get("high") is not None
    if has_value == has_range:
        raise FactTableError(f"{where}: give either 'value' or both 'low' and 'high'.")
    if (p := row.get("period")) is not None and not _PERIOD_FORMAT.fullmatch(p):
        raise FactTableError(f"{where}: period {p!r} must be YYYY or YYYY-MM.")
    if (c := row.get("currency")) is not None and not _CURRENCY_FORMAT.fullmatch(c):
        raise FactTableError(f"{where}: currency {c!r} must be an ISO code such as CNY or USD.")
    if any(not isinstance(x, str) for x in row.get("linked") or ()):
        raise FactTableError(f"{where}: linked must be a list of row ids.")
    start, end, quote = row["start"], row["end"], row["quote"]
    if not (0 <= start < end <= len(text)) or text[start:end] != quote:
        found = text.find(quote)
        hint = f"it occurs at {found}:{found + len(quote)}" if found >= 0 else "it does not occur in the document"
        raise FactTableError(f"{where}: quote {quote!r} is not at {start}:{end} of {doc_id} (that span reads {text[start:end]!r}); {hint}.")
    fields = {k: row.get(k) for k in OPTIONAL if k not in ("linked", "reviewed")}
    return Fact(**{k: row[k] for k in REQUIRED}, **fields, linked=tuple(row.get("linked") or ()), reviewed=row.get("reviewed", True) is not False)


# --- drafting rows for a new document -----------------------------------------------------------


def draft_facts(doc_id: str, text: str, table: FactTable | None = None) -> list[Fact]:
    """Draft one row per figure of a new document: entity, metric and period guessed, to review by hand."""
    matcher = table if table is not None else FactTable()  # subtle: an empty table is falsy
    facts: list[Fact] = []
    ids: set[str] = set()
    for s_start, s_end in sentence_spans(text):
        sentence = text[s_start:s_end]
        periods = find_periods(sentence)
        mentions = matcher.entities_in(sentence)
        prev: tuple[Quantity, str] | None = None
        for q in find_quantities(sentence):
            entity, after_entity = _guess_entity(sentence, q, mentions)
            metric = _guess_metric(sentence, q, after_entity)
            period = period_label(period_for(periods, q.start, q.end))
            fid = _unique_id("-".join(p for p in (_slug(entity), _slug(metric) or q.kind, period) if p), ids)
            fact = Fact(
                fid,
                doc_id,
                entity,
                metric,
                q.kind,
                q.text,
                q.start + s_start,
                q.end + s_start,
                q.value,
                q.low,
                q.high,
                q.currency,
                q.scale,
                q.unit,
                period,
                q.qualifier,
                reviewed=False,
            )
            # "CNY 18.2 billion (US$2.8 billion)": one amount in two currencies.
            if (
                prev
                and prev[0].kind == "money" == q.kind
                and prev[0].currency != q.currency
                and _OPEN_BRACKET.fullmatch(sentence, prev[0].end, q.start)
            ):
                fact = Fact(**{**fact.to_dict(), "linked": (prev[1],)})
                i = next(i for i, f in enumerate(facts) if f.id == prev[1])
                facts[i] = Fact(**{**facts[i].to_dict(), "linked": (fid,)})
            facts.append(fact)
            prev = (q, fid)
    return facts


def _guess_entity(sentence: str, q: Quantity, mentions: list[Mention]) -> tuple[str, int]:
    """The nearest known name before the figure, else the nearest capitalised one; and where it ends."""
    before = [m for m in mentions if m.end <= q.start]
    if before:
        return before[-1].entity, before[-1].end
    # Short all-capital words are metrics and currencies more often than names (GMV, DAU, CNY).
    names = [m for m in _CAPITALISED.finditer(sentence, 0, q.start) if m.start() > 0 and not (m.group().isupper() and len(m.group()) <= 5)]
    if names:
        return names[-1].group().removeprefix("The ").removesuffix("'s").removesuffix("’s"), names[-1].end()
    return "", 0


def _guess_metric(sentence: str, q: Quantity, after_entity: int) -> str:
    """Up to three content words of the figure's clause before it (after it when there are none)."""
    clause_start = max(after_entity, *(m.end() for m in _CLAUSE_MARK.finditer(sentence, 0, q.start)), 0)
    after_end = sentence.find(" ", q.end + 40)
    words = _metric_words(sentence, clause_start, q.start) or _metric_words(sentence, q.end, after_end if after_end > 0 else len(sentence))
    return " ".join(words[-3:])


def _metric_words(sentence: str, start: int, end: int) -> list[str]:
    out = []
    for w in _METRIC_WORD.findall(sentence, start, end):
        w = w.removesuffix("'s").removesuffix("’s")
        # Capitalised words are names and months, not metrics; acronyms (GMV, DAU) are metrics.
        if w.lower() not in _STOPWORDS and len(w) > 1 and (w.islower() or w.isupper()):
            out.append(w)
    return out


def _slug(s: str) -> str:
    return _SLUG.sub("-", s.lower()).strip("-")


def _unique_id(base: str, ids: set[str]) -> str:
    fid, n = base or "figure", 2
    while fid in ids:
        fid, n = f"{base}-{n}", n + 1
    ids.add(fid)
    return fid


def facts_to_jsonl(facts: Iterable[Fact]) -> str:
    """Rows as JSON Lines, fields in `Fact` order, empty ones left out (and `reviewed` unless a row is a draft)."""
    lines = []
    for f in facts:
        row = {k: v for k, v in f.to_dict().items() if v is not None and v != [] and not (k == "reviewed" and v)}
        lines.append(json.dumps(row, ensure_ascii=False))
    return "\n".join(lines) + "\n" if lines else ""
