"""Honest benchmark of the category classifier on real data, beside a plain baseline in the same run.

Nested cross-validation. The outer loop is stratified 5-fold; on each outer training part
`jiesu.intel.classifier.TextModel.fit` makes every choice itself, by 3-fold cross-validation inside that part only:
title word and title character weights, the SVM's C, the temperature, the auto-apply threshold (the lowest
probability whose proposals hold `--target` accuracy, default 92 %) and the familiarity floor. The outer test part is
never seen by any of these choices. The unlabelled texts (2,801 for Teddy) and the taxonomy's names are used by
every fold, as in production: they carry no labels of the test rows.

Printed per data set:
- baseline (character 1–3-gram TF-IDF + LinearSVC, defaults) and jiesu: macro-F1, accuracy;
- jiesu: top-3 accuracy, expected calibration error (ECE, 10 bins) of its probabilities on the outer test parts;
- auto-apply as production does it (threshold and familiarity chosen inside the training part): the share of outer
  test rows it would fill (coverage) and how many of those are right;
- the coverage at which the pooled outer-fold probabilities reach the target accuracy (the best threshold in
  hindsight, for comparison), and the same for the baseline's decision margin.
Open set (`--open-set`): for each category, the model is trained without it (same nested procedure) and applied to
that category's texts; the share it would auto-apply is printed (target under 5 %), beside how many it would
auto-apply with the probability threshold alone.

Usage: .venv/bin/python bench/nlp_classify.py [--sets teddy,hangzhou,fuzhou] [--folds 5] [--no-open-set]
Reads ../shared/data (JIESU_SHARED_DATA overrides); skips a set whose files are absent. No thresholds asserted.
"""

import argparse
import os
import resource
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiesu.settings")
os.environ.setdefault("JIESU_DEMO", "1")  # benchmarks use the demo city and its generators

import django

django.setup()

import numpy as np  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from jiesu.demo import datasets  # noqa: E402
from jiesu.intel.classifier import TextModel, expected_calibration_error, threshold_for  # noqa: E402
from jiesu.intel.tabular import read_taxonomy  # noqa: E402

warnings.filterwarnings("ignore", message="The least populated class")
OLD_QUANTILE = 30  # the issue-19 first rule: probability threshold and the P30 familiarity floor

SETS = {
    "teddy": (datasets.teddy, (datasets.TEDDY_LABELLED, datasets.TEDDY_UNLABELLED, datasets.TEDDY_TAXONOMY)),
    "hangzhou": (datasets.hangzhou, (datasets.HANGZHOU,)),
    "fuzhou": (datasets.fuzhou, (datasets.FUZHOU,)),
}


def baseline(train_docs, train_y, test_docs):
    """(predictions, margin of the top decision over the second) of the plain model."""
    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
    svm = LinearSVC().fit(vec.fit_transform(["。".join(d) for d in train_docs]), train_y)
    d = svm.decision_function(vec.transform(["。".join(d) for d in test_docs]))
    d = d.reshape(len(test_docs), -1)
    top2 = np.sort(d, axis=1)[:, -2:]
    return svm.classes_[d.argmax(axis=1)], top2[:, 1] - top2[:, 0]


def coverage_at(conf, right, target):
    t, _ = threshold_for(conf, right, target)
    return 0.0 if t is None else float(np.mean(conf >= t))


def cross_validate(data, folds, target):
    y = np.array(data.labels, dtype=object)
    base_pred = np.empty(len(y), dtype=object)
    base_margin = np.zeros(len(y))
    pred = np.empty(len(y), dtype=object)
    conf = np.zeros(len(y))
    sure = np.zeros(len(y), dtype=bool)
    top3 = np.zeros(len(y), dtype=bool)
    proba_rows, truth_rows, chosen = [], [], []
    by_floor: dict[int, np.ndarray] = {}
    by_open: dict[float, np.ndarray] = {}
    old_rule = np.zeros(len(y), dtype=bool)
    closed_p: dict[int, dict[str, float]] = {}  # each row's outer-fold probabilities, for the open set's label overlap
    t0 = time.perf_counter()
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(data.docs, y):
        tr_docs = [data.docs[i] for i in train]
        te_docs = [data.docs[i] for i in test]
        base_pred[test], base_margin[test] = baseline(tr_docs, y[train], te_docs)
        model = TextModel(target=target).fit(
            tr_docs, list(y[train]), unlabelled=data.unlabelled, taxonomy=data.taxonomy
        )
        chosen.append(
            model.meta["chosen"]
            | {"T": model.meta["temperature"], "threshold": model.meta["threshold"], "open": model.meta["open_floor"]}
        )
        proba, ok, fam = model.sure(te_docs)
        over = proba.max(axis=1) >= (model.threshold if model.threshold is not None else 2.0)
        for q, floor in model.familiar_floors.items():
            by_floor.setdefault(q, np.zeros(len(y), dtype=bool))[test] = over & (fam >= floor)
        old_rule[test] = over & (fam >= model.familiar_floors[OLD_QUANTILE])
        d = model.decision(te_docs)
        for m, floor in getattr(model, "open_floors", {}).items():
            by_open.setdefault(m, np.zeros(len(y), dtype=bool))[test] = (
                over & (fam >= model.familiar_floor) & model.known(d, floor)
            )
        classes = np.array(model.classes, dtype=object)
        pred[test] = classes[proba.argmax(axis=1)]
        conf[test] = proba.max(axis=1)
        sure[test] = ok
        best3 = np.argsort(-proba, axis=1)[:, :3]
        top3[test] = [y[i] in classes[b] for i, b in zip(test, best3, strict=True)]
        proba_rows.append(proba)
        for i, row in zip(test, proba, strict=True):
            closed_p[int(i)] = dict(zip(model.classes, row.tolist(), strict=True))
        truth_rows.append(np.array([model.classes.index(v) if v in model.classes else -1 for v in y[test]]))
    seconds = time.perf_counter() - t0
    right = pred == y
    return {
        "base_f1": f1_score(y, base_pred, average="macro"),
        "base_acc": accuracy_score(y, base_pred),
        "base_cov": coverage_at(base_margin, base_pred == y, target),
        "f1": f1_score(y, pred, average="macro", labels=sorted(set(y))),  # the labelled classes
        "acc": accuracy_score(y, pred),
        "top3": top3.mean(),
        "ece": expected_calibration_error(np.vstack(proba_rows), np.concatenate(truth_rows)),
        "auto_cov": sure.mean(),
        "auto_acc": right[sure].mean() if sure.any() else float("nan"),
        "hind_cov": coverage_at(conf, right, target),
        "seconds": seconds,
        "chosen": chosen,
        "floors": {q: (m.mean(), right[m].mean() if m.any() else float("nan")) for q, m in by_floor.items()},
        "opens": {q: (m.mean(), right[m].mean() if m.any() else float("nan")) for q, m in by_open.items()},
        "closed_p": closed_p,
        "old_cov": old_rule.mean(),
        "old_acc": right[old_rule].mean() if old_rule.any() else float("nan"),
    }


def open_set(data, target, result):
    """Each category left out of training in turn: how often its texts would be auto-applied, by the open-set gate
    (calibrated inside the training data by leaving each of its categories out in turn) and, in the same run, by the
    issue-19 first rule (probability threshold and the P30 familiarity floor)."""
    y = np.array(data.labels, dtype=object)
    print(f"\nopen set on {data.name}: each category left out of training; share of its texts auto-applied")
    print(f"{'left out':<16}{'texts':>6}{'gate (now)':>12}{'P30 rule (before)':>19}{'p ≥ threshold only':>20}")
    total = applied = by_p = by_old = overlap = 0
    open_by_floor: dict[int, int] = {}
    open_by_level: dict[float, int] = {}
    for held in sorted(set(data.labels)):
        keep = y != held
        model = TextModel(target=target).fit(
            [d for d, k in zip(data.docs, keep, strict=True) if k],
            list(y[keep]),
            unlabelled=data.unlabelled,
            taxonomy={k: v for k, v in data.taxonomy.items() if k != held},
        )
        te = [d for d, k in zip(data.docs, keep, strict=True) if not k]
        proba, ok, fam = model.sure(te)
        over = proba.max(axis=1) >= (model.threshold if model.threshold is not None else 2.0)
        for q, floor in model.familiar_floors.items():
            open_by_floor[q] = open_by_floor.get(q, 0) + int((over & (fam >= floor)).sum())
        d = model.decision(te)
        for m, floor in getattr(model, "open_floors", {}).items():
            gate = over & (fam >= model.familiar_floor) & model.known(d, floor)
            open_by_level[m] = open_by_level.get(m, 0) + int(gate.sum())
        old = over & (fam >= model.familiar_floors[OLD_QUANTILE])
        proposed = [model.classes[j] for j in proba.argmax(axis=1)]
        for i, p, applies in zip(np.flatnonzero(~keep), proposed, ok, strict=True):
            overlap += int(applies and result["closed_p"][int(i)].get(p, 0.0) >= 0.5)
        total += len(te)
        applied += int(ok.sum())
        by_p += int(over.sum())
        by_old += int(old.sum())
        print(f"{held:<16}{len(te):>6}{ok.mean():>12.1%}{old.mean():>19.1%}{over.mean():>20.1%}")
    print(f"{'all':<16}{total:>6}{applied / total:>12.1%}{by_old / total:>19.1%}{by_p / total:>20.1%}")
    print(
        f"of the {applied} left-out texts the gate auto-applies, {overlap} ({overlap / total:.1%} of all left-out "
        f"texts) are filed under the same proposed class with p ≥ 0.5 by the model that learned their category "
        f"(outer folds): label overlap between the categories rather than novelty"
    )
    print(
        f"\nclosed set in the same run (outer folds): gate (now) coverage {result['auto_cov']:.1%} at "
        f"{result['auto_acc']:.1%}; P30 rule (before) coverage {result['old_cov']:.1%} at {result['old_acc']:.1%}"
    )
    print("\ntrade-off of the open-set gate (the share of left-out-category texts allowed inside training):")
    print(f"{'allowed':>8}{'closed-set coverage':>21}{'accuracy':>10}{'open-set auto-applied':>23}")
    for m in sorted(open_by_level):
        cov, acc = result["opens"][m]
        print(f"{m:>8.0%}{cov:>21.1%}{acc:>10.1%}{open_by_level[m] / total:>23.1%}")
    print("\nbefore: trade-off of the familiarity floor (the percentile of the right held-out proposals' familiarity):")
    print(f"{'floor':>8}{'closed-set coverage':>21}{'accuracy':>10}{'open-set auto-applied':>23}")
    for q in sorted(open_by_floor):
        cov, acc = result["floors"][q]
        print(f"{'P' + str(q):>8}{cov:>21.1%}{acc:>10.1%}{open_by_floor[q] / total:>23.1%}")


def speed():
    data = datasets.teddy()
    t0 = time.perf_counter()
    model = TextModel().fit(data.docs, data.labels, unlabelled=data.unlabelled, taxonomy=data.taxonomy)
    train_s = time.perf_counter() - t0
    batch = data.unlabelled
    model.predict_proba(batch[:50])  # warm up
    t0 = time.perf_counter()
    model.top(batch, 3)
    batch_s = time.perf_counter() - t0
    one = []
    for doc in batch[:300]:
        t = time.perf_counter()
        model.assess(doc, 3)
        one.append((time.perf_counter() - t) * 1000)
    chars = statistics.mean(len("".join(d)) for d in batch)
    print(f"\ntrain on all {len(data.docs)} labels + {len(data.unlabelled)} unlabelled (own grid): {train_s:.1f} s")
    print(f"  chosen {model.meta['chosen']}, T {model.meta['temperature']}, threshold {model.meta['threshold']}")
    print(
        f"batch: {len(batch)} texts (mean {chars:.0f} characters) in {batch_s:.2f} s "
        f"= {len(batch) / batch_s:,.0f} texts/s"
    )
    print(
        f"one text (top 3 + explaining terms + familiarity): median {statistics.median(one):.2f} ms, "
        f"p95 {np.percentile(one, 95):.2f} ms"
    )
    print(f"peak memory (max RSS of this process): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", default="teddy")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--target", type=float, default=0.92)
    parser.add_argument("--no-open-set", action="store_true")
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument(
        "--full-taxonomy",
        action="store_true",
        help="Teddy: the model also knows the 8 first-level categories of 附件1 that have no labelled message, by "
        "their names (as production knows every catalogue category); a left-out category's names are still left out",
    )
    args = parser.parse_args()
    print(
        f"nested cross-validation: outer stratified {args.folds}-fold; every choice inside the training part "
        f"(3-fold); auto-apply target {args.target:.0%}\nbaseline = char 1–3-gram TF-IDF + LinearSVC (defaults); "
        f"its coverage uses the top-2 decision margin\n"
    )
    print(
        f"{'data set':<22}{'rows':>6}{'cls':>4}  {'base F1':>8}{'acc':>6}{'cov@t':>7}  {'jiesu F1':>9}{'acc':>6}"
        f"{'top-3':>7}{'ECE':>7}  {'auto cov':>9}{'auto acc':>9}{'cov@t':>7}{'time':>8}"
    )
    loaded, results = {}, {}
    for name in args.sets.split(","):
        load, files = SETS[name]
        why = datasets.missing(*files)
        if why:
            print(f"{name:<22}skipped: {why}")
            continue
        data = loaded[name] = load()
        if name == "teddy" and args.full_taxonomy:
            data.taxonomy = read_taxonomy(datasets.root() / datasets.TEDDY_TAXONOMY)
        r = results[name] = cross_validate(data, args.folds, args.target)
        print(
            f"{data.name:<22}{len(data.docs):>6}{len(set(data.labels)):>4}  {r['base_f1']:>8.3f}{r['base_acc']:>6.3f}"
            f"{r['base_cov']:>7.1%}  {r['f1']:>9.3f}{r['acc']:>6.3f}{r['top3']:>7.3f}{r['ece']:>7.3f}  "
            f"{r['auto_cov']:>9.1%}{r['auto_acc']:>9.1%}{r['hind_cov']:>7.1%}{r['seconds']:>7.1f}s"
        )
        for n, c in enumerate(r["chosen"], 1):
            print(f"    outer fold {n}: chose {c}")
    if not args.no_open_set:
        for name, data in loaded.items():
            open_set(data, args.target, results[name])
    if not args.no_speed and "teddy" in loaded:
        speed()


if __name__ == "__main__":
    main()
