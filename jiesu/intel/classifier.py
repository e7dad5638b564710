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
import functools
import itertools
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from scipy.optimize import minimize_scalar
from scipy.sparse import csr_matrix, hstack, vstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC

from jiesu.lib import text as textlib

Doc = Sequence[str]
# Many classes with few rows each (a taxonomy-only start) is normal here, not a regression problem.
warnings.filterwarnings("ignore", message="The number of unique classes is greater than 50%")
FORMAT = 2
CACHES = ("_names", "_by_label", "_analysers")  # derived once per loaded model, never saved


def _split(s: str) -> list[str]:
    return s.split(" ")


def _inference(method: Any) -> Any:
    """A trained model's answers for a batch of texts: scikit-learn's argument and finiteness checks are skipped (the
    features are this model's own TF-IDF rows, finite by construction). One text takes `TextModel._row` instead."""

    @functools.wraps(method)
    def checked_once(*args: Any, **kwargs: Any) -> Any:
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            return method(*args, **kwargs)

    return checked_once


# Choices the model makes for itself, inside its own training data (3-fold cross-validation): the weight of the
# title's words, the weight of the title's characters and the SVM's C. The benchmark wraps this in an outer
# cross-validation, so nothing is chosen on the rows it is scored on.
GRID: dict[str, tuple[float, ...]] = {
    "title_weight": (0.35, 0.5, 0.75),
    "title_char_weight": (0.0, 0.5),
    "c": (0.3, 1.0),
}
GRID_MAX_ROWS = 6000  # above this the defaults are used (the grid would cost minutes); calibration still runs
FAMILIAR_NEIGHBOURS = 5
FAMILIAR_QUANTILE = 30.0  # percent of the right held-out proposals allowed below the familiarity floor (see bench)
FAMILIAR_MAX_ROWS = 20_000
FLOOR_QUANTILES = (0, 10, 20, 30, 40, 50)
# Open set (issue 19): the share of texts of a category the model never learned that may still be auto-applied,
# measured inside the training data by leaving each category out in turn (see `_calibrate_open_set`).
OPEN_SET_MAX = 0.10  # the default of JIESU_OPEN_SET_MAX (settings.INTEL_OPEN_SET_MAX); see README "Trust"
OPEN_SET_LEVELS = (0.05, 0.10, 0.15, 0.20)
# With the open-set gate, the familiarity floor stays as a sanity floor at this lower percentile: a text less like its
# proposed class's training texts than 90 % of the right held-out proposals is not acted on. It is what rejects
# everyday calls on a templated history (the demo city), where no left-out category ever clears the threshold.
FAMILIAR_SANITY_QUANTILE = 10.0
OPEN_SET_MAX_CLASSES = 30  # categories left out in turn at most (a random sample beyond; bounds retraining time)


@dataclass(frozen=True)
class Assessment:
    """The model's answer for one document: ranked (label, probability, explaining terms), and whether it is sure
    enough to act on its own. `reason` is "sure", "unmeasured" (no held-out measurement: never acts alone),
    "low_confidence" (below the measured threshold) or "unfamiliar" (nothing like it in the training data)."""

    ranked: list[tuple[str, float, list[str]]]
    sure: bool
    reason: str
    familiarity: float


class TextModel:
    def __init__(
        self,
        *,
        title_weight: float = 0.5,
        title_char_weight: float = 0.5,
        taxonomy_weight: float = 0.3,
        c: float = 0.5,
        balanced: bool = True,
        select: bool = True,
        target: float = 0.92,
        open_set: bool = True,
        open_set_max: float = OPEN_SET_MAX,
    ) -> None:
        """`balanced` weighs classes equally (best for macro-F1 of categories); the router turns it off, as
        there the share of requests routed right is what counts. `select` chooses the weights and C by inner
        cross-validation; `target` is the accuracy the auto-apply threshold must hold on held-out rows. `open_set`
        calibrates the open-set gate (leave-one-category-out inside the training data) so that at most
        `open_set_max` of the texts of a category the model never learned are auto-applied; without it (the router)
        the familiarity floor is the gate."""
        self.balanced = balanced
        self.title_weight = title_weight
        self.title_char_weight = title_char_weight
        self.taxonomy_weight = taxonomy_weight
        self.c = c
        self.select = select
        self.target = target
        self.open_set = open_set
        self.open_set_max = open_set_max
        self.open_floor: float | None = None  # auto-apply only when the top decision reaches it; None: no gate
        self.text_index: Any = None  # intel.index.TextIndex stored with a category model (duplicate search)
        self.meta: dict[str, Any] = {}
        self.terms: list[str] = []
        self.temperature = 1.0
        self.threshold: float | None = None  # auto-apply at or above this probability; None: not measured
        self.familiar_floor = 0.0
        self.curve: list[tuple[float, float, float]] = []  # (threshold, coverage, accuracy) on held-out rows

    # --- features -----------------------------------------------------------------------------------------
    @staticmethod
    def _prepare(docs: Sequence[Doc]) -> tuple[list[str], list[str], list[str]]:
        """Cleaned full text and cleaned title for the character model, jieba words of the title."""
        return (
            [textlib.clean("。".join(f for f in d if f)) for d in docs],
            [" ".join(textlib.words(d[0])) if d else "" for d in docs],
            [textlib.clean(d[0]) if d else "" for d in docs],
        )

    def _fit_features(self, docs: Sequence[Doc]) -> None:
        for cache in CACHES:  # derived from the vectorisers fitted before
            self.__dict__.pop(cache, None)
        chars, title, title_chars = self._prepare(docs)
        min_df = 2 if len(docs) >= 50 else 1

        def vec(**kw: Any) -> TfidfVectorizer:
            return TfidfVectorizer(sublinear_tf=True, min_df=min_df, dtype=np.float32, **kw)

        self.char_vec = vec(analyzer="char", ngram_range=(1, 2)).fit(chars)
        self.title_vec = vec(tokenizer=_split, token_pattern=None, lowercase=False).fit(title)
        self.title_char_vec = vec(analyzer="char", ngram_range=(1, 2)).fit(title_chars)

    def _blocks(self, docs: Sequence[Doc]) -> list[csr_matrix]:
        chars, title, title_chars = self._prepare(docs)
        return [
            self.char_vec.transform(chars),
            self.title_vec.transform(title),
            self.title_char_vec.transform(title_chars),
        ]

    @staticmethod
    def _join(blocks: list[csr_matrix], title_weight: float, title_char_weight: float) -> csr_matrix:
        return hstack([blocks[0], title_weight * blocks[1], title_char_weight * blocks[2]], format="csr")

    def features(self, docs: Sequence[Doc]) -> csr_matrix:
        if len(docs) == 1 and self._vectorisers() is not None:
            return self._row(docs[0])
        return self._join(self._blocks(docs), self.title_weight, self.title_char_weight)

    def _row(self, doc: Doc) -> csr_matrix:
        """`features([doc])` for one document (a request), built directly from each vectoriser's analyser, vocabulary
        and IDF: the same sublinear TF-IDF with l2 norm, without the per-call checks and intermediate matrices that
        made it a third of an unclassified order's CPU. Equal to the batch path (tested)."""
        texts = [t[0] for t in self._prepare([doc])]
        weights = (1.0, self.title_weight, self.title_char_weight)
        indices: list[np.ndarray] = []
        data: list[np.ndarray] = []
        offset = 0
        for (analyse, vocabulary, idf), text, weight in zip(self._vectorisers() or (), texts, weights, strict=True):
            counts: dict[int, int] = {}
            for token in analyse(text):
                j = vocabulary.get(token)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            cols = np.fromiter(sorted(counts), dtype=np.int32, count=len(counts))
            tf = np.fromiter((counts[j] for j in cols), dtype=np.float32, count=len(cols))
            np.log(tf, tf)
            tf += 1.0
            tf *= idf[cols]
            norm = np.sqrt(np.dot(tf, tf))
            if norm > 0:
                tf /= norm
            indices.append(cols + offset)
            data.append(tf * np.float32(weight))
            offset += len(vocabulary)
        values = np.concatenate(data)
        return csr_matrix(
            (values, np.concatenate(indices), np.array([0, len(values)], dtype=np.int32)), shape=(1, offset)
        )

    def _vectorisers(self) -> list[tuple[Any, dict[str, int], np.ndarray]] | None:
        """(analyser, vocabulary, IDF) of the three vectorisers, once per loaded model; None when one of them is not
        the sublinear, IDF-weighted, l2-normed TF-IDF `_row` computes (then the batch path serves one text too)."""
        if "_analysers" not in self.__dict__:
            vecs = (self.char_vec, self.title_vec, self.title_char_vec)
            usual = all(v.sublinear_tf and v.use_idf and v.norm == "l2" and not v.binary for v in vecs)
            self._analysers = [(v.build_analyzer(), v.vocabulary_, v.idf_) for v in vecs] if usual else None
        cached: list[tuple[Any, dict[str, int], np.ndarray]] | None = self._analysers
        return cached

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
        if not docs and not tax_docs:
            raise ValueError("nothing to learn from")
        self._fit_features([*docs, *unlabelled, *tax_docs])
        real = self._blocks(docs) if docs else None
        tax = [self.taxonomy_weight * b for b in self._blocks(tax_docs)] if tax_docs else None
        y_real = np.asarray(labels, dtype=object)
        y = np.concatenate([y_real, np.asarray(tax_labels, dtype=object)])
        if len(set(y)) < 2:
            raise ValueError("at least two classes are needed")
        self.classes = sorted(str(c) for c in set(y))
        folds = self._folds(y_real)
        decisions = None
        if folds and self.select and len(docs) <= GRID_MAX_ROWS:
            decisions = self._choose(real, tax, y_real, y, folds)
        elif folds:
            decisions = self._oof(real, tax, y_real, y, folds, self.title_weight, self.title_char_weight, self.c)
        x = self._stack(real, tax, self.title_weight, self.title_char_weight)
        self.svm = self._svm(self.c).fit(x, y)
        self.classes = [str(c) for c in self.svm.classes_]
        self.labels_ = y_real
        self._remember(real)
        if decisions is not None:
            self._calibrate(decisions, y_real)
            if self.open_set and self.threshold is not None:
                self._calibrate_open_set(real, tax, y_real, y, decisions)
        self.meta.update(
            format=FORMAT,
            created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            labelled=len(docs),
            unlabelled=len(unlabelled),
            taxonomy_names=len(tax_docs),
            classes=self.classes,
            temperature=round(self.temperature, 4),
            chosen={"title_weight": self.title_weight, "title_char_weight": self.title_char_weight, "c": self.c},
            threshold=None if self.threshold is None else round(self.threshold, 4),
            familiar_floor=round(self.familiar_floor, 4),
            open_floor=None if self.open_floor is None else round(self.open_floor, 4),
        )
        return self

    def _svm(self, c: float) -> LinearSVC:
        return LinearSVC(C=c, class_weight="balanced" if getattr(self, "balanced", True) else None)

    def _stack(self, real: list[csr_matrix] | None, tax: list[csr_matrix] | None, tw: float, tcw: float) -> csr_matrix:
        parts = [self._join(b, tw, tcw) for b in (real, tax) if b is not None]
        return vstack(parts, format="csr")

    @staticmethod
    def _folds(y_real: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """3 stratified folds of the real rows, or none when a class has fewer than 3 rows to hold out."""
        if len(y_real) < 6:
            return []
        labels, counts = np.unique(y_real, return_counts=True)
        if len(labels) < 2 or counts.min() < 3:
            return []
        return list(StratifiedKFold(3, shuffle=True, random_state=0).split(np.zeros(len(y_real)), y_real))

    def _oof(
        self,
        real: list[csr_matrix] | None,
        tax: list[csr_matrix] | None,
        y_real: np.ndarray,
        y: np.ndarray,
        folds: list[tuple[np.ndarray, np.ndarray]],
        tw: float,
        tcw: float,
        c: float,
    ) -> np.ndarray:
        """Out-of-fold decision values of the real rows (taxonomy rows always stay in training)."""
        assert real is not None
        xr = self._join(real, tw, tcw)
        xt = self._join(tax, tw, tcw) if tax is not None else None
        y_tax = y[len(y_real) :]
        out = np.full((len(y_real), len(self.classes)), -10.0)
        for train, test in folds:
            x = vstack([xr[train], xt], format="csr") if xt is not None else xr[train]
            svm = self._svm(c).fit(x, np.concatenate([y_real[train], y_tax]))
            cols = np.array([self.classes.index(str(k)) for k in svm.classes_])
            d = svm.decision_function(xr[test])
            d = d.reshape(len(test), -1) if len(svm.classes_) > 2 else np.column_stack([-d, d])
            out[np.ix_(test, cols)] = d
        return out

    def _choose(
        self,
        real: list[csr_matrix] | None,
        tax: list[csr_matrix] | None,
        y_real: np.ndarray,
        y: np.ndarray,
        folds: list[tuple[np.ndarray, np.ndarray]],
    ) -> np.ndarray:
        """Pick title weights and C by out-of-fold macro-F1 (accuracy when unbalanced); keep its decisions."""
        truth = np.array([self.classes.index(str(v)) for v in y_real])
        best: tuple[float, np.ndarray] | None = None
        for tw, tcw, c in itertools.product(GRID["title_weight"], GRID["title_char_weight"], GRID["c"]):
            d = self._oof(real, tax, y_real, y, folds, tw, tcw, c)
            guess = d.argmax(axis=1)
            score = (
                f1_score(truth, guess, average="macro") if getattr(self, "balanced", True) else np.mean(guess == truth)
            )
            if best is None or score > best[0] + 1e-9:
                best = (float(score), d)
                self.title_weight, self.title_char_weight, self.c = tw, tcw, c
        assert best is not None
        return best[1]

    def _remember(self, real: list[csr_matrix] | None) -> None:
        """Keep the training rows (normalised) for the familiarity check: how close a new text is to what the
        model has seen of its proposed class."""
        self.__dict__.pop("_by_label", None)
        if real is None:
            self.memory = None
            return
        x = self._join(real, self.title_weight, self.title_char_weight)[:FAMILIAR_MAX_ROWS]
        self.memory = normalize(x).astype(np.float32)

    def familiarity(self, x: csr_matrix, labels: Sequence[str], *, exclude_self: bool = False) -> np.ndarray:
        """Mean cosine similarity of each row of `x` to its `FAMILIAR_NEIGHBOURS` nearest training texts of
        `labels[i]` (0 where the class has no training texts)."""
        memory = getattr(self, "memory", None)
        out = np.zeros(x.shape[0])
        if memory is None or memory.shape[0] == 0:
            return out
        if not exclude_self:  # each text against its own class's rows only
            for i, label in enumerate(labels):
                rows = self._memory_of(label)
                row = x[i] if x.shape[0] > 1 else x
                norm = float(np.sqrt(np.dot(row.data, row.data)))
                if rows is not None and norm > 0:
                    unit = np.zeros(x.shape[1])
                    unit[row.indices] = row.data / norm
                    sims = rows @ unit
                    out[i] = float(np.sort(sims)[-FAMILIAR_NEIGHBOURS:].mean())
            return out
        known = np.asarray(self.labels_[: memory.shape[0]], dtype=object)
        sims = (normalize(x) @ memory.T).toarray()
        np.fill_diagonal(sims, -1.0)
        for i, label in enumerate(labels):
            row = sims[i][known == label]
            if len(row):
                out[i] = float(np.sort(row)[-FAMILIAR_NEIGHBOURS:].mean())
        return out

    def _memory_of(self, label: str) -> csr_matrix | None:
        """The remembered training rows of `label` (None when it has none), split by label once per loaded model."""
        by_label = self.__dict__.get("_by_label")
        memory: Any = self.memory
        if by_label is None:
            known: Any = np.asarray(self.labels_[: memory.shape[0]], dtype=object)
            by_label = {str(c): memory[np.flatnonzero(known == c)] for c in set(known.tolist())}
            self._by_label = by_label
        rows: csr_matrix | None = by_label.get(str(label))
        return rows

    def _calibrate(self, decisions: np.ndarray, y_real: np.ndarray) -> None:
        """From out-of-fold decisions: the temperature T of softmax(decision / T) (least log loss), the
        auto-apply threshold (the lowest probability at which the proposals at or above it are right at least
        `target` of the time) and the familiarity floor (the `FAMILIAR_QUANTILE` percentile of the right
        proposals' familiarity)."""
        truth = np.array([self.classes.index(str(c)) for c in y_real])

        def nll(log_t: float) -> float:
            p = _softmax(decisions / math.exp(log_t))
            return float(-np.mean(np.log(p[np.arange(len(truth)), truth] + 1e-12)))

        self.temperature = float(math.exp(minimize_scalar(nll, bounds=(-4.0, 3.0), method="bounded").x))
        proba = _softmax(decisions / self.temperature)
        guess = proba.argmax(axis=1)
        right = guess == truth
        conf = proba.max(axis=1)
        self.threshold, self.curve = threshold_for(conf, right, self.target)
        # kept so that a caller can ask for the threshold at another precision (automatic dispatch)
        self.oof_conf, self.oof_right = conf.astype(np.float32), right
        self.oof_guess = np.asarray([self.classes[g] for g in guess], dtype=object)
        if len(y_real) <= FAMILIAR_MAX_ROWS:
            x = self.memory
            fam = self.familiarity(x, [self.classes[g] for g in guess], exclude_self=True) if x is not None else None
            if fam is not None and right.any():
                self.familiar_floor = float(np.percentile(fam[right], FAMILIAR_QUANTILE))
                # the floors of other quantiles, for measuring the trade-off (bench) and for a stricter setting
                self.familiar_floors = {q: float(np.percentile(fam[right], q)) for q in FLOOR_QUANTILES}
                self.oof_fam = fam.astype(np.float32)
        self.meta["cv3"] = {
            "accuracy": round(float(np.mean(right)), 4),
            "macro_f1": round(float(f1_score(truth, guess, average="macro")), 4),
            "ece": round(expected_calibration_error(proba, truth), 4),
            "coverage_at_target": round(float(np.mean(conf >= self.threshold)) if self.threshold else 0.0, 4),
            "target": self.target,
            "note": "3-fold out-of-fold on the labelled rows (taxonomy rows always in training)",
        }

    def _calibrate_open_set(
        self,
        real: list[csr_matrix] | None,
        tax: list[csr_matrix] | None,
        y_real: np.ndarray,
        y: np.ndarray,
        decisions: np.ndarray,
    ) -> None:
        """The open-set gate, measured inside the training data only. Each category with labelled rows is left out
        in turn (its labelled rows and its taxonomy names): a model with the chosen weights and C is trained on
        the rest and applied to the left-out rows, which stand for calls of a category the model never learned.
        The gate is the top decision value (the SVM's score of the proposed class; it separated unknown from
        known texts better than the probability, the margin, the entropy, the energy, the nearest-neighbour or
        centroid similarity and a logistic combination of them, README "Trust"). `open_floor` is the lowest top
        decision at which at most `open_set_max` of the left-out rows that clear the probability threshold would
        be auto-applied, among those that also clear the familiarity floor, which drops to its sanity level
        (`FAMILIAR_SANITY_QUANTILE`) when the gate is calibrated."""
        assert real is not None
        labels, counts = np.unique(y_real, return_counts=True)
        eligible = [str(c) for c, n in zip(labels, counts, strict=True) if n >= 3]
        if len(labels) < 3 or not eligible:
            return
        if len(eligible) > OPEN_SET_MAX_CLASSES:
            rng = np.random.default_rng(0)
            eligible = sorted(rng.choice(eligible, OPEN_SET_MAX_CLASSES, replace=False).tolist())
        xr = self._join(real, self.title_weight, self.title_char_weight)
        xt = self._join(tax, self.title_weight, self.title_char_weight) if tax is not None else None
        y_tax = y[len(y_real) :]
        truth = np.array([self.classes.index(str(c)) for c in y_real])
        right = decisions.argmax(axis=1) == truth
        oof_fam = getattr(self, "oof_fam", None)
        sanity = float(np.percentile(oof_fam[right], FAMILIAR_SANITY_QUANTILE)) if oof_fam is not None else 0.0
        unknown: list[np.ndarray] = []
        for held in eligible:
            keep, keep_tax = y_real != held, y_tax != held
            x = xr[keep] if xt is None else vstack([xr[keep], xt[keep_tax]], format="csr")
            svm = self._svm(self.c).fit(x, np.concatenate([y_real[keep], y_tax[keep_tax]]))
            d = svm.decision_function(xr[~keep])
            d = d.reshape(int((~keep).sum()), -1) if len(svm.classes_) > 2 else np.column_stack([-d, d])
            p = _softmax(d / self.temperature).max(axis=1)
            assert self.threshold is not None
            proposed = [str(svm.classes_[j]) for j in d.argmax(axis=1)]
            fam = self.familiarity(xr[~keep], proposed)
            unknown.append(np.where((p >= self.threshold) & (fam >= sanity), d.max(axis=1), -np.inf))
        score = np.concatenate(unknown)
        known_p = _softmax(decisions / self.temperature).max(axis=1)
        known_fam = oof_fam if oof_fam is not None else np.ones(len(y_real))
        known = np.where((known_p >= self.threshold) & (known_fam >= sanity), decisions.max(axis=1), -np.inf)
        self.open_floors = {m: _floor_for(score, m) for m in sorted({*OPEN_SET_LEVELS, self.open_set_max})}
        self.open_floor = self.open_floors[self.open_set_max]
        self.familiar_floor = sanity
        table = []
        for m, floor in self.open_floors.items():
            acts = np.isfinite(known) & (known >= floor)
            table.append(
                {
                    "open_max": m,
                    "floor": round(floor, 4),
                    "open_applied": round(float(np.mean(np.isfinite(score) & (score >= floor))), 4),
                    "coverage": round(float(np.mean(acts)), 4),
                    "accuracy": round(float(np.mean(right[acts])), 4) if acts.any() else None,
                }
            )
        self.meta["open_set"] = {
            "left_out": len(eligible),
            "unknown_rows": len(score),
            "levels": table,
            "note": "leave-one-category-out inside the training data; coverage on the 3-fold out-of-fold rows",
        }

    # --- use --------------------------------------------------------------------------------------------
    def _decide(self, x: csr_matrix) -> np.ndarray:
        # LinearSVC.decision_function's own arithmetic, without its per-call input checks
        d = np.asarray(x @ self.svm.coef_.T) + self.svm.intercept_
        return d if len(self.classes) > 2 else np.column_stack([-d.ravel(), d.ravel()])

    @_inference
    def decision(self, docs: Sequence[Doc]) -> np.ndarray:
        return self._decide(self.features(docs))

    def predict_proba(self, docs: Sequence[Doc]) -> np.ndarray:
        return _softmax(self.decision(docs) / self.temperature)

    def top(self, docs: Sequence[Doc], k: int = 3) -> list[list[tuple[str, float]]]:
        proba = self.predict_proba(docs)
        order = np.argsort(-proba, axis=1)[:, :k]
        return [[(self.classes[j], float(row[j])) for j in idx] for row, idx in zip(proba, order, strict=True)]

    @_inference
    def sure(self, docs: Sequence[Doc]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For a batch: (probabilities, sure-enough-to-act flags, familiarity of the top label)."""
        x = self.features(docs)
        d = self._decide(x)
        proba = _softmax(d / self.temperature)
        top = [self.classes[j] for j in proba.argmax(axis=1)]
        fam = self.familiarity(x, top)
        threshold = getattr(self, "threshold", None)
        if threshold is None:
            return proba, np.zeros(len(docs), dtype=bool), fam
        ok = (proba.max(axis=1) >= threshold) & (fam >= getattr(self, "familiar_floor", 0.0))
        return proba, ok & self.known(d), fam

    def known(self, decisions: np.ndarray, open_floor: float | None = None) -> np.ndarray:
        """Per row: whether the top decision clears the open-set gate (all rows when the model has no gate)."""
        floor = getattr(self, "open_floor", None) if open_floor is None else open_floor
        if floor is None:
            return np.ones(decisions.shape[0], dtype=bool)
        out: np.ndarray = decisions.max(axis=1) >= floor
        return out

    def threshold_at(self, precision: float, label: str | None = None) -> float | None:
        """The lowest probability whose held-out proposals are right at least `precision` of the time (among the
        proposals of `label` when it was proposed at least 10 times, else among all); None when none is."""
        conf = getattr(self, "oof_conf", None)
        if conf is None:
            return None
        right = self.oof_right
        if label is not None:
            mine = np.asarray(self.oof_guess, dtype=object) == label
            if mine.sum() >= 10:
                return threshold_for(conf[mine], right[mine], precision)[0]
        return threshold_for(conf, right, precision)[0]

    def explain(self, doc: Doc, label: str, k: int = 5, *, x: csr_matrix | None = None) -> list[str]:
        """The words (title words and two-character terms) that pushed `doc` towards `label` most. Pass the
        document's feature row as `x` when it is already computed."""
        if label not in self.classes:
            return []
        row = (self.features([doc]) if x is None else x).tocsr()
        i = self.classes.index(label)
        sign = -1 if len(self.classes) == 2 and i == 0 else 1
        coef = self.svm.coef_[i if len(self.classes) > 2 else 0]
        names = self._feature_names()
        weight: dict[str, float] = {}
        for j, v in zip(row.indices.tolist(), (row.data * coef[row.indices] * sign).tolist(), strict=True):
            name = names[j]
            if name is not None:
                weight[name] = weight.get(name, 0.0) + v
        return [w for w, s in sorted(weight.items(), key=lambda p: -p[1]) if s > 0][:k]

    def _feature_names(self) -> list[str | None]:
        if not hasattr(self, "_names"):

            def two(vec: TfidfVectorizer) -> list[str | None]:
                return [c if len(c) == 2 and c.isalnum() else None for c in vec.get_feature_names_out()]

            self._names: list[str | None] = [
                *two(self.char_vec),
                *self.title_vec.get_feature_names_out(),
                *two(self.title_char_vec),
            ]
        return self._names

    def assess(self, doc: Doc, k: int = 3, *, explain: bool = True) -> Assessment:
        """Top `k` labels of one document with probability and explaining terms (none without `explain`), and
        whether to act alone."""
        x = self.features([doc])
        d = self._decide(x)
        proba = _softmax(d / self.temperature)[0]
        order = np.argsort(-proba)[:k]
        ranked = [
            (self.classes[j], float(proba[j]), self.explain(doc, self.classes[j], x=x) if explain else [])
            for j in order
        ]
        fam = float(self.familiarity(x, [self.classes[order[0]]])[0])
        threshold = getattr(self, "threshold", None)
        if threshold is None:
            reason = "unmeasured"
        elif proba[order[0]] < threshold:
            reason = "low_confidence"
        elif fam < getattr(self, "familiar_floor", 0.0) or not self.known(d)[0]:
            reason = "unfamiliar"
        else:
            reason = "sure"
        return Assessment(ranked, reason == "sure", reason, round(fam, 4))

    def propose(self, doc: Doc, k: int = 3) -> list[tuple[str, float, list[str]]]:
        """Top `k` labels of one document with their probability and explaining terms (features computed once)."""
        return self.assess(doc, k).ranked

    # --- storage ----------------------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        state = {k: v for k, v in self.__dict__.items() if k not in CACHES}
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


def threshold_for(
    conf: np.ndarray, right: np.ndarray, target: float
) -> tuple[float | None, list[tuple[float, float, float]]]:
    """The lowest confidence t such that the rows with confidence ≥ t are right at least `target` of the time
    (None when no t does), and the coverage–accuracy curve as (t, coverage, accuracy) at 20 points."""
    if not len(conf):
        return None, []
    order = np.argsort(-conf, kind="stable")
    acc = np.cumsum(right[order]) / np.arange(1, len(order) + 1)
    ok = np.flatnonzero(acc >= target)
    # a threshold must hold for at least 10 rows to count as measured
    ok = ok[ok >= min(9, len(order) - 1)]
    threshold = float(conf[order][ok.max()]) if len(ok) else None
    curve = []
    for q in np.linspace(0, 1, 21)[1:]:
        n = max(1, round(q * len(order)))
        curve.append((round(float(conf[order][n - 1]), 4), round(n / len(order), 4), round(float(acc[n - 1]), 4)))
    return threshold, curve


def _floor_for(score: np.ndarray, share: float) -> float:
    """The lowest value t such that at most `share` of `score` is ≥ t (−inf when all may pass)."""
    finite = np.sort(score[np.isfinite(score)])[::-1]
    allowed = math.floor(share * len(score) + 1e-9)
    if allowed >= len(finite):
        return float("-inf")
    return float(np.nextafter(finite[allowed], np.inf))


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
