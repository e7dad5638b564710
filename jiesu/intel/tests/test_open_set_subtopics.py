"""Issue 19, open set (second round): the gate scores how squarely a text sits inside one of the proposed class's
sub-topics (k-means inside each class, a linear SVM over all sub-topics, averaged over seeds), calibrated by leaving
each category out inside the training data; the top decision's gate is measured beside it."""

from pathlib import Path

import numpy as np

from jiesu.intel import classifier
from jiesu.intel.classifier import TextModel
from jiesu.intel.tests.synthetic import synthetic


def test_the_gate_scores_the_proposed_classs_sub_topics_and_both_gates_are_measured() -> None:
    docs, labels = synthetic(n=45)  # 45 rows a class: two sub-topics each
    model = TextModel(select=False).fit(docs, labels)
    assert len(model.subtopics) == len(classifier.SUBTOPIC_SEEDS)
    for _, _, owner in model.subtopics:
        assert sorted(np.unique(owner, return_counts=True)[1].tolist()) == [2, 2, 2, 2]
    table = model.meta["open_set"]
    assert table["score"] == "support" and table["left_out"] == 4 and table["unknown_rows"] == len(docs)
    assert [r["open_max"] for r in table["levels"]] == [r["open_max"] for r in table["levels_top_decision"]]
    for row in (*table["levels"], *table["levels_top_decision"]):
        assert row["open_applied"] <= row["open_max"]  # inside the training data, by construction
    assert model.open_floor == model.open_floors[model.open_set_max]
    assert set(model.open_floors_top) == set(model.open_floors)
    # the gate reads the support, not the top decision: a floor above every support makes the model unsure of all
    x = model.features(docs)
    support = model.open_scores(x, model._decide(x))
    assert support.shape == (len(docs),) and np.isfinite(support).all()
    model.open_floor = float(support.max()) + 0.01
    assert not model.sure(docs)[1].any()
    assert model.assess(docs[0]).reason == "unfamiliar"


def test_a_saved_model_keeps_its_sub_topics_and_an_older_model_gates_on_the_top_decision(tmp_path: Path) -> None:
    docs, labels = synthetic()
    model = TextModel(select=False).fit(docs, labels)
    model.save(tmp_path / "m.joblib")
    loaded = TextModel.load(tmp_path / "m.joblib")
    x = loaded.features(docs)
    d = loaded._decide(x)
    assert np.allclose(loaded.open_scores(x, d), model.open_scores(model.features(docs), d))
    assert (loaded.sure(docs)[1] == model.sure(docs)[1]).all()
    del loaded.__dict__["subtopics"]  # a model file written before the sub-topics
    assert np.array_equal(loaded.open_scores(x, d), d.max(axis=1))
    loaded.sure(docs)  # still answers
