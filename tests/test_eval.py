"""The evaluation harness: metric functions on hand-made inputs with known answers, and one end-to-end
run of `python -m eval` on the real article (10 records, no baseline)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from eval import metrics as M
from eval import runner

ROOT = Path(__file__).resolve().parent.parent
DOC = "doc"


# --------------------------------------------------------------------------------------------------
# retrieval


def test_hit_at_k():
    rels = [False, False, True, False]
    assert M.hit_at_k(rels, 1) == 0.0
    assert M.hit_at_k(rels, 2) == 0.0
    assert M.hit_at_k(rels, 3) == 1.0
    assert M.hit_at_k([], 5) == 0.0


def test_mrr():
    assert M.mrr_at_k([True, False], 10) == 1.0
    assert M.mrr_at_k([False, False, True], 10) == pytest.approx(1 / 3)
    assert M.mrr_at_k([False, False, True], 2) == 0.0  # beyond the cut-off
    assert M.mrr_at_k([False] * 12 + [True], 10) == 0.0


def test_ndcg():
    assert M.ndcg_at_k([True, False, False], 10) == pytest.approx(1.0)
    # one relevant item at rank 2: (1/log2 3) / (1/log2 2)
    assert M.ndcg_at_k([False, True], 10) == pytest.approx(1 / M.math.log2(3))
    # two relevant items exist in the collection but only one was ranked (first)
    assert M.ndcg_at_k([True, False], 10, n_relevant=2) == pytest.approx(1 / (1 + 1 / M.math.log2(3)))
    assert M.ndcg_at_k([False, False], 10) == 0.0
    assert M.ndcg_at_k([False, False, True], 2, n_relevant=1) == 0.0


def test_reference_spans_and_relevance_by_containment():
    text = "Intro line. The fine was CNY 18.2 billion. Other things happened. The fine was CNY 18.2 billion."
    refs = M.reference_spans({DOC: text, "other": "nothing here"}, ["The fine was CNY 18.2 billion.", "absent"])
    first = text.find("The fine")
    second = text.rfind("The fine")
    assert refs == [(DOC, first, first + 30), (DOC, second, second + 30)]
    assert M.is_relevant((DOC, first, first + 30), refs)  # exactly the span
    assert M.is_relevant((DOC, 0, first + 40), refs)  # a larger chunk holding it
    assert not M.is_relevant((DOC, first + 1, first + 60), refs)  # cuts its first character
    assert not M.is_relevant((DOC, 0, first + 29), refs)  # cuts its last character
    assert not M.is_relevant(("other", 0, 10_000), refs)  # another document
    assert M.is_relevant((DOC, second - 5, len(text)), refs)  # the second occurrence counts too


def test_evidence_hit_by_overlap():
    refs = [(DOC, 100, 200)]
    assert M.overlaps((DOC, 150, 300), refs)
    assert M.overlaps((DOC, 0, 101), refs)
    assert not M.overlaps((DOC, 200, 300), refs)  # touching is not overlapping
    assert not M.overlaps(("other", 150, 160), refs)
    cited = [(DOC, 0, 50), (DOC, 190, 250)]
    assert M.evidence_hit(cited, refs, 1) == 0.0
    assert M.evidence_hit(cited, refs, 3) == 1.0
    assert M.evidence_hit([], refs, 3) == 0.0


def test_retrieval_scores_over_spans():
    refs = [[(DOC, 10, 20)], [(DOC, 50, 60)]]
    chunks = [(DOC, 0, 30), (DOC, 25, 55), (DOC, 45, 70)]
    rankings = [[chunks[0], chunks[1]], [chunks[1], chunks[0], chunks[2]]]
    out = runner.retrieval_scores(rankings, refs, chunks)
    assert out["hit@1"] == [1.0, 0.0]
    assert out["hit@3"] == [1.0, 1.0]
    assert out["mrr@10"] == [1.0, pytest.approx(1 / 3)]
    assert out["_reachable"] == [1.0, 1.0]


# --------------------------------------------------------------------------------------------------
# answers


def test_token_f1_squad():
    assert M.normalize_answer("The  Cat, sat!") == "cat sat"
    assert M.token_f1("The cat sat", "a cat sat down") == pytest.approx(0.8)
    assert M.token_f1("Eddie Wu [1]", "Eddie Wu.") == pytest.approx(0.8)  # "1" is a token until markers are stripped
    assert M.token_f1(M.strip_markers("Eddie Wu [1]"), "Eddie Wu.") == 1.0
    assert M.token_f1("", "") == 1.0
    assert M.token_f1("something", "") == 0.0
    assert M.token_f1("apples", "oranges") == 0.0


@pytest.fixture(params=["local", "auto"])
def reader(request):
    return M.FigureReader(request.param)


def test_figure_em_exact_and_normalised(reader):
    r = M.figure_match(["CNY 18.2 billion"], "In April 2021, a fine of CNY 18.2 billion (US$2.8 billion) was handed down. [1]", reader=reader)
    assert r.score == 1.0 and not r.missing and not r.contradicting
    # the same money written differently
    assert M.figure_match(["US$2.8 billion"], "It paid $2.8 billion.", reader=reader).score == 1.0
    assert M.figure_match(["3% to 13%"], "Growth re-accelerated from 3% to 13%. [1]", reader=reader).score == 1.0
    assert M.figure_match(["April 2021"], "The fine came in April 2021.", reader=reader).score == 1.0


def test_figure_em_missing_and_wrong_number_zero_the_item(reader):
    missing = M.figure_match(["CNY 18.2 billion"], "Alibaba was fined heavily. [1]", reader=reader)
    assert missing.score == 0.0 and missing.missing == ["CNY 18.2 billion"]
    # the right figure plus a wrong one of the same kind: the wrong number zeroes the item
    wrong = M.figure_match(["CNY 18.2 billion"], "The fine was CNY 18.2 billion, later raised to CNY 28 billion. [1]", reader=reader)
    assert wrong.score == 0.0 and wrong.contradicting and not wrong.missing
    assert wrong.present == 1.0
    # only a wrong number
    assert M.figure_match(["33%"], "Alibaba Cloud holds 18% of the market.", reader=reader).score == 0.0
    # a negated wrong number is a correction, not a contradiction
    assert M.figure_match(["CNY 18.2 billion"], "The fine was CNY 18.2 billion, not CNY 28 billion.", reader=reader).score == 1.0
    # a figure of another kind does not contradict
    assert M.figure_match(["CNY 18.2 billion"], "In April 2021 the fine was CNY 18.2 billion, 48 hours later.", reader=reader).score == 1.0


def test_figure_em_licensed_neighbours(reader):
    ctx = "As early as February 2021, its Daily Active Users (DAU) at 259 million had already surpassed Taobao's 237 million."
    assert M.figure_match(["259 million"], ctx, licensed_texts=[ctx], reader=reader).score == 1.0
    assert M.figure_match(["259 million"], ctx, licensed_texts=[], reader=reader).score == 0.0


def test_premise_corrected(reader):
    fig, premise = ["CNY 18.2 billion"], "the fine was CNY 28 billion"
    assert M.premise_corrected("No, the fine was CNY 18.2 billion.", fig, premise, reader)[0]
    assert M.premise_corrected("The fine was CNY 18.2 billion, not CNY 28 billion. [1]", fig, premise, reader)[0]
    assert not M.premise_corrected("The fine was CNY 28 billion. [1]", fig, premise, reader)[0]
    assert not M.premise_corrected("It was CNY 18.2 billion; others say CNY 28 billion.", fig, premise, reader)[0]


def test_refusal_precision_recall():
    gold_na = [True, True, False, False, True]
    refused = [True, False, True, False, True]
    p, r = M.refusal_pr(gold_na, refused)
    assert p == pytest.approx(2 / 3) and r == pytest.approx(2 / 3)
    assert M.refusal_pr([False], [False]) == (None, None)


def test_citations():
    cited = ["In April 2021, a fine of CNY 18.2 billion was handed down.", "Pinduoduo had 259 million daily users."]
    text = "In April 2021, a fine of CNY 18.2 billion was handed down. [1] Pinduoduo had 300 million daily users. [2] An era ended."
    sents = M.split_answer(text)
    assert [s.markers for s in sents] == [[1], [2], []]
    cs = M.citation_scores(text, cited)
    assert (cs.markers, cs.supported) == (2, 1)  # the second sentence's figure is not in its citation
    assert (cs.sentences, cs.cited_sentences) == (3, 2)
    # a paraphrase with the same figures and most content words is supported
    assert M.supports("A fine of CNY 18.2 billion was handed down in April 2021", cited[0])
    assert not M.supports("Alibaba was fined in April 2021", cited[1])
    # a marker with no citation behind it is unsupported
    assert M.citation_scores("Text. [3]", cited).supported == 0
    # markers inside a sentence leave its full stop behind: punctuation, not an unmarked sentence
    inline = "The fine came first: April 2021 [1], and the reform March 2023 [2]. Quote one. [1]"
    assert [s.markers for s in M.split_answer(inline)] == [[1], [2], [1]]


# --------------------------------------------------------------------------------------------------
# statistics, thresholds, conversations


def test_bootstrap_is_deterministic_with_a_seed():
    values = [1.0] * 30 + [0.0] * 20
    a = M.mean_ci(values, 500, seed=7)
    b = M.mean_ci(values, 500, seed=7)
    c = M.mean_ci(values, 500, seed=8)
    assert a == b and a != c
    assert a[0] < 0.6 < a[1]
    arr = values

    def stat(idx):
        return sum(arr[i] for i in idx) / len(idx)

    assert M.bootstrap_ci(len(arr), stat, 200, seed=3) == M.bootstrap_ci(len(arr), stat, 200, seed=3)
    assert M.mean_ci([1.0, 1.0], 100, 0) == (1.0, 1.0)
    assert M.mean_ci([], 100, 0) is None
    assert M.bootstrap_ci(3, lambda idx: None, 50, 0) is None


def test_percentile():
    assert M.percentile([1, 2, 3, 4, 5], 50) == 3.0
    assert M.percentile([], 95) is None


def test_thresholds(tmp_path):
    p = tmp_path / "t.json"
    p.write_text(json.dumps({"_comment": "x", "hit@1": 0.8, "latency_p95_ms": {"max": 100}, "token_f1": 0.2}))
    thr = runner.load_thresholds(p)
    assert thr == {"hit@1": {"min": 0.8}, "latency_p95_ms": {"max": 100.0}, "token_f1": {"min": 0.2}}
    metrics = {"hit@1": {"value": 0.7}, "latency_p95_ms": {"value": 120.0}, "token_f1": {"value": None, "note": "n/a"}}
    failed, skipped = runner.check_thresholds(metrics, thr)
    assert len(failed) == 2 and "hit@1" in failed[0] and "below" in failed[0] and "above" in failed[1]
    assert skipped and "token_f1" in skipped[0]
    assert runner.check_thresholds({"hit@1": {"value": 0.9}}, {"hit@1": {"min": 0.8}}) == ([], [])


def test_thresholds_file_is_valid():
    thr = runner.load_thresholds(ROOT / "eval" / "thresholds.json")
    assert thr and all(set(b) <= {"min", "max"} for b in thr.values())


def test_conversations_go_through_one_chat_in_order():
    calls = []

    class FakeChat:
        def __init__(self, n):
            self.n = n

        def ask(self, q):
            calls.append(("chat", self.n, q))
            return type("A", (), {"text": q, "citations": [], "answerable": True})()

    class FakeBot:
        chats = 0

        def ask(self, q, history=None):
            calls.append(("ask", q))
            return type("A", (), {"text": q, "citations": [], "answerable": True})()

        def chat(self):
            FakeBot.chats += 1
            return FakeChat(FakeBot.chats)

    recs = [
        {"id": "fig-001", "category": "figure", "user_input": "q1"},
        {"id": "conv-01", "category": "conversation", "turns": [{"user_input": "t1", "standalone": "t1"}, {"user_input": "t2", "standalone": "s2"}]},
    ]
    groups = runner.units_of(recs)
    results = runner.ask_all(FakeBot(), groups)
    assert [r.unit.uid for r in results] == ["fig-001", "conv-01#1", "conv-01#2"]
    timed = calls[runner.WARMUP:]
    assert timed == [("ask", "q1"), ("chat", 1, "t1"), ("chat", 1, "t2")]
    assert all(r.latency_ms is not None and r.error is None for r in results)


# --------------------------------------------------------------------------------------------------
# end to end


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory):
    """The repository's index when it is current, else one built once in a temporary folder."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from bot.config import Settings
    from bot.core import Bot
    from bot.index import staleness

    corpus = ROOT / "corpus"
    if staleness(corpus, ROOT / "index", Settings()) is None:
        try:
            Bot.load(str(corpus), str(ROOT / "index"))  # current: loading never writes
            return ROOT / "index"
        except Exception:  # e.g. a format change without a version bump: build our own
            pass
    folder = tmp_path_factory.mktemp("eval") / "index"
    Bot.load(str(corpus), str(folder))
    return folder


def test_full_harness_writes_reports(index_dir, tmp_path, capsys):
    out = tmp_path / "reports"
    argv = ["--gold", str(ROOT / "eval" / "gold.jsonl"), "--corpus", str(ROOT / "corpus"), "--index", str(index_dir),
            "--out", str(out), "--limit", "10", "--no-baseline", "--bootstrap", "50"]
    code = runner.main(argv)
    assert code in (0, 1)
    report = json.loads((out / "eval.json").read_text(encoding="utf-8"))
    md = (out / "eval.md").read_text(encoding="utf-8")
    assert md.startswith("# Evaluation report") and "| hit@1 |" in md
    assert report["meta"]["records"] == 10 and report["meta"]["units"] == 10
    assert report["baseline"] is None
    for name in ("hit@1", "hit@3", "mrr@10", "ndcg@10", "evidence_hit@1", "figure_em", "token_f1", "latency_p95_ms"):
        assert name in report["metrics"]
    assert 0.0 <= report["metrics"]["hit@1"]["value"] <= 1.0
    assert report["metrics"]["hit@1"]["ci"] is not None
    assert isinstance(report["failures"], list)
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*.tmp"))
    assert (code == 1) == bool(report["threshold_status"]["failed"])
    assert "reports:" in capsys.readouterr().out


def test_gold_set_passes_its_checker(capsys):
    from eval import check_gold

    assert check_gold.main(["--gold", str(ROOT / "eval" / "gold.jsonl")]) == 0, capsys.readouterr().out


# The sets written to the gold set's own rules (the others allow more reference contexts a turn).
HELD_OUT = [f"heldout-{k}.jsonl" for k in "abcdlmnopqrstuvwxy"]


def test_question_ids_are_unique_across_every_set():
    seen: dict[str, str] = {}
    for path in sorted((ROOT / "eval").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            rid = json.loads(line)["id"]
            assert rid not in seen, f"{rid} is in {seen.get(rid)} and {path.name}"
            seen[rid] = path.name


@pytest.mark.parametrize("name", HELD_OUT)
def test_held_out_sets_quote_the_article_and_do_not_repeat_the_gold_set(name):
    from eval import check_gold

    text = check_gold.DEFAULT_ARTICLE.read_text(encoding="utf-8")
    spans = check_gold.section_spans(text)
    gold = {t["user_input"].lower() for r in map(json.loads, (ROOT / "eval" / "gold.jsonl").read_text().splitlines()) for t in r.get("turns", [r])}
    errors: list[str] = []
    records = [json.loads(line) for line in (ROOT / "eval" / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    for r in records:
        turns = r.get("turns")
        for k, unit in enumerate(turns or [r], 1):
            check_gold.check_unit(unit, f"{r['id']} turn {k}", text, spans, errors, bool(turns))
            assert unit["user_input"].lower() not in gold, unit["user_input"]
    assert not errors, errors
    assert len({r["id"] for r in records}) == len(records)
    assert sum(len(r.get("turns") or [r]) for r in records) >= 59


def test_pooled_scores_several_sets_as_one(bot, tmp_path):
    from eval.pooled import pooled

    lines = (ROOT / "eval" / "gold.jsonl").read_text(encoding="utf-8").splitlines()
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text("\n".join(lines[:6]) + "\n", encoding="utf-8")
    b.write_text("\n".join(lines[6:12]) + "\n", encoding="utf-8")
    both = pooled([a, b], bot=bot)
    one = pooled([a], bot=bot)
    assert both["evidence_hit@1"]["n"] > one["evidence_hit@1"]["n"] > 0
    assert 0.0 <= both["evidence_hit@1"]["value"] <= 1.0 and both["unsupported_figure_rate"]["value"] == 0.0
