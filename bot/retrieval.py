"""Hybrid retrieval: dense (FAISS) and BM25 over chunks, fused by reciprocal rank, and the sentences of
the best chunks as candidates, each with its retrieval features kept apart.

The features (cosine of the sentence and of the sentence read after the one before it, idf-weighted
coverage of the question's own words and of its borrowed words, the fused chunk score) are weighed
by the fitted ranker (`ranker.py`), not here. This module knows nothing of answers or refusals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .config import Settings
from .index import Index
from .text import PREFIX_CHARS, bm25_tokens, content_terms, match_keys


@dataclass(frozen=True)
class Retrieval:
    """What one search found: the fused chunk ranking and the candidate sentences with their features."""

    question_vector: np.ndarray
    query_terms: tuple[str, ...]
    chunk_ids: tuple[int, ...]
    chunk_scores: tuple[float, ...]
    sentence_ids: tuple[int, ...]  # candidates, in the order they were gathered (best chunk first)
    features: dict[str, np.ndarray]  # name -> one value per candidate


class Retriever:
    """Searches one loaded index."""

    def __init__(self, index: Index, settings: Settings):
        self.index = index
        self.settings = settings
        bm = index.bm25
        self._vocab: dict[str, int] = bm.vocab_dict
        indptr = np.asarray(bm.scores["indptr"])
        df = np.diff(indptr)
        n = int(bm.scores["num_docs"])
        self._idf = {t: math.log(1 + (n - df[i] + 0.5) / (df[i] + 0.5)) for t, i in self._vocab.items() if t and i < len(df)}
        self._max_idf = math.log(1 + (n + 0.5) / 0.5)
        self._terms: dict[int, frozenset[str]] = {}
        self._heading_terms: dict[str, frozenset[str]] = {}

    def idf(self, term: str) -> float:
        """Inverse document frequency of a stemmed term over chunks (unseen terms get the maximum)."""
        return self._idf.get(term, self._max_idf)

    def in_vocabulary(self, term: str) -> bool:
        return term in self._vocab

    def sentence_terms(self, sid: int) -> frozenset[str]:
        terms = self._terms.get(sid)
        if terms is None:
            terms = self._terms[sid] = match_keys(content_terms(self.index.sentences[sid].text))
        return terms

    def heading_terms(self, section: str) -> frozenset[str]:
        terms = self._heading_terms.get(section)
        if terms is None:
            terms = self._heading_terms[section] = match_keys(content_terms(section))
        return terms

    def chunks(self, text: str, query_vector: np.ndarray | None = None, doc_ids: tuple[str, ...] | None = None) -> tuple[np.ndarray, tuple[str, ...], list[tuple[int, float]]]:
        """The question's vector, its BM25 terms, and the fused chunk ranking [(chunk id, score)], within
        `doc_ids` when given."""
        idx, st = self.index, self.settings
        qv = idx.encoder.encode([text])[0] if query_vector is None else query_vector
        n = len(idx.chunks)
        # subtle: a scoped search looks deeper, then keeps its documents' chunks only
        k = min(st.candidates * (1 + len(idx.documents) // max(1, len(doc_ids))) if doc_ids else st.candidates, n)
        fused: dict[int, float] = {}
        _, dense_ids = idx.chunk_faiss.search(qv[None, :].astype(np.float32, copy=False), k)
        for rank, cid in enumerate(dense_ids[0]):
            if cid >= 0:
                fused[int(cid)] = 1.0 / (st.rrf_k + rank + 1)
        terms = tuple(dict.fromkeys(bm25_tokens(text)))
        known = [t for t in terms if t in self._vocab]
        if known:
            scores = idx.bm25.get_scores(known)
            top = np.argpartition(-scores, k - 1)[:k] if k < n else np.arange(n)
            top = top[np.argsort(-scores[top], kind="stable")]
            for rank, cid in enumerate(top):
                if scores[cid] > 0:
                    fused[int(cid)] = fused.get(int(cid), 0.0) + 1.0 / (st.rrf_k + rank + 1)
        ranked = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))
        if doc_ids:
            wanted = set(doc_ids)
            ranked = [(c, s) for c, s in ranked if idx.chunks[c].doc_id in wanted]
        return qv, terms, ranked

    def search(self, text: str, own: str = "", borrowed: str = "", doc_ids: tuple[str, ...] | None = None) -> Retrieval:
        """Fused chunk ranking and candidate sentences for a question; `own` and `borrowed` split a
        follow-up's words from the context it borrows (both empty: the whole text is its own)."""
        idx = self.index
        qv, terms, ranked = self.chunks(text, doc_ids=doc_ids)
        best = ranked[0][1] if ranked else 1.0
        sids: list[int] = []
        chunk_of: dict[int, tuple[float, int]] = {}
        for rank, (cid, score) in enumerate(ranked[: self.settings.top_chunks]):
            for sid in idx.chunks[cid].sentence_ids:
                if sid not in chunk_of:
                    sids.append(sid)
                    chunk_of[sid] = (score / best, rank)
        if not sids:
            return Retrieval(qv, terms, (), (), (), {})
        own_vec = idx.encoder.encode([own])[0] if own and borrowed else qv
        ids = np.asarray(sids)
        prev = np.asarray([idx.previous[s] for s in sids])
        nxt = np.asarray([idx.following[s] for s in sids])
        sv = np.asarray(idx.sentence_vectors)
        dense = sv[ids] @ qv
        features = {
            "dense": dense,
            "dense_ctx": np.asarray(idx.context_vectors[ids]) @ qv,
            "dense_own": sv[ids] @ own_vec,
            "dense_prev": np.where(prev >= 0, sv[np.maximum(prev, 0)] @ qv, 0.0),
            "dense_next": np.where(nxt >= 0, sv[np.maximum(nxt, 0)] @ qv, 0.0),
            "chunk": np.asarray([chunk_of[s][0] for s in sids]),
            "chunk_top": np.asarray([1.0 if chunk_of[s][1] == 0 else 0.0 for s in sids]),
        }
        features.update(self._lexical(sids, own or text, borrowed))
        return Retrieval(qv, terms, tuple(c for c, _ in ranked), tuple(s for _, s in ranked), tuple(sids), features)

    def coverage(self, text: str, sid: int) -> float:
        """The idf-weighted share of the content words of `text` that sentence `sid` holds."""
        return float(self._lexical([sid], text, "")["lexical"][0])

    def _lexical(self, sids: list[int], own: str, borrowed: str) -> dict[str, np.ndarray]:
        """idf-weighted coverage of the question's terms: in the sentence, with the sentence before it, in its heading."""
        def keyed(text: str) -> list[tuple[str, str, float]]:
            return [(t, t[:PREFIX_CHARS], self.idf(t)) for t in dict.fromkeys(bm25_tokens(text))]

        def cover(keys: list[tuple[str, str, float]], have: frozenset[str]) -> float:
            total = sum(w for _, _, w in keys)
            return sum(w for t, p, w in keys if t in have or p in have) / total if total else 0.0

        own_keys, borrowed_keys = keyed(own), keyed(borrowed)
        out: dict[str, list[float]] = {"lexical": [], "lexical_ctx": [], "lexical_heading": [], "lexical_borrowed": [], "lexical_prev": []}
        for sid in sids:
            s = self.index.sentences[sid]
            have = self.sentence_terms(sid)
            prev = self.index.previous[sid]
            around = have | (self.sentence_terms(prev) if prev >= 0 else frozenset())
            out["lexical"].append(cover(own_keys, have))
            out["lexical_ctx"].append(cover(own_keys, around))
            out["lexical_heading"].append(cover(own_keys, self.heading_terms(s.section)))
            out["lexical_prev"].append(cover(own_keys, self.sentence_terms(prev)) if prev >= 0 else 0.0)
            out["lexical_borrowed"].append(cover(borrowed_keys, around | self.heading_terms(s.section)) if borrowed_keys else 0.0)
        return {k: np.asarray(v) for k, v in out.items()}
