"""A question-answering bot over articles: cited extractive answers whose figures are checked.

    from bot import Bot
    bot = Bot.load()
    answer = bot.ask("How big was the antitrust fine Acme received in April 2021?")
    answer.text, answer.citations
"""

from .config import Settings
from .core import Bot
from .errors import (
    BotError,
    CorpusError,
    FactTableError,
    HistoryError,
    IndexBusyError,
    IndexCorruptError,
    IndexMissingError,
    IndexStaleError,
    InvalidQuestionError,
    LLMError,
    ModelError,
)
from .types import Answer, Citation, FigureCheck

__all__ = [
    "Answer",
    "Bot",
    "BotError",
    "Citation",
    "CorpusError",
    "FactTableError",
    "FigureCheck",
    "HistoryError",
    "IndexBusyError",
    "IndexCorruptError",
    "IndexMissingError",
    "IndexStaleError",
    "InvalidQuestionError",
    "LLMError",
    "ModelError",
    "Settings",
]
