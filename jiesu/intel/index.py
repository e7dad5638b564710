"""The text index behind duplicate search and "similar past orders" (issue 19, speed).

Issue 4 fitted a character TF-IDF on up to 500 candidate tickets on every call (most of a second under load). Here
the vectorizer is fitted once, by the retraining task (`services.train_category_model` stores it in the category
model's file, so it is versioned, cached per process and replaced when another model is activated), and the
vectors of the candidate tickets are cached per process, keyed by the ticket's id and `version` (a changed ticket
gets a new vector). A query transforms one text and takes a dot product with the cached rows.

N-grams the fitted vocabulary never saw are ignored on both sides; the index is refitted with every retraining.
"""

from __future__ import annotations

import math
import re
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np
from scipy.sparse import csr_matrix, vstack
from sklearn.feature_extraction.text import TfidfVectorizer

_SPACE = re.compile(r"\s+")
INDEX_MAX_ROWS = 50_000  # texts the vectorizer is fitted on at most (the newest)
CACHE_ROWS = 60_000  # cached ticket vectors per process and field


def clean(text: str) -> str:
    return _SPACE.sub("", text or "")


class TextIndex:
    """A fitted character 1–2-gram TF-IDF (min_df 1, sublinear tf) for tickets' texts and addresses."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32)
        docs = [clean(t) for t in texts[:INDEX_MAX_ROWS]]
        self.vec.fit(docs if any(docs) else ["。"])  # no ticket yet: a vocabulary of one mark
        self.rows = min(len(texts), INDEX_MAX_ROWS)
        self.key = uuid.uuid4().hex  # names this fitted vocabulary in the vector cache

    def vectors(self, texts: Sequence[str]) -> csr_matrix:
        m: csr_matrix = self.vec.transform([clean(t) for t in texts])
        return m


class VectorCache:
    """Per process: (index id, field, ticket id, ticket version) → the ticket's normalised row, least recently used
    dropped beyond `CACHE_ROWS`."""

    def __init__(self) -> None:
        self._rows: OrderedDict[tuple[str, str, int, int], csr_matrix] = OrderedDict()
        self._lock = threading.Lock()

    def rows(
        self, index: TextIndex, field: str, keys: Sequence[tuple[int, int]], load: Callable[[list[int]], dict[int, str]]
    ) -> csr_matrix:
        """The vectors of tickets `keys` ((id, version) pairs) for `field`; the texts of missing ones come from
        `load(ids) -> {id: text}`."""
        ident = index.key
        missing = []
        with self._lock:
            found: dict[int, csr_matrix] = {}
            for pk, version in keys:
                hit = self._rows.get((ident, field, pk, version))
                if hit is None:
                    missing.append((pk, version))
                else:
                    self._rows.move_to_end((ident, field, pk, version))
                    found[pk] = hit
        if missing:
            got = load([pk for pk, _ in missing])
            new = index.vectors([got.get(pk, "") for pk, _ in missing])
            with self._lock:
                for i, (pk, version) in enumerate(missing):
                    row = new[i]
                    found[pk] = row
                    self._rows[(ident, field, pk, version)] = row
                while len(self._rows) > CACHE_ROWS:
                    self._rows.popitem(last=False)
        if not keys:
            return csr_matrix((0, len(index.vec.vocabulary_)), dtype=np.float32)
        return vstack([found[pk] for pk, _ in keys], format="csr")

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()


CACHE = VectorCache()


def cosine(index: TextIndex, text: str, rows: csr_matrix) -> np.ndarray:
    """Cosine of `text` to each row (rows are L2-normalised by the vectorizer)."""
    if rows.shape[0] == 0:
        return np.zeros(0)
    q = index.vectors([text])
    out: np.ndarray = (rows @ q.T).toarray().ravel()
    return out


# --- distance ---------------------------------------------------------------------------------------------
EARTH_M = 6_371_000.0


def metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_M * math.asin(min(1.0, math.sqrt(a)))
