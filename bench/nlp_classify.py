"""Benchmark of the category classifier on real data, beside a plain baseline in the same run.

For each data set (Teddy Cup 一级分类 with its 2,801 unlabelled messages and its taxonomy, Hangzhou 领域,
Fuzhou 性质) it runs stratified 5-fold cross-validation of
- baseline: character 1–3-gram TF-IDF + linear SVM, fitted on the training folds only;
- jiesu: `jiesu.intel.classifier.TextModel` (words + characters + title, unlabelled texts, taxonomy names,
  temperature-calibrated probabilities),
and prints macro-F1, accuracy, top-3 accuracy and the expected calibration error (ECE) of jiesu's probabilities.
Then it times jiesu's model trained on all 495 Teddy Cup labels: texts per second in batch (the 2,801 unlabelled
messages), milliseconds for one text, and peak memory.

Usage: .venv/bin/python bench/nlp_classify.py [--sets teddy,hangzhou,fuzhou] [--folds 5]
Reads ../shared/data (JIESU_SHARED_DATA overrides); skips a set whose files are absent. No thresholds.
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

from jiesu.intel import datasets  # noqa: E402
from jiesu.intel.classifier import TextModel, expected_calibration_error  # noqa: E402

warnings.filterwarnings("ignore", message="The least populated class")

SETS = {
    "teddy": (datasets.teddy, (datasets.TEDDY_LABELLED, datasets.TEDDY_UNLABELLED, datasets.TEDDY_TAXONOMY)),
    "hangzhou": (datasets.hangzhou, (datasets.HANGZHOU,)),
    "fuzhou": (datasets.fuzhou, (datasets.FUZHOU,)),
}


def baseline(train_docs, train_y, test_docs):
    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
    joined = ["。".join(d) for d in train_docs]
    svm = LinearSVC().fit(vec.fit_transform(joined), train_y)
    return svm.predict(vec.transform(["。".join(d) for d in test_docs]))


def cross_validate(data, folds):
    y = np.array(data.labels, dtype=object)
    base_pred = np.empty(len(y), dtype=object)
    pred = np.empty(len(y), dtype=object)
    top3 = np.zeros(len(y), dtype=bool)
    proba_rows, truth_rows = [], []
    t0 = time.perf_counter()
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(data.docs, y):
        tr_docs = [data.docs[i] for i in train]
        te_docs = [data.docs[i] for i in test]
        base_pred[test] = baseline(tr_docs, y[train], te_docs)
        model = TextModel().fit(tr_docs, list(y[train]), unlabelled=data.unlabelled, taxonomy=data.taxonomy)
        proba = model.predict_proba(te_docs)
        classes = np.array(model.classes, dtype=object)
        pred[test] = classes[proba.argmax(axis=1)]
        best3 = np.argsort(-proba, axis=1)[:, :3]
        top3[test] = [y[i] in classes[b] for i, b in zip(test, best3, strict=True)]
        proba_rows.append(proba)
        truth_rows.append(np.array([model.classes.index(v) if v in model.classes else -1 for v in y[test]]))
    seconds = time.perf_counter() - t0
    ece = expected_calibration_error(np.vstack(proba_rows), np.concatenate(truth_rows))
    return {
        "base_f1": f1_score(y, base_pred, average="macro"),
        "base_acc": accuracy_score(y, base_pred),
        "f1": f1_score(y, pred, average="macro"),
        "acc": accuracy_score(y, pred),
        "top3": top3.mean(),
        "ece": ece,
        "seconds": seconds,
    }


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
        model.propose(doc, 3)
        one.append((time.perf_counter() - t) * 1000)
    chars = statistics.mean(len("".join(d)) for d in batch)
    print(f"\ntrain on all {len(data.docs)} labels + {len(data.unlabelled)} unlabelled: {train_s:.1f} s")
    print(
        f"batch: {len(batch)} texts (mean {chars:.0f} characters) in {batch_s:.2f} s "
        f"= {len(batch) / batch_s:,.0f} texts/s"
    )
    print(
        f"one text (top 3 + explaining terms): median {statistics.median(one):.2f} ms, "
        f"p95 {np.percentile(one, 95):.2f} ms"
    )
    print(f"peak memory (max RSS of this process): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", default="teddy,hangzhou,fuzhou")
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    print(f"stratified {args.folds}-fold cross-validation; baseline = char 1–3-gram TF-IDF + LinearSVC\n")
    print(
        f"{'data set':<22}{'rows':>6}{'classes':>8}  {'base F1':>8}{'base acc':>9}  {'jiesu F1':>9}{'acc':>7}"
        f"{'top-3':>7}{'ECE':>7}{'time':>8}"
    )
    for name in args.sets.split(","):
        load, files = SETS[name]
        why = datasets.missing(*files)
        if why:
            print(f"{name:<22}skipped: {why}")
            continue
        data = load()
        r = cross_validate(data, args.folds)
        print(
            f"{data.name:<22}{len(data.docs):>6}{len(set(data.labels)):>8}  {r['base_f1']:>8.3f}{r['base_acc']:>9.3f}  "
            f"{r['f1']:>9.3f}{r['acc']:>7.3f}{r['top3']:>7.3f}{r['ece']:>7.3f}{r['seconds']:>7.1f}s"
        )
    if "teddy" in args.sets and not datasets.missing(datasets.TEDDY_LABELLED, datasets.TEDDY_UNLABELLED):
        speed()


if __name__ == "__main__":
    main()
