"""The exceptions a user can meet. Every message says what happened and what to do."""

from __future__ import annotations

__all__ = [
    "BotError",
    "CorpusError",
    "IndexMissingError",
    "IndexCorruptError",
    "IndexStaleError",
    "IndexBusyError",
    "InvalidQuestionError",
    "HistoryError",
    "ModelError",
    "FactTableError",
    "LLMError",
]


class BotError(Exception):
    """Base class: anything the bot raises on purpose is a BotError."""


class CorpusError(BotError):
    """The corpus folder is missing, empty, or holds a file that is not usable text."""


class IndexMissingError(BotError):
    """No index on disk where one is needed (and building was not allowed)."""


class IndexCorruptError(BotError):
    """An index file is unreadable, truncated, or disagrees with its manifest."""


class IndexStaleError(BotError):
    """The index on disk was built from another corpus, model or settings, and cannot be rebuilt here."""


class IndexBusyError(BotError):
    """Another process holds the index build lock for longer than we are willing to wait."""


class InvalidQuestionError(BotError):
    """The question is empty, too long, or not text."""


class HistoryError(BotError):
    """A conversation history is malformed or too long."""


class ModelError(BotError):
    """The embedding model could not be loaded offline."""


class FactTableError(BotError):
    """A fact table file is malformed or disagrees with its document."""


class LLMError(BotError):
    """The optional LLM endpoint failed or answered something unusable."""
