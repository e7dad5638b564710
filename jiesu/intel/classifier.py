"""The text classifier behind category proposals and the learned router.

A document is a tuple of fields (title first, then body, …). The model is linear and runs on a CPU:

- character 1–2-gram TF-IDF of the whole text, and TF-IDF of the first field's (the title's) jieba words at half
  weight. Segmenting whole texts with jieba cost two thirds of the time and scored lower on the Teddy Cup set;
- the vocabulary and IDF are fitted on labelled *and* unlabelled texts, so words that never occur in a labelled
  row still get sensible weights (semi-supervised, transductive);
- the category taxonomy's own names ("物业管理", "城管执法"…) are added as short labelled documents at a low
  weight, so a class is known by its name before anyone has labelled many rows for it;
- a class-balanced linear SVM, whose decision values are turned into probabilities by temperature scaling
  fitted on cross-validated decisions (calibration is measured by `bench/nlp_classify.py`).

Choices were made by 5-fold cross-validation on the Teddy Cup set (see the README's "Intelligence" section):
self-training on pseudo-labels, label spreading, NMF/SVD topics and logistic regression all scored lower.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from scipy.optimize import minimize_scalar
from scipy.sparse import csr_matrix, hstack, vstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from jiesu.lib import text as textlib

Doc = Sequence[str]
# Many classes with few rows each (a taxonomy-only start) is normal here, not a regression problem.
warnings.filterwarnings("ignore", message="The number of unique classes is greater than 50%")
FORMAT = 1


def _split(s: str) -> list[str]:
    return s.split(" ")


class TextModel:
    def __init__(
        self, *, title_weight: float = 0.5, taxonomy_weight: float = 0.3, c: float = 1.0, balanced: bool = True
    ) -> None:
        """`balanced` weighs classes equally (best for macro-F1 of categories); the router turns it off, as
        there the share of requests routed right is what counts."""
        self.balanced = balanced
        self.title_weight = title_weight
        self.taxonomy_weight = taxonomy_weight
        self.c = c
        self.meta: dict[str, Any] = {}
        self.terms: list[str] = []
        self.temperature = 1.0

    # --- features -----------------------------------------------------------------------------------------
    @staticmethod
    def _prepare(docs: Sequence[Doc]) -> tuple[list[str], list[str]]:
        """Cleaned full text for the character model, jieba words of the first field (the title)."""
        return (
            [textlib.clean("。".join(f for f in d if f)) for d in docs],
            [" ".join(textlib.words(d[0])) if d else "" for d in docs],
        )

    def _fit_features(self, docs: Sequence[Doc]) -> None:
        chars, title = self._prepare(docs)
        min_df = 2 if len(docs) >= 50 else 1

        def vec(**kw: Any) -> TfidfVectorizer:
            return TfidfVectorizer(sublinear_tf=True, min_df=min_df, dtype=np.float32, **kw)

        self.char_vec = vec(analyzer="char", ngram_range=(1, 2)).fit(chars)
        self.title_vec = vec(tokenizer=_split, token_pattern=None, lowercase=False).fit(title)

    def features(self, docs: Sequence[Doc]) -> csr_matrix:
        chars, title = self._prepare(docs)
        return hstack(
            [self.char_vec.transform(chars), self.title_weight * self.title_vec.transform(title)], format="csr"
        )

    # --- training ---------------------------------------------------------------------------------------
    def fit(
        self,
        docs: Sequence[Doc],
        labels: Sequence[str],
        *,
        unlabelled: Sequence[Doc] = (),
        taxonomy: Mapping[str, Sequence[str]] | None = None,
    ) -> TextModel:
        """`taxonomy` maps a label to names that describe it (its sub-categories, keywords)."""
        taxonomy = taxonomy or {}
        self.terms = sorted({t for names in taxonomy.values() for n in names for t in textlib.terms_of(n)})
        textlib.add_terms(self.terms)
        tax_docs = [(n, n) for label, names in taxonomy.items() for n in names if n.strip()]
        tax_labels = [label for label, names in taxonomy.items() for n in names if n.strip()]
        self._fit_features([*docs, *unlabelled, *tax_docs])
        parts = [self.features(docs)] if docs else []
        if tax_docs:
            parts.append(self.taxonomy_weight * self.features(tax_docs))
        if not parts:
            raise ValueError("nothing to learn from")
        x = vstack(parts, format="csr")
        y = np.concatenate([np.asarray(labels, dtype=object), np.asarray(tax_labels, dtype=object)])
        if len(set(y)) < 2:
            raise ValueError("at least two classes are needed")
        self.svm = self._svm().fit(x, y)
        self.classes = [str(c) for c in self.svm.classes_]
        self.temperature = self._calibrate(x, y, len(docs))
        self.meta.update(
            format=FORMAT,
            created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            labelled=len(docs),
            unlabelled=len(unlabelled),
            taxonomy_names=len(tax_docs),
            classes=self.classes,
            temperature=round(self.temperature, 4),
        )
        return self

    def _svm(self) -> LinearSVC:
        return LinearSVC(C=self.c, class_weight="balanced" if getattr(self, "balanced", True) else None)

    def _calibrate(self, x: csr_matrix, y: np.ndarray, n_real: int) -> float:
        """Temperature T for softmax(decision / T), fitted to minimise the log loss of 3-fold out-of-fold
        decisions on the real rows (the first `n_real`; taxonomy rows always stay in training). Where a class
        has fewer than 3 real rows there is nothing to hold out and T stays 1."""
        real_y = y[:n_real]
        labels, counts = np.unique(real_y, return_counts=True) if n_real else (np.array([]), np.array([0]))
        if n_real < 6 or len(labels) < 2 or counts.min() < 3:
            return 1.0
        extra = np.arange(n_real, len(y))
        decisions = np.zeros((n_real, len(self.classes)), dtype=np.float64)
        for train, test in StratifiedKFold(3, shuffle=True, random_state=0).split(np.zeros(n_real), real_y):
            rows = np.concatenate([train, extra])
            svm = self._svm().fit(x[rows], y[rows])
            cols = [self.classes.index(str(c)) for c in svm.classes_]
            decisions[np.ix_(test, cols)] = svm.decision_function(x[test]).reshape(len(test), -1)
        y = real_y
        truth = np.array([self.classes.index(str(c)) for c in y])

        def nll(log_t: float) -> float:
            p = _softmax(decisions / math.exp(log_t))
            return float(-np.mean(np.log(p[np.arange(len(truth)), truth] + 1e-12)))

        best = minimize_scalar(nll, bounds=(-4.0, 3.0), method="bounded")
        guess = decisions.argmax(axis=1)
        self.meta["cv3"] = {
            "accuracy": round(float(np.mean(guess == truth)), 4),
            "macro_f1": round(float(f1_score(truth, guess, average="macro")), 4),
            "ece": round(expected_calibration_error(_softmax(decisions / math.exp(best.x)), truth), 4),
            "note": "3-fold out-of-fold on the labelled rows (taxonomy rows always in training)",
        }
        return float(math.exp(best.x))

    # --- use --------------------------------------------------------------------------------------------
    def _decide(self, x: csr_matrix) -> np.ndarray:
        d = self.svm.decision_function(x)
        return d.reshape(x.shape[0], -1) if len(self.classes) > 2 else np.column_stack([-d, d])

    def decision(self, docs: Sequence[Doc]) -> np.ndarray:
        return self._decide(self.features(docs))

    def predict_proba(self, docs: Sequence[Doc]) -> np.ndarray:
        return _softmax(self.decision(docs) / self.temperature)

    def top(self, docs: Sequence[Doc], k: int = 3) -> list[list[tuple[str, float]]]:
        proba = self.predict_proba(docs)
        order = np.argsort(-proba, axis=1)[:, :k]
        return [[(self.classes[j], float(row[j])) for j in idx] for row, idx in zip(proba, order, strict=True)]

    def explain(self, doc: Doc, label: str, k: int = 5, *, x: csr_matrix | None = None) -> list[str]:
        """The words (title words and two-character terms) that pushed `doc` towards `label` most. Pass the
        document's feature row as `x` when it is already computed."""
        if label not in self.classes:
            return []
        row = (self.features([doc]) if x is None else x).tocoo()
        i = self.classes.index(label)
        coef = self.svm.coef_[i if len(self.classes) > 2 else 0] * (-1 if len(self.classes) == 2 and i == 0 else 1)
        names = self._feature_names()
        weight: dict[str, float] = {}
        for j, v in zip(row.col, row.data, strict=True):
            name = names[j]
            if name is not None:
                weight[name] = weight.get(name, 0.0) + float(v * coef[j])
        return [w for w, s in sorted(weight.items(), key=lambda p: -p[1]) if s > 0][:k]

    def _feature_names(self) -> list[str | None]:
        if not hasattr(self, "_names"):
            chars = [c if len(c) == 2 and c.isalnum() else None for c in self.char_vec.get_feature_names_out()]
            self._names: list[str | None] = [*chars, *self.title_vec.get_feature_names_out()]
        return self._names

    def propose(self, doc: Doc, k: int = 3) -> list[tuple[str, float, list[str]]]:
        """Top `k` labels of one document with their probability and explaining terms (features computed once)."""
        x = self.features([doc])
        proba = _softmax(self._decide(x) / self.temperature)[0]
        return [
            (self.classes[j], float(proba[j]), self.explain(doc, self.classes[j], x=x)) for j in np.argsort(-proba)[:k]
        ]

    # --- storage ----------------------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        state = {k: v for k, v in self.__dict__.items() if k != "_names"}
        tmp = path.with_suffix(path.suffix + ".tmp")
        joblib.dump({"format": FORMAT, "state": state}, tmp, compress=3)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> TextModel:
        """Only load files this project wrote: the format is pickle."""
        data = joblib.load(path)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"{path} is not a jiesu text model")
        model = cls.__new__(cls)
        model.__dict__.update(data["state"])
        textlib.add_terms(model.terms)
        return model


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return out


def expected_calibration_error(proba: np.ndarray, truth: np.ndarray, bins: int = 10) -> float:
    """ECE of the top-1 probability: the mean |confidence − accuracy| over equal-width bins, weighted by size."""
    conf = proba.max(axis=1)
    right = proba.argmax(axis=1) == truth
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for lo, hi in itertools.pairwise(edges):
        inside = (conf > lo) & (conf <= hi)
        if inside.any():
            ece += inside.mean() * abs(conf[inside].mean() - right[inside].mean())
    return float(ece)
