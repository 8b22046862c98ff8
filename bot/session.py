"""Conversations: a Chat keeps its own history and hands it to the bot with every question.

Only this module keeps history; `Bot.ask(question, history)` is stateless, so HTTP callers and
notebooks pass the history themselves and two Chats never see each other's turns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .types import Answer

if TYPE_CHECKING:
    from .core import Bot


@dataclass
class Turn:
    """One question and the answer it got."""

    question: str
    answer: Answer


@dataclass
class Chat:
    """A conversation with the bot; follow-up questions are resolved against its earlier turns."""

    bot: Bot
    turns: list[Turn] = field(default_factory=list)

    def ask(self, question: str) -> Answer:
        """Answer a question in the context of this conversation and record the turn."""
        answer = self.bot.ask(question, history=self.history())
        self.turns.append(Turn(question, answer))
        limit = self.bot.settings.max_history_turns
        if len(self.turns) > limit:
            del self.turns[: len(self.turns) - limit]
        return answer

    def history(self) -> list[tuple[str, Answer]]:
        """Earlier (question, answer) pairs, oldest first."""
        return [(t.question, t.answer) for t in self.turns]

    def reset(self) -> None:
        """Forget the conversation."""
        self.turns.clear()
