"""The fitting harness's folds, and the rows a figure answer may state (one definition for the bot and eval.fit)."""

from __future__ import annotations

import numpy as np
import pytest

from eval import fit


def _groups() -> list[str]:
    return [f"{s}:{s[-1]}{r}" for s in ("gold", "heldout-a", "heldout-b", "heldout-c", "heldout-d", "heldout-e", "heldout-f") for r in range(4) for _ in range(3)]


def test_folds_keep_a_record_together_and_by_set_a_whole_set():
    groups = _groups()
    by_record = fit._folds(groups, 5)
    by_set = fit._folds(groups, 5, by_set=True)
    for g in set(groups):
        assert len({by_record[i] for i, x in enumerate(groups) if x == g}) == 1
    for s in {g.split(":")[0] for g in groups}:
        assert len({by_set[i] for i, x in enumerate(groups) if x.startswith(s + ":")}) == 1
    # grouped by record, one set's records spread over several folds
    assert len({by_record[i] for i, x in enumerate(groups) if x.startswith("gold:")}) > 1
    assert set(by_set.tolist()) == set(range(5))


def test_out_of_fold_by_set_predicts_each_set_from_the_others_only():
    groups = _groups()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(len(groups), 2))
    y = (x[:, 0] > 0).astype(float)
    # one set has the opposite labelling: predicted from the other sets, it comes out mostly wrong
    odd = np.asarray([g.startswith("heldout-c:") for g in groups])
    y[odd] = 1.0 - y[odd]
    t = fit.Table(x, y, np.arange(len(y)), groups, ("a", "b"))
    p = fit.out_of_fold(t, 1.0, 5, by_set=True)
    assert ((p[odd] >= 0.5) == (y[odd] == 1)).mean() < 0.2
    assert ((p[~odd] >= 0.5) == (y[~odd] == 1)).mean() > 0.7


@pytest.mark.parametrize(("question", "entity"), [("What share of China's cloud market does Tencent Cloud hold?", "Tencent Cloud"),
                                                 ("What was Pinduoduo's GMV in 2024?", "Pinduoduo")])
def test_a_figure_answer_may_state_only_rows_of_the_entity_asked(bot, question, entity):  # noqa: ANN001
    query = bot.analyze(question)
    rows = bot.facts.stateable(query, query.doc_ids)
    assert rows, question
    # the sentences also state Alibaba Cloud's share and Alibaba's GMV: not rows this answer may state
    assert {f.entity for f in rows} <= {e for e in bot.facts.knowledge.aliases if bot.facts.affinity(entity, e) or bot.facts.affinity(e, entity)}


def test_without_a_name_a_figure_answer_may_state_any_entitys_row_of_the_metric(bot):  # noqa: ANN001
    query = bot.analyze("What share of China's cloud market does each provider hold?")
    assert len({f.entity for f in bot.facts.stateable(query, query.doc_ids)}) >= 3
