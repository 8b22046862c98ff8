"""`python -m eval.adapt`: how often dense similarity alone ranks the answering sentence first, with the
base model and with the model adapted to the corpus (bot/adapt.py), over human-written question sets.

    python -m eval.adapt [--sets gold,heldout-a,...] [--out eval/reports/adapt.md]

Every answerable question (each conversation turn by its gold standalone question) is ranked against
all sentences of the corpus; a hit is a sentence that overlaps a reference context.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from . import metrics as M
from .runner import ROOT, load_gold, units_of, write_atomic

DEFAULT_SETS = ("gold", "heldout-a", "heldout-b", "heldout-c", "heldout-d", "heldout-e", "heldout-f")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval.adapt", description=__doc__.splitlines()[0])
    ap.add_argument("--sets", default=",".join(DEFAULT_SETS))
    ap.add_argument("--corpus", default=str(ROOT / "corpus"))
    ap.add_argument("--out", default=str(ROOT / "eval" / "reports" / "adapt.md"))
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from bot import adapt
    from bot.chunking import split_sentences
    from bot.config import DEFAULT_MODEL
    from bot.corpus import load_corpus
    from bot.embedding import TorchEncoder, resolve_model

    docs = load_corpus(args.corpus)
    sentences = [s for d in docs for s in split_sentences(d)]
    texts = {d.doc_id: d.text for d in docs}
    plan = adapt.plan(docs, DEFAULT_MODEL)
    if plan is None:
        print("the corpus has no generated questions: nothing is adapted", file=sys.stderr)
        return 1
    t0 = time.perf_counter()
    adapted = adapt.adapted_model(plan, resolve_model(DEFAULT_MODEL))
    seconds = time.perf_counter() - t0
    models = {"base": TorchEncoder(DEFAULT_MODEL), "adapted": TorchEncoder(str(adapted))}
    vectors = {name: enc.encode([s.text for s in sentences]) for name, enc in models.items()}
    rows = []
    for name in [s for s in args.sets.split(",") if s]:
        questions = []
        for group in units_of(load_gold(ROOT / "eval" / f"{name}.jsonl")):
            for u in group:
                refs = M.reference_spans(texts, u.gold.get("reference_contexts", []))
                hits = {i for i, s in enumerate(sentences) if M.overlaps((s.doc_id, s.start, s.end), refs)}
                if u.answerable and hits:
                    questions.append((u.standalone, hits))
        scores = {}
        for model, enc in models.items():
            sims = enc.encode([q for q, _ in questions]) @ vectors[model].T
            scores[model] = float(np.mean([int(np.argmax(row)) in hits for row, (_, hits) in zip(sims, questions, strict=True)]))
        rows.append((name, len(questions), scores["base"], scores["adapted"]))
    n = sum(r[1] for r in rows)
    pooled = (sum(r[1] * r[2] for r in rows) / n, sum(r[1] * r[3] for r in rows) / n)
    lines = ["# The model adapted to the corpus", "",
             f"`python -m eval.adapt`: {len(plan.pairs)} generated questions, key {plan.key}; dense top-1 over all {len(sentences)} sentences "
             f"(adapted model ready in {seconds:.0f} s{' from the cache' if seconds < 5 else ''}).", "",
             "| set | questions | base | adapted |", "|---|---|---|---|"]
    lines += [f"| {name} | {k} | {b:.3f} | {a:.3f} |" for name, k, b, a in rows]
    lines += [f"| pooled | {n} | {pooled[0]:.3f} | {pooled[1]:.3f} |"]
    report = "\n".join(lines) + "\n"
    write_atomic(Path(args.out), report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
