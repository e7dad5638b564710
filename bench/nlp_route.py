"""Benchmark of the learned router: which agency/department handles a request, on US 311 samples.

For NYC (complaint type, descriptor, location type → agency), SF (category, complaint type, descriptor →
agency) and LA (request type, source → owner department) it runs stratified 5-fold cross-validation of
- baseline: word TF-IDF + linear SVM on the same fields, fitted on the training folds only;
- jiesu: `jiesu.intel.classifier.TextModel`, the model behind `services.train_router`,
and prints top-1 and top-3 accuracy of each, and jiesu's routing time per request. Coverage at 92 %: "auto cov" is
the share jiesu would route alone with the threshold and familiarity floor it chose inside the training folds
("auto acc" how many of those are right); "cov@92" is the share at the best threshold in hindsight on the pooled
test folds (for the baseline, on its top-2 decision margin).
Classes with fewer than 5 rows are folded into "other" so that every fold can hold them out.

Usage: .venv/bin/python bench/nlp_route.py [--cities NYC,SF,LA] [--rows 10000]
Reads ../shared/data (JIESU_SHARED_DATA overrides); skips a city whose file is absent. No thresholds.
"""

import argparse
import os
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiesu.settings")
os.environ.setdefault("JIESU_DEMO", "1")  # benchmarks use the demo city and its generators

import django

django.setup()

import numpy as np  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from jiesu.demo import datasets  # noqa: E402
from jiesu.intel.classifier import TextModel, threshold_for  # noqa: E402

warnings.filterwarnings("ignore", message="The least populated class")


TARGET = 0.92


def coverage_at(conf, right, target):
    """The share of requests whose confidence clears the lowest threshold that holds `target` accuracy."""
    t, _ = threshold_for(conf, right, target)
    return 0.0 if t is None else float(np.mean(conf >= t))


def top_hits(scores, classes, truth, k):
    best = np.argsort(-scores, axis=1)[:, :k]
    classes = np.asarray(classes, dtype=object)
    return np.array([t in classes[b] for t, b in zip(truth, best, strict=True)])


def run(city, rows):
    data = datasets.us311(city)
    # as in services.router_doc: the structured fields (category, type, place) are the words the router reads
    docs, labels = [(" ".join(d), "") for d in data.docs[:rows]], data.labels[:rows]
    counts = Counter(labels)
    y = np.array([label if counts[label] >= 5 else "other" for label in labels], dtype=object)
    base1 = np.zeros(len(y), bool)
    base3 = np.zeros(len(y), bool)
    top1 = np.zeros(len(y), bool)
    top3 = np.zeros(len(y), bool)
    sure = np.zeros(len(y), bool)
    conf = np.zeros(len(y))
    base_margin = np.zeros(len(y))
    predict_s = 0.0
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(docs, y):
        tr = [docs[i] for i in train]
        te = [docs[i] for i in test]
        vec = TfidfVectorizer(sublinear_tf=True)
        svm = LinearSVC().fit(vec.fit_transform([" ".join(d) for d in tr]), y[train])
        d = svm.decision_function(vec.transform([" ".join(d) for d in te])).reshape(len(te), -1)
        classes = svm.classes_ if len(svm.classes_) > 2 else svm.classes_[[1]]
        base1[test] = top_hits(d, classes, y[test], 1)
        two = np.sort(d, axis=1)[:, -2:] if d.shape[1] > 1 else np.column_stack([-d[:, 0], d[:, 0]])
        base_margin[test] = two[:, 1] - two[:, 0]
        base3[test] = top_hits(d, classes, y[test], 3)
        model = TextModel(balanced=False, open_set=False).fit(tr, list(y[train]))
        t0 = time.perf_counter()
        p, ok, _ = model.sure(te)
        predict_s += time.perf_counter() - t0
        sure[test] = ok
        conf[test] = p.max(axis=1)
        top1[test] = top_hits(p, model.classes, y[test], 1)
        top3[test] = top_hits(p, model.classes, y[test], 3)
    base_cov = coverage_at(base_margin, base1, TARGET)
    hind = coverage_at(conf, top1, TARGET)
    auto_acc = top1[sure].mean() if sure.any() else float("nan")
    print(
        f"{data.name:<28}{len(y):>7}{len(set(y)):>8}  {base1.mean():>8.3f}{base3.mean():>8.3f}{base_cov:>8.1%}  "
        f"{top1.mean():>8.3f}{top3.mean():>8.3f}{sure.mean():>9.1%}{auto_acc:>9.1%}{hind:>8.1%}"
        f"{predict_s / len(y) * 1000:>9.3f}"
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cities", default="SF")
    parser.add_argument("--rows", type=int, default=10000)
    args = parser.parse_args()
    print("stratified 5-fold cross-validation; baseline = word TF-IDF + LinearSVC on the same fields\n")
    print(
        f"{'data set':<28}{'rows':>7}{'units':>8}  {'base@1':>8}{'base@3':>8}{'cov@92':>8}"
        f"  {'jiesu@1':>8}{'jiesu@3':>8}{'auto cov':>9}{'auto acc':>9}{'cov@92':>8}{'ms/req':>9}"
    )
    for city in args.cities.split(","):
        why = datasets.missing(datasets.US311[city][0])
        if why:
            print(f"{city:<28}skipped: {why}")
            continue
        run(city, args.rows)


if __name__ == "__main__":
    main()
