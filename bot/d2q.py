"""Generated questions (doc2query) in the index: each sentence's build-time questions, embedded, and the
highest similarity between a reader's question and them, a feature of the ranker.

The questions come from `corpus/<doc_id>.questions.jsonl` (written by `python -m bot questions`, read by
`doc2query.load_questions`, which drops a row whose sentence no longer reads as it did). The index stores their
vectors (`questions.npy`) and, per sentence, the range of its rows (`questions.json`). An index
without them gives the feature 0 for every sentence. This module never runs a language model.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

VECTORS_FILE = "questions.npy"
RANGES_FILE = "questions.json"


def build(sentences: list, questions: dict[str, dict[tuple[int, int], list[str]]], encode) -> tuple[np.ndarray, list[list[int]]]:  # noqa: ANN001
    """Vectors of every sentence's questions and, per sentence id, [first row, end row)."""
    texts: list[str] = []
    ranges: list[list[int]] = []
    for s in sentences:
        qs = questions.get(s.doc_id, {}).get((s.start, s.end), [])
        ranges.append([len(texts), len(texts) + len(qs)])
        texts.extend(qs)
    vectors = encode(texts) if texts else np.zeros((0, 1), dtype=np.float32)
    return vectors, ranges


class QuestionVectors:
    """Highest cosine between a question vector and each sentence's generated questions."""

    def __init__(self, vectors: np.ndarray, ranges: list[list[int]]):
        self.vectors = vectors
        self.ranges = ranges

    @classmethod
    def load(cls, index) -> QuestionVectors | None:  # noqa: ANN001 - an index.Index
        folder = Path(index.folder)
        if not (folder / VECTORS_FILE).is_file() or not (folder / RANGES_FILE).is_file():
            return None
        ranges = json.loads((folder / RANGES_FILE).read_text())
        vectors = np.load(folder / VECTORS_FILE, mmap_mode="r")
        if len(ranges) != len(index.sentences) or not len(vectors):
            return None
        return cls(vectors, ranges)

    def __call__(self, question_vector: np.ndarray, sids) -> np.ndarray:  # noqa: ANN001
        out = np.zeros(len(sids))
        spans = [self.ranges[s] for s in sids]
        lo = min((a for a, b in spans if b > a), default=None)
        if lo is None:
            return out
        hi = max(b for a, b in spans)
        sims = np.asarray(self.vectors[lo:hi]) @ question_vector
        for i, (a, b) in enumerate(spans):
            if b > a:
                out[i] = float(sims[a - lo : b - lo].max())
        return out
