"""`python -m eval.leaks`: cross-document leaks on a corpus of several articles.

    python -m eval.leaks --corpus DIR --index DIR SET.jsonl [SET.jsonl ...]

Asks every question of the sets (conversations turn by turn) and counts, over all answers, the figures
checked against another document's rows (a FigureCheck whose row belongs to no cited document) and the
unsupported figures stated. Prints one line per set and a total; exits 1 when any leak is found.
"""

from __future__ import annotations

import argparse
import os
import sys

from .runner import load_gold, units_of


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval.leaks", description="Count cross-document leaks and unsupported figures.")
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--index", required=True)
    ap.add_argument("sets", nargs="+")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from bot import Bot

    bot = Bot.load(args.corpus, args.index)
    total = {"answers": 0, "figures": 0, "leaks": 0, "unsupported": 0}
    for path in args.sets:
        counts = dict.fromkeys(total, 0)
        for group in units_of(load_gold(path)):
            chat = bot.chat()
            for unit in group:
                answer = chat.ask(unit.question)
                cited = {c.doc_id for c in answer.citations}
                counts["answers"] += 1
                for f in answer.figures:
                    counts["figures"] += 1
                    row = bot.facts.by_id.get(f.fact_id) if f.fact_id else None
                    if row is not None and row.doc_id not in cited:
                        counts["leaks"] += 1
                        print(f"leak: {unit.question!r}: {f.text} checked against {row.id} of {row.doc_id}, cited {sorted(cited)}")
                    if f.status not in ("ok", "derived"):
                        counts["unsupported"] += 1
        print(f"{path}: {counts['answers']} answers, {counts['figures']} figures, {counts['leaks']} cross-document leaks, {counts['unsupported']} unsupported figures")
        for k in total:
            total[k] += counts[k]
    print(f"total: {total['answers']} answers, {total['figures']} figures, {total['leaks']} cross-document leaks, {total['unsupported']} unsupported figures")
    return 1 if total["leaks"] or total["unsupported"] else 0


if __name__ == "__main__":
    sys.exit(main())
