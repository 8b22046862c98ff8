#!/usr/bin/env python3
"""Validate the evaluation gold set `eval/gold.jsonl` against the article (stdlib only).

Usage:  python3 eval/check_gold.py [--gold PATH] [--article PATH]

Exits 1 and prints every problem found when:
  * a line is not valid JSON (or not an object);
  * a required field is missing or has the wrong type / an unknown value;
  * a reference_context is not a verbatim substring of the article, or spans a sentence
    boundary (". ", "? ", "! " -- optionally after a closing quote/bracket -- followed by an
    uppercase letter, or a newline);
  * a reference_context does not lie in the section the item names (at least one must);
  * a `figures` entry of a non-derived answerable item does not occur verbatim in the article
    (for derived items the `inputs` entries are checked instead);
  * ids repeat;
  * the coverage minimums are not met (turns, conversations, unanswerable, false premise,
    every section, every article figure).
Prints counts per category, the number of turns and the number of conversations.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_GOLD = ROOT / "eval" / "gold.jsonl"
DEFAULT_ARTICLE = ROOT / "corpus" / "twilight-of-an-empire-alibaba.txt"
DOC_ID = "twilight-of-an-empire-alibaba"

CATEGORIES = {
    "figure", "who", "when", "what", "why", "how", "comparison", "derived", "unanswerable", "false_premise",
}
ID_PREFIX = {
    "figure": "fig", "who": "who", "when": "when", "what": "what", "why": "why", "how": "how",
    "comparison": "cmp", "derived": "der", "unanswerable": "na", "false_premise": "fp",
    "conversation": "conv",
}
NA_REFERENCE = "The article doesn't say."

# Headings of the article, in order. Text before the first one is split into the pseudo
# sections Title (line 1), Summary (line 2), Subtitle (line 3) and Introduction (the rest).
HEADINGS = [
    "The Empire's Cracks (2020-2022)",
    "The Supertanker's Turn (2023-Present)",
    "The Future Bets (The Next 3-5 Years)",
    "Battlefield 1: The Defensive War of Taotian Group",
    "Battlefield 2: The Value Re-Emergence of Cloud Intelligence Group",
    "Battlefield 3: The Expedition of Alibaba International Digital Commerce (AIDC)",
    "The Ultimate X-Factor: The Role of AI",
    "Conclusion: The End of an Era, The Beginning of a Fight for Survival",
]

# Every figure stated in the article; each must be asked for in at least one item's `figures`.
ARTICLE_FIGURES = [
    "48 hours", "November 2020", "April 2021", "CNY 18.2 billion", "US$2.8 billion",
    "over 900 million", "February 2021", "259 million", "237 million", "CNY 5.2 trillion",
    "CNY 8 trillion", "CNY 3.5 trillion", "50.8%", "mid-40%", "three short years", "2020-2022",
    "March 2023", "six core business groups", "November 2023", "four months", "March 2024",
    "$3.75 billion", "September 2023", "June 2025", "$11.9 billion", "$20.1 billion", "3-5 Years",
    "three battlefields", "1%-4%", "46 million", "up to 59%", "85%", "33%", "18%", "10%",
    "triple-digit", "seven consecutive quarters", "3% to 13%", "45% and 89%", "29% to 45%",
    "CNY 5.0 billion", "triple pressures",
]

MIN_TURNS = 80
MIN_CONVERSATIONS = 15
MIN_UNANSWERABLE = 12
MIN_FALSE_PREMISE = 5

SINGLE_FIELDS = {
    "id": str, "category": str, "section": str, "user_input": str, "reference": str,
    "reference_contexts": list, "figures": list, "answerable": bool,
}
TURN_FIELDS = {k: v for k, v in SINGLE_FIELDS.items() if k != "id"}
TURN_FIELDS["standalone"] = str

BOUNDARY = re.compile(r"[.?!][\"')\]]*\s+[\"'(]?[A-Z]|\n")


def section_spans(text: str) -> dict[str, tuple[int, int]]:
    """Section name -> (start, end) character span, heading line included."""
    lines = text.split("\n")
    offsets, pos = [], 0
    for line in lines:
        offsets.append(pos)
        pos += len(line) + 1
    spans: dict[str, tuple[int, int]] = {}
    heading_idx = []
    for h in HEADINGS:
        idx = [i for i, line in enumerate(lines) if line.strip() == h]
        if len(idx) != 1:
            raise SystemExit(f"checker setup: heading {h!r} found {len(idx)} times in the article")
        heading_idx.append(idx[0])
    if heading_idx != sorted(heading_idx) or heading_idx[0] < 4:
        raise SystemExit("checker setup: headings out of order or preamble too short")
    spans["Title"] = (offsets[0], offsets[1])
    spans["Summary"] = (offsets[1], offsets[2])
    if not lines[2].startswith("Subtitle:"):
        raise SystemExit("checker setup: line 3 does not start with 'Subtitle:'")
    spans["Subtitle"] = (offsets[2], offsets[3])
    spans["Introduction"] = (offsets[3], offsets[heading_idx[0]])
    for k, (h, i) in enumerate(zip(HEADINGS, heading_idx, strict=False)):
        end = offsets[heading_idx[k + 1]] if k + 1 < len(heading_idx) else len(text)
        spans[h] = (offsets[i], end)
    return spans


def occurrences(text: str, sub: str) -> list[int]:
    out, i = [], text.find(sub)
    while i != -1:
        out.append(i)
        i = text.find(sub, i + 1)
    return out


def check_unit(unit: dict, where: str, text: str, spans: dict, errors: list, is_turn: bool) -> None:
    fields = TURN_FIELDS if is_turn else SINGLE_FIELDS
    for name, typ in fields.items():
        if name not in unit:
            errors.append(f"{where}: missing field {name!r}")
        elif not isinstance(unit[name], typ):
            errors.append(f"{where}: field {name!r} should be {typ.__name__}")
    if any(n not in unit or not isinstance(unit[n], fields[n]) for n in fields):
        return
    cat = unit["category"]
    if cat not in CATEGORIES:
        errors.append(f"{where}: unknown category {cat!r}")
    for name in ("user_input", "reference") + (("standalone",) if is_turn else ()):
        if not unit[name].strip():
            errors.append(f"{where}: empty {name!r}")
    section = unit["section"]
    if section not in spans:
        errors.append(f"{where}: unknown section {section!r}")
    ctxs, figs, answerable = unit["reference_contexts"], unit["figures"], unit["answerable"]
    if len(ctxs) > 2:
        errors.append(f"{where}: more than 2 reference_contexts")
    if answerable and not ctxs:
        errors.append(f"{where}: answerable item without reference_contexts")
    in_section = False
    for c in ctxs:
        if not isinstance(c, str) or not c.strip():
            errors.append(f"{where}: empty / non-string reference_context")
            continue
        if c != c.strip():
            errors.append(f"{where}: reference_context has surrounding whitespace: {c!r}")
        if BOUNDARY.search(c):
            errors.append(f"{where}: reference_context spans a sentence boundary: {c!r}")
        occ = occurrences(text, c)
        if not occ:
            errors.append(f"{where}: reference_context not verbatim in article: {c!r}")
            continue
        if section in spans:
            s0, s1 = spans[section]
            if any(s0 <= o and o + len(c) <= s1 for o in occ):
                in_section = True
    if ctxs and section in spans and not in_section and answerable:
        errors.append(f"{where}: no reference_context lies in section {section!r}")
    if not all(isinstance(f, str) and f.strip() for f in figs):
        errors.append(f"{where}: figures must be non-empty strings")
        return
    derived = unit.get("derived", False) is True
    if cat == "derived" and not derived:
        errors.append(f"{where}: derived category without \"derived\": true")
    if not answerable:
        if cat != "unanswerable":
            errors.append(f"{where}: answerable false but category {cat!r}")
        if figs:
            errors.append(f"{where}: unanswerable item with figures")
        if unit["reference"] != NA_REFERENCE:
            errors.append(f"{where}: unanswerable reference should be {NA_REFERENCE!r}")
    else:
        if cat == "unanswerable":
            errors.append(f"{where}: category unanswerable but answerable is true")
        if derived:
            if not figs:
                errors.append(f"{where}: derived item without a derived figure")
            for f in unit.get("inputs", []):
                if f not in text:
                    errors.append(f"{where}: derived input figure not verbatim in article: {f!r}")
        else:
            for f in figs:
                if f not in text:
                    errors.append(f"{where}: figure not verbatim in article: {f!r}")
    if cat == "false_premise":
        if not isinstance(unit.get("premise"), str) or not unit["premise"].strip():
            errors.append(f"{where}: false_premise item without \"premise\"")
        if not figs:
            errors.append(f"{where}: false_premise item should list the correct figure")
    if cat == "figure" and answerable and not figs:
        errors.append(f"{where}: {cat} item without figures")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    ap.add_argument("--article", type=Path, default=DEFAULT_ARTICLE)
    args = ap.parse_args(argv)

    text = args.article.read_text(encoding="utf-8")
    spans = section_spans(text)
    errors: list[str] = []
    ids: Counter = Counter()
    cat_counts: Counter = Counter()
    turn_cat_counts: Counter = Counter()
    sections_seen: set[str] = set()
    figures_seen: set[str] = set()
    n_turns = n_convs = 0

    raw = args.gold.read_bytes()
    try:
        lines = raw.decode("utf-8").split("\n")
    except UnicodeDecodeError as exc:
        print(f"{args.gold}: not UTF-8: {exc}")
        return 1
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"line {lineno}"
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"{where}: invalid JSON: {exc}")
            continue
        if not isinstance(rec, dict):
            errors.append(f"{where}: not a JSON object")
            continue
        rid = rec.get("id")
        if not isinstance(rid, str) or not rid:
            errors.append(f"{where}: missing field 'id'")
        else:
            where = f"line {lineno} ({rid})"
            ids[rid] += 1
        cat = rec.get("category")
        if cat == "conversation":
            n_convs += 1
            cat_counts[cat] += 1
            turns = rec.get("turns")
            if not isinstance(turns, list) or len(turns) < 2:
                errors.append(f"{where}: conversation needs a 'turns' list of 2+ turns")
                continue
            for k, turn in enumerate(turns, 1):
                twhere = f"{where} turn {k}"
                if not isinstance(turn, dict):
                    errors.append(f"{twhere}: not an object")
                    continue
                n_turns += 1
                check_unit(turn, twhere, text, spans, errors, is_turn=True)
                turn_cat_counts[turn.get("category")] += 1
                sections_seen.add(turn.get("section"))
                figures_seen.update(f for f in turn.get("figures", []) if isinstance(f, str))
                if k == 1 and turn.get("standalone") != turn.get("user_input"):
                    errors.append(f"{twhere}: first turn's standalone must equal user_input")
        else:
            n_turns += 1
            cat_counts[cat] += 1
            turn_cat_counts[cat] += 1
            check_unit(rec, where, text, spans, errors, is_turn=False)
            sections_seen.add(rec.get("section"))
            figures_seen.update(f for f in rec.get("figures", []) if isinstance(f, str))
        if isinstance(rid, str) and cat in ID_PREFIX:
            pat = rf"{ID_PREFIX[cat]}-\d{{2}}" if cat == "conversation" else rf"{ID_PREFIX[cat]}-\d{{3}}"
            if not re.fullmatch(pat, rid):
                errors.append(f"{where}: id should look like {pat!r}")

    for rid, n in ids.items():
        if n > 1:
            errors.append(f"id {rid!r} repeats {n} times")

    # coverage minimums
    if n_turns < MIN_TURNS:
        errors.append(f"coverage: {n_turns} turns < {MIN_TURNS}")
    if n_convs < MIN_CONVERSATIONS:
        errors.append(f"coverage: {n_convs} conversations < {MIN_CONVERSATIONS}")
    if turn_cat_counts["unanswerable"] < MIN_UNANSWERABLE:
        errors.append(f"coverage: {turn_cat_counts['unanswerable']} unanswerable < {MIN_UNANSWERABLE}")
    if turn_cat_counts["false_premise"] < MIN_FALSE_PREMISE:
        errors.append(f"coverage: {turn_cat_counts['false_premise']} false_premise < {MIN_FALSE_PREMISE}")
    for s in spans:
        if s not in sections_seen:
            errors.append(f"coverage: no question for section {s!r}")
    for f in ARTICLE_FIGURES:
        if f not in text:
            errors.append(f"checker setup: listed article figure {f!r} not in article")
        elif f not in figures_seen:
            errors.append(f"coverage: article figure {f!r} is never asked for")

    print(f"gold: {args.gold}")
    print("records per category:")
    for c, n in sorted(cat_counts.items(), key=lambda kv: str(kv[0])):
        print(f"  {c}: {n}")
    print("turns per category (single-turn records + conversation turns):")
    for c, n in sorted(turn_cat_counts.items(), key=lambda kv: str(kv[0])):
        print(f"  {c}: {n}")
    print(f"total turns: {n_turns}")
    print(f"conversations: {n_convs}")
    print(f"sections covered: {len(sections_seen & set(spans))}/{len(spans)}")
    if errors:
        print(f"\n{len(errors)} problem(s):")
        for e in errors:
            print(f"  - {e}")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
