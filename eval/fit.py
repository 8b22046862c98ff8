"""`python -m eval.fit`: fit the row model and the sentence ranker, with grouped k-fold cross-validation.

    python -m eval.fit [--sets gold,heldout-a,heldout-b,heldout-c] [--folds 5] [--index index]
                       [--ablation] [--out bot/data] [--report eval/reports/fit.md]

Training data comes from the question sets named (never from the blind ones): every question (each
conversation turn too, its history being the gold standalone questions before it) is analysed by the
bot's own `Analyzer`. Rows: a candidate row is positive when its quote is a figure the item expects
(or an input of a derived figure). Sentences: a candidate sentence is positive when it overlaps a
reference context. Folds group by record, so a conversation's turns stay together; each model's score
is also reported with whole question sets held out, the nearer estimate of a set written elsewhere.

Both are scikit-learn LogisticRegression on standardised features; the inverse regularisation C is
chosen by cross-validation, and so are the thresholds: `answer` (a row answers a figure question
outright: most right answers minus wrong ones), `about` (a row is what a question is about: best F1
over candidate rows), and `refuse` (under the best sentence's probability the article is taken not
to answer: the most refusals gained minus answers lost, over all questions). Writes bot/data/rows.json, bot/data/sentences.json
and a report with the cross-validated scores and, with --ablation, each feature left out in turn.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from bot.ranker import BY_KIND, KINDS, RANKED

from . import metrics as M
from .runner import ROOT, load_gold, units_of, write_atomic

DEFAULT_SETS = ("gold", "heldout-a", "heldout-b", "heldout-c", "heldout-d", "heldout-e", "heldout-f", "heldout-g", "heldout-h", "heldout-i",
                "heldout-j", "heldout-k", "heldout-l", "heldout-m", "heldout-n", "heldout-o", "heldout-p", "heldout-q", "heldout-r", "heldout-s", "heldout-t", "offtopic")
C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0)
# Features left out together in the group ablation (a feature with its gap to the best candidate).
FEATURE_GROUPS = {
    "dense similarity": ("dense", "dense_ctx", "dense_own", "dense_prev", "dense_next", "dense_gap", "dense_ctx_gap", "dense_own_gap", "dense_next_gap", "dense_prev_gap"),
    "lexical coverage": ("lexical", "lexical_ctx", "lexical_heading", "lexical_borrowed", "lexical_prev", "lexical_gap", "lexical_ctx_gap"),
    "chunk rank": ("chunk", "chunk_top", "chunk_gap"),
    "headings and the article's questions": ("heading", "question", "prev_question"),
    "answer types (date, person, figure, cause, manner)": ("when_date", "when_time", "when_prev_date", "who_name", "who_person", "who_group", "figure_any",
                                                           "figure_kind", "figure_row", "figure_row_gap", "why_cause", "why_prev", "how_manner", "other_figure"),
    "ranks among the candidates": tuple(f"{n}_rank" for n in RANKED),
    "scores by question kind": tuple(f"{n}@{k}" for k in KINDS for n in BY_KIND),
}


@dataclass
class Item:
    group: str
    question: str
    history: list[tuple[str, str]]
    answerable: bool
    refs: list
    figures: list[str]


def items_of(sets: list[str], texts: dict[str, str]) -> list[Item]:
    out = []
    for name in sets:
        for group in units_of(load_gold(ROOT / "eval" / f"{name}.jsonl")):
            history: list[tuple[str, str]] = []
            for u in group:
                g = u.gold
                figures = list(g.get("figures") or []) + list(g.get("inputs") or [])
                out.append(Item(f"{name}:{u.record_id}", u.question, list(history), u.answerable, M.reference_spans(texts, g.get("reference_contexts", [])), figures))
                # the turn's answer as the bot would give it: the article's sentences that answer it
                history.append((u.standalone, " ".join(g.get("reference_contexts") or []) or g.get("reference", "")))
    return out


def _zero_models():  # noqa: ANN202 - placeholder models: features do not depend on them
    from bot.model import Logistic
    from bot.ranker import FEATURES
    from bot.rows import ROW_FEATURES, RowModel

    def zero(names: tuple[str, ...], thresholds: dict[str, float]) -> Logistic:
        m = Logistic(names, np.zeros(len(names)), np.ones(len(names)), np.zeros(len(names)), 0.0, thresholds)
        object.__setattr__(m, "_columns", np.arange(len(names)))
        return m

    return zero(FEATURES, {"refuse": 0.0}), RowModel(zero(ROW_FEATURES, {"answer": 0.5, "about": 0.5})), None


def _fit(x: np.ndarray, y: np.ndarray, c: float):  # noqa: ANN202 - (mean, scale, LogisticRegression)
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=c, max_iter=5000)
    model.fit((x - mean) / scale, y)
    return mean, scale, model


def _predict(fitted, x: np.ndarray) -> np.ndarray:  # noqa: ANN001
    mean, scale, model = fitted
    return model.predict_proba((x - mean) / scale)[:, 1]


def _folds(groups: list[str], k: int, by_set: bool = False) -> list[np.ndarray]:
    """Fold number of each sample: groups dealt round-robin in sorted order (deterministic GroupKFold).
    `by_set`: whole question sets ("heldout-d" of "heldout-d:hd-fig-01") instead, so that each fold is
    scored on sets written by other hands than those it was fitted on, as a blind set is."""
    if by_set:
        groups = [g.split(":")[0] for g in groups]
    names = sorted(set(groups))
    fold_of = {g: i % k for i, g in enumerate(names)}
    return np.asarray([fold_of[g] for g in groups])


@dataclass
class Table:
    """Samples of one model: features, labels, which question each came from, and its group."""

    x: np.ndarray
    y: np.ndarray
    question: np.ndarray
    groups: list[str]
    names: tuple[str, ...]


def out_of_fold(t: Table, c: float, k: int, columns: list[int] | None = None, train_mask: np.ndarray | None = None,
                by_set: bool = False) -> np.ndarray:
    """Each sample's probability from the model fitted on the other folds (on their `train_mask` samples only, when given)."""
    cols = list(range(t.x.shape[1])) if columns is None else columns
    fold = _folds(t.groups, k, by_set)
    p = np.zeros(len(t.y))
    for f in range(k):
        train, test = fold != f, fold == f
        if train_mask is not None:
            train = train & train_mask
        if not test.any() or len(set(t.y[train])) < 2:
            continue
        p[test] = _predict(_fit(t.x[train][:, cols], t.y[train], c), t.x[test][:, cols])
    return p


def top1(t: Table, p: np.ndarray) -> tuple[float, int]:
    """Share of questions with a positive candidate whose best-scored candidate is positive."""
    hits, n = 0, 0
    for qid in np.unique(t.question):
        m = t.question == qid
        if not t.y[m].any():
            continue
        n += 1
        hits += int(t.y[m][np.argmax(p[m])])
    return (hits / n if n else 0.0), n


def best_c(t: Table, k: int, columns: list[int] | None = None) -> tuple[float, float]:
    scores = [(top1(t, out_of_fold(t, c, k, columns))[0], -c) for c in C_GRID]
    score, neg_c = max(scores)
    return -neg_c, score


def _f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval.fit", description="Fit the row model and the sentence ranker (grouped k-fold CV).")
    ap.add_argument("--sets", default=",".join(DEFAULT_SETS))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--corpus", default=str(ROOT / "corpus"))
    ap.add_argument("--index", default=str(ROOT / "index"))
    ap.add_argument("--out", default=str(ROOT / "bot" / "data"))
    ap.add_argument("--report", default=str(ROOT / "eval" / "reports" / "fit.md"))
    ap.add_argument("--ablation", action="store_true", help="also score the ranker with each feature left out")
    ap.add_argument("--both", action="store_true", help="fit the sentence ranker on drafted tables too (the row and answerability models always are)")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from bot.core import Bot
    from bot.facts import FactTable
    from bot.index import load_index
    from bot.ranker import FEATURES
    from bot.rows import ROW_FEATURES, row_matrix

    t0 = time.perf_counter()
    from bot.config import Settings
    from bot.knowledge import Knowledge
    from bot.model import Logistic
    from bot.rows import RowModel

    settings = Settings()
    index = load_index(args.index, settings)
    texts = {d: doc.text for d, doc in index.documents.items()}
    knowledge = Knowledge.load(args.corpus, texts)
    # Every question twice: with the reviewed tables, and with the tables the grammar drafts (as a
    # document without a reviewed table has), so that the models know both kinds of rows.
    tables = [FactTable.load(args.corpus, knowledge), FactTable.load(args.corpus, knowledge, reviewed=False)]
    sentence_zero, rows_zero, _ = _zero_models()
    sets = [s for s in args.sets.split(",") if s]
    base_items = items_of(sets, texts)
    items, queries, bots = [], [], []
    for table in tables:
        bot = Bot(index, table, settings, models=(sentence_zero, rows_zero, None))
        bots.append(bot)
        for it in base_items:
            items.append(it)
            queries.append(bot.analyzer.analyze(bot.clean_question(it.question), it.history))
    condition = [c for c in range(len(tables)) for _ in base_items]

    # --- rows ---
    rx, ry, rq, rg = [], [], [], []
    for i, (it, q) in enumerate(zip(items, queries, strict=True)):
        if not q.is_figure and not q.figures and not q.operation:
            continue
        found = tables[condition[i]].candidates(q)
        if not found:
            continue
        wanted = {M.norm_text(f) for f in it.figures}
        labels = [1.0 if it.answerable and M.norm_text(f.quote) in wanted else 0.0 for f, _ in found]
        rx.append(row_matrix(found))
        ry += labels
        rq += [i] * len(found)
        rg += [it.group] * len(found)
    rows_t = Table(np.vstack(rx), np.asarray(ry), np.asarray(rq), rg, ROW_FEATURES)
    row_c, row_cv = best_c(rows_t, args.folds)
    row_oof = out_of_fold(rows_t, row_c, args.folds)
    answer_t, answer_score = _answer_threshold(rows_t, row_oof, items)
    about_t, about_f1 = _about_threshold(rows_t, row_oof)
    row_fit = _fit(rows_t.x, rows_t.y, row_c)
    row_sets = top1(rows_t, out_of_fold(rows_t, row_c, args.folds, by_set=True))[0]
    rows_model = _save(Path(args.out) / "rows.json", ROW_FEATURES, row_fit, {"answer": answer_t, "about": about_t}, sets, {
        "top1": round(row_cv, 4), "top1_sets_held_out": round(row_sets, 4), "C": row_c, "answer_net_correct": answer_score, "about_f1": round(about_f1, 4),
        "questions": int(len(set(rq))), "candidates": int(len(ry)), "positives": int(sum(ry)), "tables": "reviewed and drafted",
    })

    # --- sentences (features use the fitted row model for figure questions) ---
    bots = [Bot(index, table, settings, models=(sentence_zero, RowModel(Logistic.load(rows_model, ROW_FEATURES)), None)) for table in tables]
    sx, sy, sq, sg = [], [], [], []
    top_items: dict[int, Item] = {}
    cand_sids: dict[int, tuple[int, ...]] = {}
    for i, (it, q) in enumerate(zip(items, queries, strict=True)):
        bot = bots[condition[i]]
        rows = bot.context.scored_rows(q) if q.is_figure else []
        found = bot.retriever.search(q.text, q.own, q.borrowed)
        if not found.sentence_ids:
            continue
        x = bot.features.of(q, found, rows)
        labels = [1.0 if it.answerable and M.overlaps((index.sentences[s].doc_id, index.sentences[s].start, index.sentences[s].end), it.refs) else 0.0
                  for s in found.sentence_ids]
        sx.append(x)
        cand_sids[i] = found.sentence_ids
        sy += labels
        sq += [i] * len(labels)
        sg += [it.group] * len(labels)
        top_items[i] = it
    sent_all = Table(np.vstack(sx), np.asarray(sy), np.asarray(sq), sg, FEATURES)
    # The ranker learns from the reviewed-table questions (--both: from the drafted ones too); its
    # out-of-fold probabilities cover both, for the answerability model.
    train = np.asarray([args.both or condition[int(q)] == 0 for q in sent_all.question])
    sent_t = Table(sent_all.x[train], sent_all.y[train], sent_all.question[train], [g for g, k in zip(sg, train, strict=True) if k], FEATURES)
    sent_c, sent_cv = best_c(sent_t, args.folds)
    sent_oof = out_of_fold(sent_all, sent_c, args.folds, train_mask=train)
    refuse_t, refuse_f1, refuse_pr = _refuse_threshold(sent_t, sent_oof[train], top_items)
    sent_fit = _fit(sent_t.x, sent_t.y, sent_c)
    answerable_with_refs = sum(1 for i, it in enumerate(items) if it.answerable and it.refs and (args.both or condition[i] == 0))
    reachable = top1(sent_t, sent_oof[train])[1]
    cv = {"top1": round(sent_cv, 4), "top1_sets_held_out": round(top1(sent_t, out_of_fold(sent_t, sent_c, args.folds, by_set=True))[0], 4), "C": sent_c, "questions_with_a_positive_candidate": reachable, "answerable_with_references": answerable_with_refs,
          "hit1_over_answerable": round(sent_cv * reachable / answerable_with_refs, 4) if answerable_with_refs else None,
          "refuse_f1": round(refuse_f1, 4), "refuse_precision": round(refuse_pr[0], 4), "refuse_recall": round(refuse_pr[1], 4),
          "tables": "each question with the reviewed tables and with drafted ones"}
    ablation = {}
    if args.ablation:
        base = list(range(len(FEATURES)))
        for j, name in enumerate(FEATURES):
            cols = [c for c in base if c != j]
            ablation[name] = round(top1(sent_t, out_of_fold(sent_t, sent_c, args.folds, cols))[0], 4)
        cv["ablation_top1_without"] = ablation
        groups = {}
        for group, names in FEATURE_GROUPS.items():
            cols = [c for c in base if FEATURES[c] not in names]
            groups[group] = round(top1(sent_t, out_of_fold(sent_t, sent_c, args.folds, cols))[0], 4)
        cv["ablation_groups_top1_without"] = groups
    _save(Path(args.out) / "sentences.json", FEATURES, sent_fit, {"refuse": refuse_t}, sets, cv)
    ans_cv = _fit_answerable(sent_all, sent_oof, queries, items, cand_sids, args, sets, [bots[c] for c in condition])
    cv["answerable"] = ans_cv
    report = _report(sets, rows_t, sent_t, row_c, row_cv, row_sets, answer_t, answer_score, about_t, about_f1, cv, ablation, sent_fit, row_fit, time.perf_counter() - t0)
    write_atomic(Path(args.report), report)
    print(report)
    return 0


def _fit_answerable(t: Table, p: np.ndarray, queries, items: list[Item], cand_sids, args, sets, bots) -> dict:  # noqa: ANN001
    """The answerability model over whole rankings (out-of-fold sentence probabilities), and its threshold."""
    from bot.reader import ANSWERABLE_FEATURES, Candidate, answerable_features

    rows, labels, groups = [], [], []
    for qid in np.unique(t.question):
        m = np.flatnonzero(t.question == qid)
        order = m[np.argsort(-p[m], kind="stable")]
        q = queries[int(qid)]
        bot = bots[int(qid)]
        sids = cand_sids[int(qid)]
        first = int(np.flatnonzero(t.question == qid)[0])
        ranked = [Candidate(sids[int(j) - first], float(p[j]), t.x[j]) for j in order]
        row_top, stated = 0.0, False
        if q.is_figure:
            scored = bot.context.scored_rows(q)
            row_top = max((v for _, v in scored), default=0.0)
            where = bot.reader.stating(q, bot.facts.stateable(q, q.doc_ids))
            stated = ranked[0].sid in where
        reviewed = bot.features.reviewed(bot.index.sentences[ranked[0].sid].doc_id)
        rows.append(answerable_features(q, ranked, row_top, stated, reviewed, topic=bot.reader.topic_coverage(q, ranked),
                                        periods=bot.reader.period_fit(q, ranked))[0])
        labels.append(1.0 if items[int(qid)].answerable else 0.0)
        groups.append(items[int(qid)].group)
    at = Table(np.asarray(rows), np.asarray(labels), np.arange(len(labels)), groups, ANSWERABLE_FEATURES)
    best = None
    for c in C_GRID:
        oof = out_of_fold(at, c, args.folds)
        net, thr = _net_refusals(oof, at.y)
        if best is None or net > best[0]:
            best = (net, thr, c, oof)
    net, thr, c, oof = best
    # The same C held out by set, its threshold chosen anew: what a question set written elsewhere may expect.
    set_net, _ = _net_refusals(out_of_fold(at, c, args.folds, by_set=True), at.y)
    refused = oof < thr
    tp, fp = int((refused & (at.y == 0)).sum()), int((refused & (at.y == 1)).sum())
    fn = int((~refused & (at.y == 0)).sum())
    _save(Path(args.out) / "answerable.json", ANSWERABLE_FEATURES, _fit(at.x, at.y, c), {"answer": thr}, sets,
          {"C": c, "net_refusals": net, "refusal_precision": round(tp / (tp + fp), 4) if tp + fp else None,
           "refusal_recall": round(tp / (tp + fn), 4) if tp + fn else None, "net_refusals_sets_held_out": set_net,
           "questions": len(labels), "unanswerable": int((at.y == 0).sum())})
    return {"C": c, "net": net, "threshold": thr, "tp": tp, "fp": fp, "fn": fn, "net_sets_held_out": set_net}


def _net_refusals(p_answerable: np.ndarray, answerable: np.ndarray) -> tuple[int, float]:
    """The threshold under which refusing gains the most: unanswerable questions refused minus answerable ones."""
    best = (0, 0.0)
    for g in np.unique(np.round(p_answerable, 4)):
        refused = p_answerable < g
        net = int((refused & (answerable == 0)).sum()) - int((refused & (answerable == 1)).sum())
        best = max(best, (net, -float(g)))
    return best[0], -best[1]


def _answer_threshold(t: Table, p: np.ndarray, items: list[Item]) -> tuple[float, int]:
    """The table answers outright when its best row reaches the threshold: most right answers minus wrong ones."""
    best = []
    for qid in np.unique(t.question):
        m = np.flatnonzero(t.question == qid)
        j = m[np.argmax(p[m])]
        best.append((p[j], bool(t.y[j])))
    grid = sorted({round(float(v), 4) for v, _ in best})
    scored = [(sum(1 if ok else -1 for v, ok in best if v >= g), -g) for g in grid] or [(0, -0.5)]
    score, neg = max(scored)
    return -neg, int(score)


def _about_threshold(t: Table, p: np.ndarray) -> tuple[float, float]:
    grid = np.unique(np.round(p, 4))
    best = (0.0, 0.5)
    for g in grid:
        pred = p >= g
        f1 = _f1(int((pred & (t.y == 1)).sum()), int((pred & (t.y == 0)).sum()), int((~pred & (t.y == 1)).sum()))
        best = max(best, (f1, -float(g)))
    return -best[1], best[0]


def _refuse_threshold(t: Table, p: np.ndarray, items: dict[int, Item]) -> tuple[float, float, tuple[float, float]]:
    tops = []
    for qid in np.unique(t.question):
        m = t.question == qid
        tops.append((float(p[m].max()), not items[int(qid)].answerable))
    best, best_net = (0.0, 0.0, (0.0, 0.0)), 0
    for g in sorted({round(v, 4) for v, _ in tops}):
        tp = sum(1 for v, na in tops if v < g and na)
        fp = sum(1 for v, na in tops if v < g and not na)
        fn = sum(1 for v, na in tops if v >= g and na)
        if tp - fp > best_net:  # most questions right: refusals gained minus answers lost
            best_net = tp - fp
            best = (g, _f1(tp, fp, fn), (tp / (tp + fp) if tp + fp else 0.0, tp / (tp + fn) if tp + fn else 0.0))
    return best


def _save(path: Path, names: tuple[str, ...], fitted, thresholds: dict[str, float], sets: list[str], cv: dict) -> Path:  # noqa: ANN001
    mean, scale, model = fitted
    data = {
        "format": 1, "features": list(names), "mean": [round(float(v), 6) for v in mean], "scale": [round(float(v), 6) for v in scale],
        "weights": [round(float(v), 6) for v in model.coef_[0]], "bias": round(float(model.intercept_[0]), 6),
        "thresholds": {k: round(float(v), 4) for k, v in thresholds.items()},
        "fitted_on": sets, "cv": cv, "date": date.today().isoformat(), "by": "python -m eval.fit",
    }  # fmt: skip
    write_atomic(path, json.dumps(data, indent=1) + "\n")
    return path


def _report(sets, rows_t, sent_t, row_c, row_cv, rows_cv_sets, answer_t, answer_score, about_t, about_f1, cv, ablation, sent_fit, row_fit, seconds) -> str:  # noqa: ANN001
    lines = ["# Fitted models", "", f"`python -m eval.fit` on {', '.join(sets)}; grouped {len(C_GRID)}-value C grid, 5-fold grouped CV; {seconds:.0f} s.", "",
             "## Row model (`bot/data/rows.json`)", "",
             f"{len(set(rows_t.question.tolist()))} questions, {len(rows_t.y)} candidate rows, {int(rows_t.y.sum())} positive. "
             f"C = {row_c}; cross-validated top-1 {row_cv:.3f} ({rows_cv_sets:.3f} with whole sets held out); threshold `answer` {answer_t:.4f} (net right answers {answer_score}), "
             f"`about` {about_t:.4f} (F1 {about_f1:.3f}).", "", "| feature | weight |", "|---|---|"]
    lines += [f"| {n} | {w:+.3f} |" for n, w in zip(rows_t.names, row_fit[2].coef_[0], strict=True)]
    lines += ["", "## Sentence ranker (`bot/data/sentences.json`)", "",
              f"{len(set(sent_t.question.tolist()))} questions, {len(sent_t.y)} candidates, {int(sent_t.y.sum())} positive. C = {cv['C']}; "
              f"cross-validated top-1 {cv['top1']:.3f} ({cv['top1_sets_held_out']:.3f} with whole sets held out) over the {cv['questions_with_a_positive_candidate']} questions with a positive candidate "
              f"({cv['hit1_over_answerable']} over all {cv['answerable_with_references']} answerable). Its own refusal threshold (best probability), "
              f"chosen for the most refusals gained minus answers lost: F1 {cv['refuse_f1']:.3f} (P {cv['refuse_precision']:.3f}, R {cv['refuse_recall']:.3f}); "
              f"the answerability model: {cv.get('answerable')}.", "", "| feature | weight | CV top-1 without it |", "|---|---|---|"]
    lines += [f"| {n} | {w:+.3f} | {ablation.get(n, '') if ablation else ''} |" for n, w in zip(sent_t.names, sent_fit[2].coef_[0], strict=True)]
    if cv.get("ablation_groups_top1_without"):
        lines += ["", f"Leaving a group of features out (CV top-1 with all: {cv['top1']:.4f}):", "", "| left out | CV top-1 |", "|---|---|"]
        lines += [f"| {g} | {v:.4f} |" for g, v in cv["ablation_groups_top1_without"].items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
