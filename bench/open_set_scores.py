"""Screening of open-set scores for the category model's gate (issue 19), on the Teddy Cup messages: which score
separates the texts of a category the model never learned from the known texts it gets right?

Single level, fast (a few minutes), for deciding what is worth a nested run of `bench/nlp_classify.py`. The model's
weights are fixed at what the nested bench chose in 4 of its 5 outer folds (title words 0.75, title characters 0.5,
C = 1), not searched. Known texts: stratified 5-fold, each test fold scored by a model trained on the other four.
Unknown texts: each of the 7 categories left out in turn (its labelled rows and its taxonomy names), its texts scored
by a model trained on the other six. Both sides must also pass the probability threshold and the P10 familiarity
floor (the model's own, chosen inside its training data), as in production.

The row "top, 15-category taxonomy" scores with a model that also knows the 8 first-level categories of 附件1 that have
no labelled message (by their names only); its pass/right flags are the 7-category model's, so read it as a screen.

Printed per score: the AUROC of right known vs unknown texts, and, at a floor chosen *in hindsight* on these pooled
scores: the open-set share auto-applied when the closed set keeps 70 % coverage, and the closed-set coverage when
at most 5 % of the unknown texts are auto-applied. Hindsight floors flatter every score alike; the nested bench
measures the one that ships. Then: of the unknown texts the shipped gate auto-applies at 70 % coverage, how many the
model trained *with* their category (out of fold) also files under the proposed class (label overlap, not novelty).

Usage: JIESU_SHARED_DATA=../shared/data .venv/bin/python bench/open_set_scores.py
"""

import os
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiesu.settings")
os.environ.setdefault("JIESU_DEMO", "1")

import django

django.setup()

import numpy as np  # noqa: E402
from scipy.sparse import vstack  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402
from sklearn.preprocessing import normalize  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from jiesu.demo import datasets  # noqa: E402
from jiesu.intel.classifier import FAMILIAR_SANITY_QUANTILE, TextModel, _softmax  # noqa: E402
from jiesu.intel.tabular import read_taxonomy  # noqa: E402
from jiesu.lib import text as textlib  # noqa: E402

warnings.filterwarnings("ignore", category=ConvergenceWarning)
SUBTOPIC_ROWS, SUBTOPIC_SEEDS, POOL_WEIGHT = 20, (0, 1, 2), 0.3


def model(docs, labels, unlabelled, taxonomy):
    return TextModel(select=False, open_set=False, title_weight=0.75, title_char_weight=0.5, c=1.0).fit(
        docs, labels, unlabelled=unlabelled, taxonomy=taxonomy
    )


def subtopic_support(m, train_docs, train_y, taxonomy, test_docs):
    """Per test row and class: the best decision among the class's k-means sub-topics (about `SUBTOPIC_ROWS`
    labelled texts each; taxonomy names join their nearest), averaged over the seeds."""
    xr, xt = m.features(train_docs), m.features(test_docs)
    tax_docs = [(n, n) for names in taxonomy.values() for n in names]
    tax_y = np.array([c for c, names in taxonomy.items() for _ in names], dtype=object)
    xtax = m.taxonomy_weight * m.features(tax_docs)
    out = np.zeros((len(test_docs), len(m.classes)))
    for seed in SUBTOPIC_SEEDS:
        sub = np.empty(len(train_y), dtype=object)
        sub_tax = np.empty(len(tax_y), dtype=object)
        for c in m.classes:
            rows, trows = np.flatnonzero(train_y == c), np.flatnonzero(tax_y == c)
            k = max(1, min(len(rows), round(len(rows) / SUBTOPIC_ROWS)))
            if k > 1:
                km = KMeans(k, n_init=4, random_state=seed).fit(normalize(xr[rows]))
                sub[rows] = [f"{c}#{j}" for j in km.labels_]
                sub_tax[trows] = [f"{c}#{j}" for j in km.predict(normalize(xtax[trows]))] if len(trows) else []
            else:
                sub[rows], sub_tax[trows] = f"{c}#0", f"{c}#0"
        svm = LinearSVC(C=m.c, class_weight="balanced").fit(vstack([xr, xtax]), np.r_[sub, sub_tax])
        d = svm.decision_function(xt)
        owner = np.array([m.classes.index(s.split("#")[0]) for s in svm.classes_])
        for j in range(len(m.classes)):
            out[:, j] += d[:, owner == j].max(axis=1) if (owner == j).any() else -10.0
    return out / len(SUBTOPIC_SEEDS)


def pool_class(m, train_docs, train_y, pool, test_docs):
    """Decisions of an SVM that also learns the unlabelled pool as a class of its own ("__pool__")."""
    xr, xu = m.features(train_docs), m.features(pool)
    weights = {c: len(train_y) / (len(set(train_y)) * (train_y == c).sum()) for c in set(train_y)}
    weights["__pool__"] = POOL_WEIGHT * len(train_y) / len(pool)
    svm = LinearSVC(C=m.c, class_weight=weights).fit(vstack([xr, xu]), np.r_[train_y, ["__pool__"] * len(pool)])
    return list(svm.classes_), svm.decision_function(m.features(test_docs))


def score_rows(m, test_docs, extras):
    """One dict per test row: the proposed class, whether it passes the threshold and the sanity floor, and every
    candidate score of the proposed class."""
    x = m.features(test_docs)
    d = m._decide(x)
    proba = _softmax(d / m.temperature)
    guess = d.argmax(axis=1)
    proposed = [m.classes[j] for j in guess]
    fam = m.familiarity(x, proposed)
    sanity = float(np.percentile(m.oof_fam[m.oof_right], FAMILIAR_SANITY_QUANTILE))
    top2 = np.sort(d, axis=1)[:, -2:]
    rows = []
    for i, c in enumerate(proposed):
        r = {
            "class": c,
            "passes": bool(proba[i].max() >= m.threshold and fam[i] >= sanity),
            "top decision (the gate)": d[i].max(),
            "probability": proba[i].max(),
            "margin (top − second)": top2[i, 1] - top2[i, 0],
            "5-NN familiarity": fam[i],
        }
        for name, value in extras.items():
            r[name] = value(i, c, guess[i], d[i])
        rows.append(r)
    return rows


def main():
    why = datasets.missing(datasets.TEDDY_LABELLED, datasets.TEDDY_UNLABELLED, datasets.TEDDY_TAXONOMY)
    if why:
        print(f"skipped: {why}")
        return
    t0 = time.perf_counter()
    data = datasets.teddy()
    full_tax = read_taxonomy(datasets.root() / datasets.TEDDY_TAXONOMY)  # 15 first-level categories, 8 unlabelled
    y = np.array(data.labels, dtype=object)
    texts = [textlib.clean("。".join(f for f in d if f)) for d in data.docs]
    # the jieba words of each category's 二级/三级 names
    tax_words = {
        c: {w for n in names for w in textlib.words(n) if w != "其他"} for c, names in full_tax.items()
    }  # i18n: data
    # which pool texts the model trained on every labelled row files under each category (to clean the pool)
    everything = model(data.docs, list(y), data.unlabelled, data.taxonomy)
    pool_guess = np.array([everything.classes[j] for j in everything.decision(data.unlabelled).argmax(axis=1)])

    def run(train_docs, train_y, taxonomy, test_idx, held):
        test_docs = [data.docs[i] for i in test_idx]
        m = model(train_docs, list(train_y), data.unlabelled, taxonomy)
        support = subtopic_support(m, train_docs, train_y, taxonomy, test_docs)
        pool_cls, pool_d = pool_class(m, train_docs, train_y, data.unlabelled, test_docs)
        clean_pool = [d for d, g in zip(data.unlabelled, pool_guess, strict=True) if g != held]
        clean_cls, clean_d = pool_class(m, train_docs, train_y, clean_pool, test_docs)
        full = model(train_docs, list(train_y), data.unlabelled, {k: v for k, v in full_tax.items() if k != held})
        full_d = full.decision(test_docs)

        def pooled(cls, dd):
            return lambda i, c, j, di: di.max() + 0.5 * (dd[i, cls.index(c)] - dd[i, cls.index("__pool__")])

        extras = {
            "taxonomy words of the class": lambda i, c, j, di: sum(w in texts[test_idx[i]] for w in tax_words[c]),
            "sub-topic support": lambda i, c, j, di: support[i, j],
            "top + pool class (pool has them)": pooled(pool_cls, pool_d),
            "top + pool class (pool cleaned)": pooled(clean_cls, clean_d),
            "top, 15-category taxonomy": lambda i, c, j, di: full_d[i].max(),
        }
        rows = score_rows(m, test_docs, extras)
        proba = _softmax(m._decide(m.features(test_docs)) / m.temperature)
        for r, p, i in zip(rows, proba, test_idx, strict=True):
            r["right"] = r["class"] == y[i]
            r["index"] = i
            r["proba"] = dict(zip(m.classes, p, strict=True))
        return rows

    known = []
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(data.docs, y):
        known += run([data.docs[i] for i in train], y[train], data.taxonomy, test, None)
    unknown = []
    for held in sorted(set(y)):
        keep = y != held
        tax = {k: v for k, v in data.taxonomy.items() if k != held}
        unknown += run(
            [d for d, k in zip(data.docs, keep, strict=True) if k], y[keep], tax, np.flatnonzero(~keep), held
        )
    right = np.array([r["right"] for r in known])
    k_pass = np.array([r["passes"] for r in known])
    u_pass = np.array([r["passes"] for r in unknown])
    print(
        f"Teddy Cup 一级分类: {len(known)} known texts ({right.mean():.1%} right), {len(unknown)} texts of a left-out "
        f"category; {time.perf_counter() - t0:.0f} s\nfloors in hindsight on the pooled scores (see the docstring)\n"
    )
    print(
        f"{'score of the proposed class':<36}{'AUROC':>7}  {'at 70 % coverage: accuracy':>27}{'open set':>10}"
        f"  {'coverage at ≤ 5 % open':>23}"
    )
    names = [k for k in known[0] if k not in ("class", "passes", "right", "index", "proba")]
    gate_acts = None
    for name in names:
        sk = np.array([r[name] for r in known], dtype=float)
        su = np.array([r[name] for r in unknown], dtype=float)
        auc = roc_auc_score(np.r_[np.ones(right.sum()), np.zeros(len(su))], np.r_[sk[right], su])
        ranked = np.sort(sk[k_pass])[::-1]
        n = int(np.ceil(0.70 * len(sk)))
        floor = ranked[n - 1] if n <= len(ranked) else np.inf
        acts, u_acts = k_pass & (sk >= floor), u_pass & (su >= floor)
        cand = np.sort(su[u_pass])[::-1]
        allowed = int(0.05 * len(su))
        floor5 = -np.inf if allowed >= len(cand) else np.nextafter(cand[allowed], np.inf)
        print(
            f"{name:<36}{auc:>7.3f}  {right[acts].mean():>27.1%}{u_acts.mean():>10.1%}"
            f"  {(k_pass & (sk >= floor5)).mean():>23.1%}"
        )
        if name == "top decision (the gate)":
            gate_acts = u_acts
    # label overlap: the model that learned the category also files these texts under the proposed class
    by_index = {r["index"]: r["proba"] for r in known}
    overlap = [by_index[r["index"]].get(r["class"], 0.0) for r, a in zip(unknown, gate_acts, strict=True) if a]
    overlap = np.array(overlap)
    print(
        f"\nof the {len(overlap)} left-out texts the top-decision gate auto-applies at 70 % coverage, the model "
        f"trained with their category (out of fold) gives the proposed class p ≥ 0.5 for {np.mean(overlap >= 0.5):.0%} "
        f"and p ≥ 0.2 for {np.mean(overlap >= 0.2):.0%}: label overlap between the categories, not novelty"
    )


if __name__ == "__main__":
    main()
