"""`python -m eval`: run the gold set through the bot and score it (offline, deterministic).

    python -m eval [--gold eval/gold.jsonl] [--corpus corpus] [--index index] [--out eval/reports]
                   [--limit N] [--no-baseline] [--bootstrap 1000] [--seed 0]
                   [--thresholds eval/thresholds.json] [--no-thresholds] [--figures auto|local|bot]

Single-turn records go through `bot.ask`; each conversation's turns through one `bot.chat()`, in
order. Writes `<out>/eval.json` and `<out>/eval.md` (each replaced atomically) and exits 1 when a
metric is under its threshold in `eval/thresholds.json`, printing one line per such metric.

What is measured (see eval/metrics.py for the exact rules):
  retrieval        hit@1/3/5, MRR@10, nDCG@10 (and @3, like for like with the baseline's top 3) of the
                   fused chunk ranking for the gold standalone question, over answerable items; a
                   chunk is relevant when its span contains a whole reference context.
  evidence         hit@1 / hit@3: the answer's first (any of the first 3) citation overlaps a
                   reference context. Unlike retrieval this is end to end (follow-up resolution included).
  answers          figure EM (every expected figure stated, none contradicted), figure recall,
                   token F1 (SQuAD) against `reference`, refusal precision/recall (positive class:
                   unanswerable), false-premise correction, follow-up resolution.
  faithfulness     unsupported-figure rate (the guard's FigureChecks; n/a without bot.guard),
                   citation precision (markers whose cited span supports their sentence) and recall
                   (answer sentences carrying a marker), over answers the bot did not refuse.
  latency          p50/p95 of each ask after 3 warm-up questions; retrieval-only p50/p95 too.
Follow-up resolution counts a rewritten turn (gold standalone != user_input) as resolved when the
bot's standalone question retrieves the same top chunk as the gold standalone OR their token F1 is
>= 0.6 (`followup_resolution`); both parts are reported on their own as well.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import metrics as M

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
WARMUP = 3
FOLLOWUP_F1 = 0.6
OK_FIGURE_STATUSES = frozenset({"ok", "derived"})
CI_METRICS = ("hit@1", "evidence_hit@1", "figure_em", "token_f1", "refusal_precision", "refusal_recall")


# --------------------------------------------------------------------------------------------------
# Gold


@dataclass
class Unit:
    """One question to ask: a single-turn record or one turn of a conversation."""

    uid: str
    record_id: str
    turn: int | None
    gold: dict
    refs: list = field(default_factory=list)

    @property
    def question(self) -> str:
        return self.gold["user_input"]

    @property
    def standalone(self) -> str:
        return self.gold.get("standalone") or self.gold["user_input"]

    @property
    def category(self) -> str:
        return self.gold.get("category", "?")

    @property
    def answerable(self) -> bool:
        return bool(self.gold.get("answerable", True))


def load_gold(path: str | Path, limit: int | None = None) -> list[dict]:
    """Gold records in file order; `limit` keeps the first N records (a conversation is one)."""
    records = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                records.append(json.loads(line))
    return records[:limit] if limit else records


def units_of(records: list[dict]) -> list[list[Unit]]:
    """Records as groups of units: a single-turn record is a group of one, a conversation its turns."""
    groups = []
    for rec in records:
        if rec.get("category") == "conversation":
            groups.append([Unit(f"{rec['id']}#{k}", rec["id"], k, t) for k, t in enumerate(rec.get("turns", []), 1)])
        else:
            groups.append([Unit(rec["id"], rec["id"], None, rec)])
    return groups


# --------------------------------------------------------------------------------------------------
# Running the bot


@dataclass
class Result:
    unit: Unit
    answer: Any = None
    error: str | None = None
    latency_ms: float | None = None

    @property
    def text(self) -> str:
        return getattr(self.answer, "text", "") or ""

    @property
    def refused(self) -> bool:
        return self.answer is not None and getattr(self.answer, "answerable", True) is False

    @property
    def citations(self) -> list:
        return list(getattr(self.answer, "citations", None) or [])

    @property
    def bot_standalone(self) -> str:
        a = self.answer
        return (getattr(a, "standalone_question", "") or getattr(a, "question", "") or self.unit.question) if a is not None else ""


def _timed(fn, *args) -> tuple[Any, str | None, float]:
    t0 = time.perf_counter()
    try:
        out, err = fn(*args), None
    except Exception as e:  # one failing question must not stop the run: it is reported
        out, err = None, f"{type(e).__name__}: {e}"
    return out, err, (time.perf_counter() - t0) * 1000.0


def ask_all(bot, groups: list[list[Unit]]) -> list[Result]:
    """Every unit answered: single turns through `bot.ask`, conversations through one `bot.chat()`."""
    for q in [u.standalone for g in groups for u in g][:WARMUP]:
        try:
            bot.ask(q)
        except Exception:
            pass
    results = []
    for group in groups:
        if group[0].turn is None:
            ans, err, ms = _timed(bot.ask, group[0].question)
            results.append(Result(group[0], ans, err, ms))
        else:
            chat = bot.chat()
            for u in group:
                ans, err, ms = _timed(chat.ask, u.question)
                results.append(Result(u, ans, err, ms))
    return results


class Searches:
    """Cached, timed `bot.retriever.search` calls: the fused chunk ranking of a question."""

    def __init__(self, bot):
        self.bot = bot
        self.cache: dict[str, tuple[int, ...]] = {}
        self.latencies: list[float] = []

    def ranking(self, question: str) -> tuple[int, ...]:
        if question not in self.cache:
            t0 = time.perf_counter()
            found = self.bot.retriever.search(question)
            self.latencies.append((time.perf_counter() - t0) * 1000.0)
            self.cache[question] = tuple(int(c) for c in found.chunk_ids)
        return self.cache[question]


# --------------------------------------------------------------------------------------------------
# Scoring


def _metric(value, n: int, ci=None, note: str | None = None) -> dict:
    out = {"value": None if value is None else round(float(value), 4), "n": n, "ci": None if ci is None else [round(ci[0], 4), round(ci[1], 4)]}
    if note:
        out["note"] = note
    return out


def _mean_metric(values: list[float], boot: int, seed: int, note: str | None = None) -> dict:
    return _metric(M.mean(values), len(values), M.mean_ci(values, boot, seed) if values else None, note)


def retrieval_scores(rankings: list[list[tuple]], refs: list[list], all_spans: list[tuple]) -> dict[str, list[float]]:
    """Per-item hit@k, MRR and nDCG of rankings of spans against each item's reference spans.
    `all_spans` are every chunk the system could return (how many relevant ones exist)."""
    out: dict[str, list[float]] = defaultdict(list)
    for ranking, r in zip(rankings, refs, strict=True):
        rels = [M.is_relevant(s, r) for s in ranking]
        n_rel = sum(1 for s in all_spans if M.is_relevant(s, r))
        for k in (1, 3, 5):
            out[f"hit@{k}"].append(M.hit_at_k(rels, k))
        out["mrr@10"].append(M.mrr_at_k(rels, 10))
        out["ndcg@10"].append(M.ndcg_at_k(rels, 10, n_rel))
        out["mrr@3"].append(M.mrr_at_k(rels, 3))
        out["ndcg@3"].append(M.ndcg_at_k(rels, 3, n_rel))
        out["_reachable"].append(1.0 if n_rel else 0.0)
    return out


def guard_available() -> bool:
    try:
        return importlib.util.find_spec("bot.guard") is not None
    except (ImportError, ValueError):
        return False


def score(bot, results: list[Result], searches: Searches, reader: M.FigureReader, boot: int, seed: int) -> tuple[dict, list[dict], dict]:
    """All metrics, the per-question failure list and per-category breakdown."""
    index = bot.index
    chunk_spans = [(c.doc_id, c.start, c.end) for c in index.chunks]
    metrics: dict[str, dict] = {}
    fails: dict[str, list[dict]] = defaultdict(list)  # uid -> failure entries
    per_cat: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))

    def fail(r: Result, what: str, expected: str, got: str) -> None:
        fails[r.unit.uid].append({"what": what, "expected": expected, "got": got})

    # retrieval over answerable items with reference contexts, for the gold standalone question
    ret_items = [r for r in results if r.unit.answerable and r.unit.refs]
    rankings = [[chunk_spans[c] for c in searches.ranking(r.unit.standalone)][:10] for r in ret_items]
    ret = retrieval_scores(rankings, [r.unit.refs for r in ret_items], chunk_spans)
    for name in ("hit@1", "hit@3", "hit@5", "mrr@10", "ndcg@10", "mrr@3", "ndcg@3"):
        metrics[name] = _mean_metric(ret.get(name, []), boot, seed)
    unreachable = int(len(ret_items) - sum(ret.get("_reachable", [])))
    if unreachable:
        metrics["hit@1"]["note"] = f"{unreachable} item(s) have no chunk containing a reference context"
    for r, h3 in zip(ret_items, ret.get("hit@3", []), strict=True):
        per_cat[r.unit.category]["hit@3"].append(h3)
        if not h3:
            top = index.chunks[searches.ranking(r.unit.standalone)[0]].text if searches.ranking(r.unit.standalone) else ""
            fail(r, "retrieval_miss@3", r.unit.gold["reference_contexts"][0][:120], f"top chunk: {top[:120]}")

    # evidence hit over the same items, from the answer's citations
    ev1, ev3 = [], []
    for r in ret_items:
        cited = [(c.doc_id, c.start, c.end) for c in r.citations]
        h1, h3 = M.evidence_hit(cited, r.unit.refs, 1), M.evidence_hit(cited, r.unit.refs, 3)
        ev1.append(h1)
        ev3.append(h3)
        per_cat[r.unit.category]["evidence_hit@1"].append(h1)
        if not h1:
            got = r.citations[0].text[:120] if r.citations else "(no citation)"
            fail(r, "evidence_miss@1", r.unit.gold["reference_contexts"][0][:120], got)
    metrics["evidence_hit@1"] = _mean_metric(ev1, boot, seed)
    metrics["evidence_hit@3"] = _mean_metric(ev3, boot, seed)

    # figures: answerable items that list figures
    em, rec = [], []
    for r in results:
        g = r.unit.gold
        if not (r.unit.answerable and g.get("figures")):
            continue
        licensed = [g.get("reference", "")] + list(g.get("reference_contexts", [])) + list(g.get("inputs", []))
        fm = M.figure_match(g["figures"], r.text, licensed, reader)
        em.append(fm.score)
        rec.append(fm.present)
        per_cat[r.unit.category]["figure_em"].append(fm.score)
        if fm.missing:
            fail(r, "figure_missing", ", ".join(fm.missing), ", ".join(fm.stated) or "(no figure stated)")
        if fm.contradicting:
            fail(r, "figure_contradiction", ", ".join(g["figures"]), ", ".join(fm.contradicting))
    metrics["figure_em"] = _mean_metric(em, boot, seed, f"figures normalised by {reader.name}")
    metrics["figure_recall"] = _mean_metric(rec, boot, seed, "share of expected figures stated, contradictions ignored")

    # token F1 against the reference, every item
    f1s = []
    for r in results:
        f = M.token_f1(M.strip_markers(r.text), r.unit.gold.get("reference", ""))
        f1s.append(f)
        per_cat[r.unit.category]["token_f1"].append(f)
    metrics["token_f1"] = _mean_metric(f1s, boot, seed)

    # refusals: positive class = unanswerable
    gold_na = [not r.unit.answerable for r in results]
    pred_na = [r.refused for r in results]
    p, rc = M.refusal_pr(gold_na, pred_na)

    def pr_stat(which: int):
        def stat(idx):
            v = M.refusal_pr([gold_na[i] for i in idx], [pred_na[i] for i in idx])[which]
            return v
        return stat

    metrics["refusal_precision"] = _metric(p, sum(pred_na), M.bootstrap_ci(len(results), pr_stat(0), boot, seed) if p is not None else None)
    metrics["refusal_recall"] = _metric(rc, sum(gold_na), M.bootstrap_ci(len(results), pr_stat(1), boot, seed) if rc is not None else None)
    for r, g, pr in zip(results, gold_na, pred_na, strict=True):
        per_cat[r.unit.category]["refusal_correct"].append(1.0 if g == pr else 0.0)
        if g and not pr:
            fail(r, "missed_refusal", "The article doesn't say.", "answered")
        elif pr and not g:
            fail(r, "false_refusal", r.unit.gold.get("reference", "")[:120], "refused")

    # false premises
    fp = []
    for r in results:
        g = r.unit.gold
        if not g.get("premise"):
            continue
        ok, why = M.premise_corrected(r.text, g.get("figures", []), g["premise"], reader)
        fp.append(1.0 if ok else 0.0)
        if not ok:
            fail(r, "premise_not_corrected", f"corrects '{g['premise']}' with {', '.join(g.get('figures', []))}", why)
    metrics["false_premise_correction"] = _mean_metric(fp, boot, seed, "correct figure stated and the wrong one not asserted, or the answer begins with No")

    # follow-ups: conversation turns whose gold standalone differs from what the user typed
    both, same_top, f1ok = [], [], []
    for r in results:
        u = r.unit
        if u.turn is None or u.standalone.strip() == u.question.strip() or r.answer is None:
            continue
        mine = r.bot_standalone
        a, b = searches.ranking(mine), searches.ranking(u.standalone)
        top = 1.0 if a and b and a[0] == b[0] else 0.0
        qf1 = 1.0 if M.token_f1(mine, u.standalone) >= FOLLOWUP_F1 else 0.0
        same_top.append(top)
        f1ok.append(qf1)
        both.append(max(top, qf1))
        if not (top or qf1):
            fail(r, "followup_unresolved", u.standalone, mine)
    metrics["followup_resolution"] = _mean_metric(both, boot, seed, "same top chunk as the gold standalone OR question token F1 >= 0.6")
    metrics["followup_same_top_chunk"] = _mean_metric(same_top, boot, seed)
    metrics["followup_question_f1>=0.6"] = _mean_metric(f1ok, boot, seed)

    # faithfulness: guard verdicts and citations
    answered = [r for r in results if r.answer is not None]
    has_attr = bool(answered) and all(hasattr(r.answer, "figures") for r in answered)
    any_checks = any(getattr(r.answer, "figures", None) for r in answered)
    if guard_available() and has_attr and any_checks:
        flagged = []
        for r in answered:
            bad = [f for f in (getattr(r.answer, "figures", None) or []) if _status(f) not in OK_FIGURE_STATUSES]
            flagged.append(1.0 if bad else 0.0)
            if bad:
                fail(r, "unsupported_figure", "every figure ok/derived", ", ".join(f"{_ftext(f)} ({_status(f)})" for f in bad))
        metrics["unsupported_figure_rate"] = _mean_metric(flagged, boot, seed, "share of answers with a FigureCheck other than ok/derived (lower is better)")
    else:
        why = "bot.guard is missing" if not guard_available() else "answers have no `figures`" if not has_attr else "no answer carries a FigureCheck (guard not applied by Bot.ask)"
        metrics["unsupported_figure_rate"] = _metric(None, 0, note="n/a: " + why)

    n_markers = n_supported = n_sents = n_cited = 0
    for r in answered:
        if r.refused:
            continue
        derived = [f.text for f in getattr(r.answer, "figures", None) or [] if getattr(f, "status", "") == "derived"]
        cs = M.citation_scores(r.text, [getattr(c, "text", None) for c in r.citations], reader, derived)
        n_markers += cs.markers
        n_supported += cs.supported
        n_sents += cs.sentences
        n_cited += cs.cited_sentences
        if cs.unsupported:
            fail(r, "citation_unsupported", "cited span supports its sentence", "; ".join(cs.unsupported)[:200])
        if cs.cited_sentences < cs.sentences:
            fail(r, "uncited_sentence", "every sentence carries a marker", f"{cs.sentences - cs.cited_sentences} of {cs.sentences} sentences unmarked")
    metrics["citation_precision"] = _metric(n_supported / n_markers if n_markers else None, n_markers, note="over the [n] markers of answers not refused")
    metrics["citation_recall"] = _metric(n_cited / n_sents if n_sents else None, n_sents, note="over the sentences of answers not refused")

    # latency
    lat = [r.latency_ms for r in results if r.latency_ms is not None and r.error is None]
    metrics["latency_p50_ms"] = _metric(M.percentile(lat, 50), len(lat), note="per ask, after 3 warm-up questions")
    metrics["latency_p95_ms"] = _metric(M.percentile(lat, 95), len(lat))
    metrics["retrieval_latency_p50_ms"] = _metric(M.percentile(searches.latencies, 50), len(searches.latencies), note="bot.retriever.search alone")
    metrics["retrieval_latency_p95_ms"] = _metric(M.percentile(searches.latencies, 95), len(searches.latencies))

    for r in results:
        if r.error:
            fail(r, "error", "an answer", r.error[:200])

    failures = []
    for r in results:
        if r.unit.uid in fails:
            failures.append({
                "id": r.unit.uid,
                "category": r.unit.category,
                "question": r.unit.question,
                "standalone": r.unit.standalone if r.unit.turn else None,
                "failed": fails[r.unit.uid],
                "answer": r.text[:200],
            })
    cats = {c: {k: {"value": round(sum(v) / len(v), 4), "n": len(v)} for k, v in sorted(d.items())} for c, d in sorted(per_cat.items())}
    return metrics, failures, cats


def _status(f) -> str | None:
    return f.get("status") if isinstance(f, dict) else getattr(f, "status", None)


def _ftext(f) -> str:
    return str(f.get("text") if isinstance(f, dict) else getattr(f, "text", ""))


# --------------------------------------------------------------------------------------------------
# Baseline


def run_baseline(corpus: str | Path, items: list[Unit], boot: int, seed: int) -> dict:
    """llama-index's default pipeline on the same questions: retrieval metrics and latency."""
    from .baseline import build_baseline

    t0 = time.perf_counter()
    base = build_baseline(corpus)
    build_s = time.perf_counter() - t0
    for u in items[:WARMUP]:
        base.retrieve(u.standalone)
    rankings, lat = [], []
    for u in items:
        t = time.perf_counter()
        rankings.append(base.retrieve(u.standalone))
        lat.append((time.perf_counter() - t) * 1000.0)
    ret = retrieval_scores(rankings, [u.refs for u in items], base.nodes)
    out = {name: _mean_metric(ret.get(name, []), boot, seed) for name in ("hit@1", "hit@3", "mrr@10", "ndcg@10", "mrr@3", "ndcg@3")}
    out["retrieval_latency_p50_ms"] = _metric(M.percentile(lat, 50), len(lat), note="retrieve(), after 3 warm-up questions")
    out["retrieval_latency_p95_ms"] = _metric(M.percentile(lat, 95), len(lat))
    n = len(base.nodes)
    out["_info"] = {
        "description": base.description,
        "chunks": n,
        "mean_chunk_chars": round(sum(e - s for _, s, e in base.nodes) / n, 1) if n else None,
        "build_seconds": round(build_s, 2),
        "note": "MRR@10 and nDCG@10 are over its top 3 (all it returns)",
    }
    return out


# --------------------------------------------------------------------------------------------------
# Thresholds and reports


def load_thresholds(path: str | Path) -> dict[str, dict]:
    """metric -> {"min": x} or {"max": x}; a bare number is a minimum; keys starting with _ are comments."""
    p = Path(path)
    if not p.is_file():
        return {}
    raw = json.loads(p.read_text(encoding="utf-8"))
    out = {}
    for k, v in raw.items():
        if k.startswith("_"):
            continue
        out[k] = {"min": float(v)} if isinstance(v, (int, float)) else {b: float(x) for b, x in v.items() if b in ("min", "max")}
    return out


def check_thresholds(metrics: dict[str, dict], thresholds: dict[str, dict]) -> tuple[list[str], list[str]]:
    """(failures, skipped): one line per metric beyond its threshold, and those that could not be checked."""
    failed, skipped = [], []
    for name, bound in thresholds.items():
        value = metrics.get(name, {}).get("value")
        if value is None:
            note = metrics.get(name, {}).get("note") or ""
            skipped.append(f"{name}: no value ({note if note.startswith('n/a') else 'no items in this run' if name in metrics else 'not measured'})")
            continue
        if "min" in bound and value < bound["min"]:
            failed.append(f"FAIL {name} = {value:.4f} is below its threshold {bound['min']:.4f}")
        if "max" in bound and value > bound["max"]:
            failed.append(f"FAIL {name} = {value:.4f} is above its threshold {bound['max']:.4f}")
    return failed, skipped


def write_atomic(path: Path, text: str) -> None:
    """Write a temporary file beside `path`, then os.replace it: readers never see half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _fmt(v, name: str = "") -> str:
    if v is None:
        return "n/a"
    if name.endswith("_ms"):
        return f"{v:.1f}"
    return f"{v:.3f}"


def _ci(m: dict) -> str:
    ci = m.get("ci")
    return f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else ""


SECTIONS = [
    ("Retrieval (fused chunk ranking, gold standalone question)", ["hit@1", "hit@3", "hit@5", "mrr@10", "ndcg@10", "mrr@3", "ndcg@3", "retrieval_latency_p50_ms", "retrieval_latency_p95_ms"]),
    ("Evidence (the answer's citations)", ["evidence_hit@1", "evidence_hit@3"]),
    ("Answers", ["figure_em", "figure_recall", "token_f1", "refusal_precision", "refusal_recall", "false_premise_correction", "followup_resolution", "followup_same_top_chunk", "followup_question_f1>=0.6"]),
    ("Faithfulness", ["unsupported_figure_rate", "citation_precision", "citation_recall"]),
    ("Latency (per turn)", ["latency_p50_ms", "latency_p95_ms"]),
]


def render_markdown(report: dict) -> str:
    m, base, thr = report["metrics"], report.get("baseline") or {}, report["thresholds"]
    meta = report["meta"]
    lines = [
        "# Evaluation report",
        "",
        f"Gold: `{meta['gold']}`: {meta['records']} records, {meta['units']} questions ({meta['conversations']} conversations). "
        f"Figures normalised by {meta['figure_normaliser']}. Bootstrap: {meta['bootstrap']} resamples, seed {meta['seed']} "
        f"(95% percentile intervals over items)." + (f" **Limited to the first {meta['limit']} records.**" if meta.get("limit") else ""),
        "",
    ]
    if base:
        lines += [f"Baseline: {base['_info']['description']} (MRR@10 and nDCG@10 over its top 3, all it returns). "
                  f"The bot ranks {meta['bot_chunks']} chunks of {meta['bot_mean_chunk_chars']:.0f} chars on average.", ""]
    status = report["threshold_status"]
    if not thr:
        lines += ["**Thresholds: not checked**", ""]
    else:
        lines += [f"**Thresholds: {'PASS' if not status['failed'] else 'FAIL'}**" + ("" if not status["failed"] else " - " + "; ".join(status["failed"])), ""]
    lines += [
        "How it is measured: retrieval scores the bot's fused chunk ranking for the gold standalone question; a chunk is "
        "relevant when its span contains a whole reference context. Evidence hit@k: one of the answer's first k citations "
        "overlaps a reference context (end to end, follow-up resolution included; a refusal's 'closest passage' counts). "
        "Figure EM: every expected figure stated (normalised value, scale, currency/unit) and no stated figure of the same "
        "kind that is neither expected nor in the item's reference/contexts, unless negated; figure recall ignores "
        "contradictions. False premise: answer begins with 'No', or states the correct figure without asserting the "
        "premise's wrong one. Follow-up resolution: the bot's standalone question retrieves the same top chunk as the "
        "gold one OR their token F1 >= 0.6 (both parts shown). Citation precision/recall over answers not refused.",
        "",
    ]
    for title, names in SECTIONS:
        lines += [f"## {title}", "", "| metric | bot | 95% CI | n | baseline | threshold | note |", "|---|---|---|---|---|---|---|"]
        for name in names:
            if name not in m:
                continue
            x = m[name]
            b = base.get(name, {}).get("value") if name in base else None
            t = thr.get(name)
            tstr = "" if not t else " ".join(f"{'≥' if k == 'min' else '≤'} {v:g}" for k, v in t.items())
            if t and x["value"] is not None and (("min" in t and x["value"] < t["min"]) or ("max" in t and x["value"] > t["max"])):
                tstr += " **FAIL**"
            lines.append(f"| {name} | {_fmt(x['value'], name)} | {_ci(x)} | {x['n']} | {_fmt(b, name) if name in base else ''} | {tstr} | {x.get('note', '')} |")
        lines.append("")
    if report.get("per_category"):
        keys = ["hit@3", "evidence_hit@1", "figure_em", "token_f1", "refusal_correct"]
        lines += ["## Per category", "", "| category | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys)]
        for cat, d in report["per_category"].items():
            cells = [f"{d[k]['value']:.2f} ({d[k]['n']})" if k in d else "" for k in keys]
            lines.append(f"| {cat} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["## Failures", "", "| failure | questions |", "|---|---|"]
    for what, n in report["failure_counts"].items():
        lines.append(f"| {what} | {n} |")
    lines += ["", "| id | question | failed | expected | got | answer (200 chars) |", "|---|---|---|---|---|---|"]

    def cell(s) -> str:
        return str(s or "").replace("|", "\\|").replace("\n", " ")

    for f in report["failures"]:
        for i, x in enumerate(f["failed"]):
            first = i == 0
            lines.append(
                f"| {cell(f['id'])} | {cell(f['question']) if first else ''} | {cell(x['what'])} | {cell(x['expected'])[:160]} | {cell(x['got'])[:160]} | {cell(f['answer']) if first else ''} |"
            )
    lines.append("")
    return "\n".join(lines)


def print_summary(report: dict) -> None:
    m, base = report["metrics"], report.get("baseline") or {}
    print(f"{'metric':30} {'bot':>9} {'95% CI':>18} {'n':>5} {'baseline':>9}")
    for _, names in SECTIONS:
        for name in names:
            if name in m:
                x = m[name]
                b = _fmt(base[name]["value"], name) if name in base else ""
                print(f"{name:30} {_fmt(x['value'], name):>9} {_ci(x):>18} {x['n']:>5} {b:>9}")
    print("failures: " + ", ".join(f"{k} {v}" for k, v in report["failure_counts"].items()))


# --------------------------------------------------------------------------------------------------
# Entry point


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m eval", description="Score the bot on the gold set (offline).")
    ap.add_argument("--gold", default=str(ROOT / "eval" / "gold.jsonl"))
    ap.add_argument("--corpus", default=str(ROOT / "corpus"))
    ap.add_argument("--index", default=str(ROOT / "index"))
    ap.add_argument("--out", default=str(ROOT / "eval" / "reports"))
    ap.add_argument("--limit", type=int, default=None, help="only the first N gold records (a conversation is one record)")
    ap.add_argument("--no-baseline", action="store_true", help="skip the llama-index baseline")
    ap.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for the 95%% intervals (0: none)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--thresholds", default=str(HERE / "thresholds.json"))
    ap.add_argument("--no-thresholds", action="store_true", help="report only; always exit 0")
    ap.add_argument("--figures", choices=("auto", "local", "bot"), default="auto", help="figure normaliser: bot.quantity when present (auto), or the local grammar")
    return ap.parse_args(argv)


def run(args: argparse.Namespace) -> tuple[dict, int]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from bot.core import Bot

    t_start = time.perf_counter()
    records = load_gold(args.gold, args.limit)
    groups = units_of(records)
    units = [u for g in groups for u in g]
    bot = Bot.load(args.corpus, args.index)
    texts = {d: doc.text for d, doc in bot.index.documents.items()}
    for u in units:
        u.refs = M.reference_spans(texts, u.gold.get("reference_contexts", []))
    reader = M.FigureReader(args.figures)

    results = ask_all(bot, groups)
    searches = Searches(bot)
    metrics, failures, per_cat = score(bot, results, searches, reader, args.bootstrap, args.seed)

    baseline = None
    if not args.no_baseline:
        items = [u for u in units if u.answerable and u.refs]
        baseline = run_baseline(args.corpus, items, args.bootstrap, args.seed)

    thresholds = {} if args.no_thresholds else load_thresholds(args.thresholds)
    failed, skipped = check_thresholds(metrics, thresholds)
    counts = Counter(x["what"] for f in failures for x in f["failed"])
    chunks = bot.index.chunks
    report = {
        "meta": {
            "gold": os.path.relpath(args.gold, ROOT) if str(args.gold).startswith(str(ROOT)) else str(args.gold),
            "records": len(records),
            "units": len(units),
            "conversations": sum(1 for g in groups if g and g[0].turn is not None),
            "limit": args.limit,
            "bootstrap": args.bootstrap,
            "seed": args.seed,
            "figure_normaliser": reader.name,
            "guard": guard_available(),
            "bot_chunks": len(chunks),
            "bot_mean_chunk_chars": round(sum(c.end - c.start for c in chunks) / len(chunks), 1) if chunks else 0,
            "settings": bot.settings.to_dict() if hasattr(bot.settings, "to_dict") else {},
            "errors": sum(1 for r in results if r.error),
            "seconds": round(time.perf_counter() - t_start, 1),
        },
        "metrics": metrics,
        "baseline": baseline,
        "thresholds": thresholds,
        "threshold_status": {"failed": failed, "skipped": skipped},
        "per_category": per_cat,
        "failure_counts": dict(counts.most_common()),
        "failures": failures,
    }
    out = Path(args.out)
    write_atomic(out / "eval.json", json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    write_atomic(out / "eval.md", render_markdown(report))
    return report, (1 if failed else 0)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report, code = run(args)
    print_summary(report)
    for line in report["threshold_status"]["skipped"]:
        print(f"skipped threshold {line}")
    for line in report["threshold_status"]["failed"]:
        print(line)
    print(f"reports: {Path(args.out) / 'eval.json'}, {Path(args.out) / 'eval.md'}")
    return code


if __name__ == "__main__":
    sys.exit(main())
