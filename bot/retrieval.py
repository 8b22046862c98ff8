"""Hybrid retrieval: dense (FAISS) and BM25 over chunks, fused by reciprocal rank, then sentences scored.

A sentence's score mixes its own cosine similarity to the question, the idf-weighted share of the
question's content words it holds, and the fused rank of the chunk it came through. The weights were
chosen by grid search on the gold set's evidence hit@1 (README); searched again over the gold set and
held-out set A together (243 questions), they stay where they are. This module knows nothing of answers
or refusals.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from .config import Settings
from .index import Index
from .text import PREFIX_CHARS, bm25_tokens, content_terms, match_keys, own_words

# Sentence score = W_DENSE * cosine + W_LEXICAL * idf-weighted term coverage + W_CHUNK * chunk fusion
# score normalised to [0, 1]. Cosine and coverage each blend the sentence alone with the sentence read
# after the one before it (CONTEXT_DENSE, CONTEXT_LEXICAL): an answer often follows the sentence that
# names its subject ("In June 2025, a viral internal memo ..." / "The memo sharply criticized ...").
# Grid-searched on the gold set's evidence hit@1: context blending took it from 71.8% to 78.0%.
W_DENSE = 0.40
W_LEXICAL = 0.50
W_CHUNK = 0.20
CONTEXT_DENSE = 0.7
CONTEXT_LEXICAL = 0.6
# A follow-up rewritten as "<its own words> — <the previous question>" (text.CONTEXT_MARK) is about its own
# words first: the borrowed words count this much in lexical coverage ("What's the ultimate variable?"
# after "Where is Alibaba placing its future bets?" then cites "AI is the ultimate variable").
CONTEXT_QUERY_WEIGHT = 0.5
# A sentence that opens with a pronoun ("Its rivals are SHEIN and Temu") is about what its section is
# about: its heading's words ("... Alibaba International Digital Commerce (AIDC)") join its context.
_PRONOUN_OPENING = re.compile(r"^\W*(?:it|its|they|their|them|this|these|he|his|she|her)\b", re.I)


@dataclass(frozen=True)
class Retrieval:
    """What one search found: fused chunk ranking and scored sentences, best first."""

    question_vector: np.ndarray
    query_terms: tuple[str, ...]
    chunk_ids: tuple[int, ...]
    chunk_scores: tuple[float, ...]
    sentence_ids: tuple[int, ...]
    sentence_scores: tuple[float, ...]
    dense_scores: tuple[float, ...]
    lexical_scores: tuple[float, ...]


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
        self._sentence_terms: dict[int, frozenset[str]] = {}
        self._context_terms: dict[int, frozenset[str]] = {}

    def idf(self, term: str) -> float:
        """Inverse document frequency of a stemmed term over chunks (unseen terms get the maximum)."""
        return self._idf.get(term, self._max_idf)

    def in_vocabulary(self, term: str) -> bool:
        return term in self._vocab

    def sentence_terms(self, sid: int) -> frozenset[str]:
        terms = self._sentence_terms.get(sid)
        if terms is None:
            terms = self._sentence_terms[sid] = match_keys(content_terms(self.index.sentences[sid].text))
        return terms

    def context_terms(self, sid: int) -> frozenset[str]:
        """Terms of the sentence before (and of the section heading, for a sentence opening with a pronoun)."""
        terms = self._context_terms.get(sid)
        if terms is None:
            sentence = self.index.sentences[sid]
            prev = self.index.previous[sid]
            terms = self.sentence_terms(prev) if prev >= 0 else frozenset()
            if _PRONOUN_OPENING.match(sentence.text):
                terms = terms | match_keys(content_terms(sentence.section))
            self._context_terms[sid] = terms
        return terms

    def search(self, question: str, query_vector: np.ndarray | None = None) -> Retrieval:
        """Fused chunk ranking and sentence scores for a question."""
        idx, st = self.index, self.settings
        qv = idx.encoder.encode([question])[0] if query_vector is None else query_vector
        n = len(idx.chunks)
        k = min(st.candidates, n)

        fused: dict[int, float] = {}
        _, dense_ids = idx.chunk_faiss.search(qv[None, :].astype(np.float32, copy=False), k)
        for rank, cid in enumerate(dense_ids[0]):
            if cid >= 0:
                fused[int(cid)] = 1.0 / (st.rrf_k + rank + 1)
        terms = tuple(t for t in dict.fromkeys(bm25_tokens(question)))
        known = [t for t in terms if t in self._vocab]
        if known:
            scores = idx.bm25.get_scores(known)
            top = np.argpartition(-scores, k - 1)[:k] if k < n else np.arange(n)
            top = top[np.argsort(-scores[top], kind="stable")]
            for rank, cid in enumerate(top):
                if scores[cid] > 0:
                    fused[int(cid)] = fused.get(int(cid), 0.0) + 1.0 / (st.rrf_k + rank + 1)
        ranked = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))
        best = ranked[0][1] if ranked else 1.0

        sids: list[int] = []
        chunk_of: dict[int, float] = {}
        for cid, score in ranked[: st.top_chunks]:
            for sid in idx.chunks[cid].sentence_ids:
                if sid not in chunk_of:
                    sids.append(sid)
                    chunk_of[sid] = score / best
        if not sids:
            return Retrieval(qv, terms, (), (), (), (), (), ())
        own = np.asarray(idx.sentence_vectors[sids]) @ qv
        ctx = np.asarray(idx.context_vectors[sids]) @ qv
        dense = (1 - CONTEXT_DENSE) * own + CONTEXT_DENSE * ctx
        own_terms = set(bm25_tokens(own_words(question)))
        keys = [(t, t[:PREFIX_CHARS], self.idf(t) * (1.0 if t in own_terms else CONTEXT_QUERY_WEIGHT)) for t in terms]
        weight = sum(w for _, _, w in keys) or 1.0
        lexical = []
        for sid in sids:
            have = self.sentence_terms(sid)
            around = have | self.context_terms(sid)
            alone = sum(w for t, p, w in keys if t in have or p in have)
            with_prev = sum(w for t, p, w in keys if t in around or p in around)
            lexical.append(((1 - CONTEXT_LEXICAL) * alone + CONTEXT_LEXICAL * with_prev) / weight)
        combined = [W_DENSE * float(d) + W_LEXICAL * lx + W_CHUNK * chunk_of[sid] for sid, d, lx in zip(sids, dense, lexical, strict=False)]
        order = sorted(range(len(sids)), key=lambda i: -combined[i])
        return Retrieval(
            qv, terms,
            tuple(c for c, _ in ranked), tuple(s for _, s in ranked),
            tuple(sids[i] for i in order), tuple(combined[i] for i in order),
            tuple(float(dense[i]) for i in order), tuple(lexical[i] for i in order),
        )
