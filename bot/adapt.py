"""Build-time adaptation of the embedding model to the corpus (GPL-style): fine-tune it on the
questions generated for each sentence (`corpus/<doc>.questions.jsonl`, `doc2query.py`).

The pairs (generated question, its sentence) train all-MiniLM-L6-v2 with a contrastive loss
(MultipleNegativesRankingLoss: every other sentence of a batch is a negative). Measured on the
human-written question sets (gold, A-F; `python -m eval.adapt`, eval/reports/adapt.md): the answering
sentence ranked first by dense similarity alone 0.486 -> 0.616 of the time, for about 35 s of training
on 2 cores.

The adapted model depends only on the base model, the pairs and the training recipe, so it is keyed by
their hash and kept in a cache folder shared by every index of the machine (`ARTICLE_BOT_CACHE`,
default `~/.cache/article-bot/adapted/<key>`): adding an article that has no questions file keeps the
key and the vectors of the others. A corpus without questions files uses the base model unchanged.
Importing this module is cheap; torch is imported only to train.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import shutil
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from .doc2query import load_questions, questions_path
from .errors import CorpusError
from .types import Document

log = logging.getLogger(__name__)

# The recipe (sentence-transformers' defaults for this loss; one epoch measured as good as three on the
# development sets, with less drift on general paraphrases).
EPOCHS = 1
BATCH = 32
LEARNING_RATE = 2e-5
WARMUP = 0.1
WEIGHT_DECAY = 0.01
SEED = 0
RECIPE = {"loss": "MultipleNegativesRankingLoss", "epochs": EPOCHS, "batch": BATCH, "lr": LEARNING_RATE, "warmup": WARMUP,
          "weight_decay": WEIGHT_DECAY, "seed": SEED, "version": 1}
CACHE_DIR = Path(os.environ.get("ARTICLE_BOT_CACHE") or Path.home() / ".cache" / "article-bot") / "adapted"
DONE = "adapted.json"  # written last: a folder without it was never finished


@dataclass(frozen=True)
class Plan:
    """What an adaptation trains on, and the key of its result."""

    key: str
    pairs: tuple[tuple[str, str], ...]  # (question, sentence)


def plan(docs: list[Document], model: str) -> Plan | None:
    """The adaptation for a corpus: None when no document has a usable questions file."""
    pairs: list[tuple[str, str]] = []
    for doc in sorted(docs, key=lambda d: d.doc_id):
        path = questions_path(doc.path) if doc.path else None
        if path is None or not path.is_file():
            continue
        try:
            rows = load_questions(path, doc.text)
        except CorpusError as e:
            log.warning("%s; its questions are left out of the model's adaptation", e)
            continue
        for (start, end), questions in sorted(rows.items()):
            pairs += [(q, doc.text[start:end]) for q in questions if q.strip()]
    if not pairs:
        return None
    versions = [package_version(n) for n in ("torch", "sentence-transformers", "transformers")]
    digest = hashlib.sha256(json.dumps([model, versions, RECIPE, pairs], ensure_ascii=False).encode("utf-8")).hexdigest()[:16]
    return Plan(digest, tuple(pairs))


def adapted_model(p: Plan, model_path: str, cache_dir: Path = CACHE_DIR) -> Path:
    """The folder of the adapted model for `p`: trained once, then read from the cache."""
    folder = cache_dir / p.key
    if (folder / DONE).is_file():
        return folder
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache_dir / f".tmp-{p.key}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        seconds = train(p.pairs, model_path, tmp)
        (tmp / DONE).write_text(json.dumps({"key": p.key, "pairs": len(p.pairs), "recipe": RECIPE, "train_seconds": round(seconds, 1)}))
        if (folder / DONE).is_file():  # another build finished it meanwhile
            shutil.rmtree(tmp, ignore_errors=True)
            return folder
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def train(pairs: tuple[tuple[str, str], ...], model_path: str, out: Path) -> float:
    """Fine-tune the model at `model_path` on `pairs` and save it to `out`; returns the training seconds."""
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.losses import MultipleNegativesRankingLoss
    from transformers import get_linear_schedule_with_warmup
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    model = SentenceTransformer(model_path, device="cpu")
    loss_fn = MultipleNegativesRankingLoss(model)
    batches = [b for _ in range(EPOCHS) for b in _batches(pairs, BATCH, random.Random(SEED))]
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    schedule = get_linear_schedule_with_warmup(optimizer, int(WARMUP * len(batches)), len(batches))
    log.info("adapting the embedding model on %d generated questions (%d steps; about a minute)", len(pairs), len(batches))
    t0 = time.perf_counter()
    model.train()
    for batch in batches:
        tokenize = getattr(model, "preprocess", None) or model.tokenize
        features = [tokenize([q for q, _ in batch]), tokenize([s for _, s in batch])]
        loss = loss_fn(features, None)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
    model.eval()
    seconds = time.perf_counter() - t0
    model.save(str(out))
    return seconds


def _batches(pairs: tuple[tuple[str, str], ...], size: int, rng: random.Random) -> list[list[tuple[str, str]]]:
    """Shuffled batches in which no sentence and no question appears twice: an in-batch negative is
    never a copy of the positive."""
    pool = list(pairs)
    rng.shuffle(pool)
    out = []
    while pool:
        batch, sentences, questions, rest = [], set(), set(), []
        for q, s in pool:
            if len(batch) < size and s not in sentences and q not in questions:
                batch.append((q, s))
                sentences.add(s)
                questions.add(q)
            else:
                rest.append((q, s))
        out.append(batch)
        pool = rest
    return out


def package_version(dist: str) -> str | None:
    """The installed version of a distribution, or None."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None
