"""The Bot: wires corpus, index, retrieval, fact table, answer composition and the figure guard."""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from .compose import extractive_answer
from .followup import resolve_followup
from .config import Settings
from .errors import HistoryError, IndexStaleError, InvalidQuestionError
from .index import Index, build_index, load_index, staleness
from .retrieval import Retriever
from .session import Chat
from .types import Answer, Document

log = logging.getLogger("bot")

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class Bot:
    """Answers questions about the articles of one corpus, quoting and citing them."""

    def __init__(self, index: Index, settings: Settings | None = None):
        self.index = index
        self.settings = settings or Settings()
        self.retriever = Retriever(index, self.settings)

    @classmethod
    def load(cls, corpus_dir: str | Path = "corpus", index_dir: str | Path = "index", settings: Settings | None = None) -> Bot:
        """Load the persisted index, building it first when it is missing or stale (logged with the reason)."""
        settings = settings or Settings()
        reason = staleness(corpus_dir, index_dir, settings)
        if reason:
            if not _writable(Path(index_dir)):
                raise IndexStaleError(f"The index in {index_dir} must be rebuilt ({reason}) but the folder is read-only: run `python -m bot index` where it is writable.")
            log.info("building the index: %s", reason)
            build_index(corpus_dir, index_dir, settings)
        return cls(load_index(index_dir, settings), settings)

    @property
    def documents(self) -> dict[str, Document]:
        """The indexed documents by doc_id."""
        return self.index.documents

    def ask(self, question: str, history: Sequence[tuple[str, Answer | str]] | None = None) -> Answer:
        """Answer one question from the article, with citations.

        `history` holds earlier (question, answer) pairs of the same conversation, oldest first; the
        answers may be `Answer`s or their text (as HTTP callers send them).
        """
        q = self.clean_question(question)
        turns = self.clean_history(history)
        standalone = resolve_followup(q, turns) if turns else q
        answer, _, _ = extractive_answer(standalone, self.retriever, self.settings.max_sentences, self.settings.min_score)
        answer.question = q
        answer.standalone_question = standalone
        return answer

    def chat(self) -> Chat:
        """A new conversation that keeps its own history."""
        return Chat(self)

    def clean_history(self, history: object) -> list[tuple[str, str]]:
        """History as (question, answer text) pairs, the most recent `max_history_turns` kept."""
        if history is None:
            return []
        if not isinstance(history, (list, tuple)):
            raise HistoryError("History must be a list of [question, answer] pairs.")
        pairs: list[tuple[str, str]] = []
        for i, item in enumerate(history):
            if not isinstance(item, (list, tuple)) or len(item) != 2:
                raise HistoryError(f"History item {i} is not a [question, answer] pair.")
            q, a = item
            a_text = a.text if isinstance(a, Answer) else a
            if not isinstance(q, str) or not isinstance(a_text, str | None):
                raise HistoryError(f"History item {i} must hold two texts.")
            pairs.append((q[: self.settings.max_question_chars], a_text or ""))
        return pairs[-self.settings.max_history_turns:]

    def clean_question(self, question: object) -> str:
        """The question as searched: text, control characters removed, within the length limit."""
        if not isinstance(question, str):
            raise InvalidQuestionError(f"A question must be text, not {type(question).__name__}.")
        if len(question) > self.settings.max_question_chars:
            raise InvalidQuestionError(f"The question is {len(question):,} characters long; the limit is {self.settings.max_question_chars:,}. Ask something shorter.")
        q = question.encode("utf-8", "replace").decode("utf-8")  # lone surrogates become '?'
        q = unicodedata.normalize("NFC", _CONTROL.sub(" ", q))
        q = " ".join(q.split())
        if not q:
            raise InvalidQuestionError("The question is empty: type a question about the article.")
        return q


def _writable(folder: Path) -> bool:
    probe = folder if folder.exists() else folder.parent
    return os.access(probe, os.W_OK)
