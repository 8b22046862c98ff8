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
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .errors import CorpusError
from .resources import CAUSE_CUES, SYNONYMS

SUFFIX = ".knowledge.json"
_FIELDS = {"_about", "reviewed", "entities", "parents", "equivalent", "synonyms", "cues", "starters"}


@dataclass(frozen=True, eq=False)
class Knowledge:
    """Entity names, parents and synonyms of one corpus (or one document)."""

    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)  # canonical entity -> names readers use
    parents: dict[str, str] = field(default_factory=dict)
    equivalent: frozenset[tuple[str, str]] = frozenset()
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(SYNONYMS))
    cause_cues: tuple[str, ...] = CAUSE_CUES
    starters: tuple[str, ...] = ()

    @classmethod
    def load(cls, corpus_dir: str | Path, doc_ids: Iterable[str] | None = None) -> Knowledge:
        """The merged knowledge files of a corpus folder (none there: general English only)."""
        folder = Path(corpus_dir)
        parts = []
        for path in sorted(folder.glob(f"*{SUFFIX}")) if folder.is_dir() else []:
            if doc_ids is not None and path.name.removesuffix(SUFFIX) not in set(doc_ids):
                continue
            parts.append(cls.from_file(path))
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
        return cls(aliases, parents, frozenset(equivalent), synonyms, tuple(cues), tuple(starters))

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
