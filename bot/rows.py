"""The fitted row model: which fact-table rows a question asks for.

`FactTable.candidates` gives each candidate row its features (entity named, metric words shared,
period, kind and currency asked); the logistic model fitted by `python -m eval.fit`
(`bot/data/rows.json`) turns them into the probability that the row holds the asked figure. Its
thresholds, chosen by cross-validation, say when a row answers a question outright (`answer`) and
when a row is what a question is about, for computing from it or checking a premise against it
(`about`).
"""

from __future__ import annotations

import numpy as np

from .facts import FactTable
from .model import DATA, Logistic
from .types import Fact

MODEL_FILE = DATA / "rows.json"
ROW_FEATURES = ("entity", "unnamed", "overlap", "coverage", "asked_coverage", "unmatched", "period_match", "period_conflict",
                "kind_hint", "kind_conflict", "currency", "growth_unasked", "hedged", "reviewed", "latest")


def row_matrix(candidates: list[tuple[Fact, dict[str, float]]]) -> np.ndarray:
    return np.asarray([[x[name] for name in ROW_FEATURES] for _, x in candidates], dtype=np.float64).reshape(len(candidates), len(ROW_FEATURES))


class RowModel:
    """Scores a question's candidate rows with the fitted model."""

    def __init__(self, model: Logistic):
        self.model = model
        self.answer = model.threshold("answer")
        self.about = model.threshold("about")

    @classmethod
    def load(cls) -> RowModel:
        return cls(Logistic.load(MODEL_FILE, ROW_FEATURES))

    def score(self, query: object, table: FactTable, doc_ids: list[str] | None = None) -> list[tuple[Fact, float]]:
        """Candidate rows with their probability, best first (ties keep the table's stable order)."""
        found = table.candidates(query, doc_ids)
        if not found:
            return []
        p = self.model.probabilities(row_matrix(found))
        order = sorted(range(len(found)), key=lambda i: -round(float(p[i]), 6))
        return [(found[i][0], float(p[i])) for i in order]
