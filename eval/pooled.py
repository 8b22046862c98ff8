"""`python -m eval.pooled SET.jsonl [SET.jsonl ...]`: the headline metrics over several question sets at once.

The sets' questions are asked and scored together (one `eval.runner.score` over all of them), so each
figure is pooled over the sets rather than averaged. Prints a line per metric; `--json` writes them too.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import metrics as M
from .runner import ROOT, Searches, ask_all, load_gold, score, units_of, write_atomic

HEADLINE = ("evidence_hit@1", "figure_em", "figure_recall", "refusal_precision", "refusal_recall", "followup_resolution",
            "false_premise_correction", "hit@1", "unsupported_figure_rate")


def pooled(sets: list[str | Path], corpus: str | Path = ROOT / "corpus", index: str | Path = ROOT / "index", bot=None) -> dict[str, dict]:  # noqa: ANN001
    """The headline metrics ({"value", "n"}) over every question of `sets`."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if bot is None:
        from bot.core import Bot

        bot = Bot.load(corpus, index)
    groups = [g for s in sets for g in units_of(load_gold(s))]
    texts = {d: doc.text for d, doc in bot.index.documents.items()}
    for g in groups:
        for u in g:
            u.refs = M.reference_spans(texts, u.gold.get("reference_contexts", []))
    metrics, _, _ = score(bot, ask_all(bot, groups), Searches(bot), M.FigureReader("auto"), 0, 0)
    return {k: {"value": metrics[k]["value"], "n": metrics[k]["n"]} for k in HEADLINE if k in metrics}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sets", nargs="+", type=Path)
    ap.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    ap.add_argument("--index", type=Path, default=ROOT / "index")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)
    figures = pooled(args.sets, args.corpus, args.index)
    print("pooled over " + ", ".join(s.name for s in args.sets))
    for name, m in figures.items():
        value = "n/a" if m["value"] is None else f"{m['value']:.3f}"
        print(f"  {name:26s} {value}  (n={m['n']})")
    if args.json:
        write_atomic(args.json, json.dumps({"sets": [str(s) for s in args.sets], "metrics": figures}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
