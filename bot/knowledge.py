"""Article knowledge as data: the names readers use for an article's entities, their parents, metric
synonyms and the article's own cue words, read from `<doc_id>.knowledge.json` beside the document.

    {"entities": {"Canonical Name": ["alias", ...]}, "parents": {"Part": "Whole"},
     "equivalent": [["Part", "Whole"]], "synonyms": {"term": ["phrase", ...]}, "cues": {"cause": ["..."]}}

Every field is optional; a document without a file is served with the names found in its text
(`followup.Lexicon`). `Knowledge.merge` joins the files of a corpus. This module reads no text of
the articles themselves and decides nothing about answers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .errors import CorpusError
from .resources import CAUSE_CUES, SYNONYMS

SUFFIX = ".knowledge.json"
_FIELDS = {"_about", "reviewed", "entities", "parents", "equivalent", "synonyms", "cues", "starters", "people"}
_NAME = r"[A-Z][\w&'’.-]*(?:\s+(?:of\s+|and\s+|&\s+)?[A-Z][\w&'’.-]*)*"
# "Nordic Grid Authority (NGA)": an abbreviation in brackets after a name is an alias of it.
_ABBREVIATION = re.compile(rf"\b({_NAME})\s+\(([A-Z][A-Za-z0-9&]{{1,9}})\)")
# "Acme Group (Acme Mall and Bmart)": names in brackets after a name stand for it, both ways.
_BRACKETED_PARTS = re.compile(rf"\b({_NAME})\s+\(((?:{_NAME})(?:\s*(?:,|and|&)\s*(?:{_NAME}))+)\)")
# "Acme's subsidiaries, including X, Y and Z" / "Acme Retail (including X, Y, etc.)": parts of a whole.
_INCLUDING = re.compile(rf"\b({_NAME})(?:['’]s\s+[a-z][\w-]*(?:\s+[a-z][\w-]*)?)?\s*,?\s*\(?including\s+((?:{_NAME})(?:\s*(?:,|and)\s*(?:{_NAME}))*)")
# People in roles: "its chief executive, X", "CFO X", "X, the company's founder and chairman", "X, who became CEO".
_ROLE_WORDS = r"(?i:chief executive(?: officer)?|chief financial officer|chief operating officer|chief technology officer|CEO|CFO|COO|CTO|chairman|chairwoman|chair|president|founder(?: and chairman)?|co-founder|head of [a-z]+|director)"
_PERSON = r"(?:Dr\.\s+|Mr\.\s+|Ms\.\s+)?[A-Z][a-z]+(?:[-\s][A-Z][a-z]+)*(?:-[A-Z][a-z]+)?"
_ROLE_BEFORE = re.compile(rf"\b(?:its|the company's|the group's|[A-Z][\w-]*'s)?\s*({_ROLE_WORDS}),?\s+({_PERSON})\b")
_ROLE_AFTER = re.compile(rf"\b({_PERSON}),\s+(?:the\s+(?:company's|group's)\s+|its\s+|now\s+the\s+company's\s+|who\s+became\s+)({_ROLE_WORDS})\b")


@dataclass(frozen=True, eq=False)
class Knowledge:
    """Entity names, parents and synonyms of one corpus (or one document)."""

    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)  # canonical entity -> names readers use
    parents: dict[str, str] = field(default_factory=dict)
    equivalent: frozenset[tuple[str, str]] = frozenset()
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(SYNONYMS))
    cause_cues: tuple[str, ...] = CAUSE_CUES
    starters: tuple[str, ...] = ()
    people: dict[str, tuple[str, ...]] = field(default_factory=dict)  # person -> roles the article gives them
    reviewed: bool = True

    @classmethod
    def load(cls, corpus_dir: str | Path, texts: dict[str, str] | None = None) -> Knowledge:
        """The merged knowledge of a corpus folder: each document's reviewed file, else a draft from its
        text (`texts`: doc_id -> text of the documents to draft for; None drafts for none)."""
        folder = Path(corpus_dir)
        parts = []
        reviewed = set()
        for path in sorted(folder.glob(f"*{SUFFIX}")) if folder.is_dir() else []:
            reviewed.add(path.name.removesuffix(SUFFIX))
            parts.append(cls.from_file(path))
        for doc_id, text in sorted((texts or {}).items()):
            if doc_id not in reviewed:
                parts.append(draft_knowledge(text))
        return cls.merge(parts)

    @classmethod
    def from_file(cls, path: Path) -> Knowledge:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise CorpusError(f"{path}: not a readable knowledge file ({e}); fix its JSON or remove it.") from None
        if not isinstance(raw, dict) or set(raw) - _FIELDS:
            unknown = ", ".join(sorted(set(raw) - _FIELDS)) if isinstance(raw, dict) else type(raw).__name__
            raise CorpusError(f"{path}: unknown fields ({unknown}); the fields are {', '.join(sorted(_FIELDS))}.")
        try:
            return cls(
                aliases={str(e): tuple(str(a) for a in names) for e, names in (raw.get("entities") or {}).items()},
                parents={str(k): str(v) for k, v in (raw.get("parents") or {}).items()},
                equivalent=frozenset((str(a), str(b)) for a, b in raw.get("equivalent") or ()),
                synonyms={str(k): tuple(str(p) for p in v) for k, v in (raw.get("synonyms") or {}).items()},
                cause_cues=tuple(str(c) for c in (raw.get("cues") or {}).get("cause", ())),
                starters=tuple(str(q) for q in raw.get("starters") or ()),
                people={str(k): tuple(str(r) for r in v) for k, v in (raw.get("people") or {}).items()},
                reviewed=bool(raw.get("reviewed", True)),
            )
        except (TypeError, ValueError, AttributeError) as e:
            raise CorpusError(f"{path}: a field has the wrong shape ({e}); see bot/knowledge.py for the format.") from None

    @classmethod
    def merge(cls, parts: Iterable[Knowledge]) -> Knowledge:
        aliases: dict[str, tuple[str, ...]] = {}
        parents: dict[str, str] = {}
        equivalent: set[tuple[str, str]] = set()
        synonyms = dict(SYNONYMS)
        cues = list(CAUSE_CUES)
        starters: list[str] = []
        people: dict[str, tuple[str, ...]] = {}
        for k in parts:
            for e, names in k.aliases.items():
                aliases[e] = tuple(dict.fromkeys(aliases.get(e, ()) + names))
            parents.update(k.parents)
            equivalent |= k.equivalent
            for term, phrases in k.synonyms.items():
                if term not in SYNONYMS or phrases != SYNONYMS[term]:
                    synonyms[term] = tuple(dict.fromkeys(synonyms.get(term, ()) + phrases))
            cues += [c for c in k.cause_cues if c not in cues]
            starters += list(k.starters)
            for person, roles in k.people.items():
                people[person] = tuple(dict.fromkeys(people.get(person, ()) + roles))
        return cls(aliases, parents, frozenset(equivalent), synonyms, tuple(cues), tuple(starters), people)

    def to_dict(self) -> dict:
        """The knowledge as a file would hold it (for `python -m bot knowledge extract`)."""
        return {"_about": "Drafted from the article's text by `python -m bot knowledge extract`: review it, then set reviewed to true.",
                "reviewed": self.reviewed, "entities": {e: list(a) for e, a in self.aliases.items()}, "parents": dict(self.parents),
                "equivalent": [list(p) for p in sorted(self.equivalent)], "people": {p: list(r) for p, r in self.people.items()}}

    def names(self) -> list[str]:
        """Every canonical entity and alias."""
        return [n for e, names in self.aliases.items() for n in (e, *names)]

    def affinity(self, named: str, entity: str) -> float:
        """How well a name in a text stands for a row's entity: 1 same, 0.6 its parent or equivalent, 0 not."""
        return _affinity(self, named, entity)


@lru_cache(maxsize=8192)
def _affinity(k: Knowledge, named: str, entity: str) -> float:
    if named == entity:
        return 1.0
    if (named, entity) in k.equivalent or (entity, named) in k.equivalent:
        return 0.6
    parent, seen = k.parents.get(entity), set()
    while parent is not None and parent not in seen:
        if parent == named:
            return 0.6
        seen.add(parent)
        parent = k.parents.get(parent)
    return 0.0


def draft_knowledge(text: str) -> Knowledge:
    """Entity knowledge drafted from an article's own wording: abbreviations in brackets as aliases,
    names in brackets as equivalents of the name before them, "including" lists as parts of a whole,
    and people with the roles the article gives them. Marked not reviewed."""
    aliases: dict[str, list[str]] = {}
    parents: dict[str, str] = {}
    equivalent: set[tuple[str, str]] = set()
    people: dict[str, list[str]] = {}
    for m in _ABBREVIATION.finditer(text):
        name, short = _clean(m.group(1)), m.group(2)
        if name and short != name and not short.isdigit():
            aliases.setdefault(name, []).append(short)
    for m in _BRACKETED_PARTS.finditer(text):
        whole = _clean(m.group(1))
        for part in _split_names(m.group(2)):
            if whole and part != whole:
                equivalent.add((part, whole))
    for m in _INCLUDING.finditer(text):
        whole = _clean(m.group(1))
        for part in _split_names(m.group(2)):
            if whole and part != whole and part.lower() != "etc":
                parents.setdefault(part, whole)
                aliases.setdefault(part, [])
        if whole:
            aliases.setdefault(whole, [])
    for pattern, role_at, person_at in ((_ROLE_BEFORE, 1, 2), (_ROLE_AFTER, 2, 1)):
        for m in pattern.finditer(text):
            person, role = m.group(person_at).strip(), m.group(role_at).strip()
            if len(person.split()) >= 2 or "-" in person:
                people.setdefault(person, [])
                if role not in people[person]:
                    people[person].append(role)
    return Knowledge(aliases={e: tuple(dict.fromkeys(a)) for e, a in aliases.items()}, parents=parents, equivalent=frozenset(equivalent),
                     people={p: tuple(r) for p, r in people.items()}, reviewed=False)


_LEADING = re.compile(r"^(?:The|A|An|In|On|At|By|For|Its|Their|Under|Against|Alongside|Today)\s+")


def _clean(name: str) -> str:
    name = re.split(r"[.!?]\s+", name.strip())[-1]  # a name never runs across a sentence end
    name = _LEADING.sub("", name).removesuffix("'s").removesuffix("’s").strip(" ,.")
    return name if name and name[0].isupper() else ""


def _split_names(group: str) -> list[str]:
    return [c for p in re.split(r"\s*(?:,|\band\b|&)\s*", group) if (c := _clean(p))]
