"""Chinese text for the models: cleaning and word segmentation (jieba).

jieba's dictionary is loaded once per process (about a second) and shared. Category names and other domain
terms are added to it as words, so "物业管理" stays one token instead of "物业" + "管理".
"""

import re
import threading
from collections.abc import Iterable

import jieba

jieba.setLogLevel(60)

_lock = threading.Lock()
_known: set[str] = set()

# Anonymised place holders of published data sets ("A市", "A3区"), digits and whitespace carry no topic.
_NOISE = re.compile(r"[A-Z]\d*[市区县]|\d+|\s+")  # i18n: data
_TERM_SPLIT = re.compile(r"[、，,/\\|;；（）()\s]+|和|及|与")  # i18n: data


def clean(text: str) -> str:
    return _NOISE.sub("", text or "")


def add_terms(terms: Iterable[str]) -> None:
    """Teach the segmenter domain words (two characters or more)."""
    with _lock:
        for term in terms:
            if len(term) >= 2 and term not in _known:
                jieba.add_word(term, 2000)
                _known.add(term)


def terms_of(name: str) -> list[str]:
    """The words of a taxonomy label: "城管执法/违章建筑" → ["城管执法", "违章建筑"]."""
    return [t for t in _TERM_SPLIT.split(name) if len(t) >= 2 and t != "其他"]  # i18n: data


def words(text: str) -> list[str]:
    """Words of two characters or more of the cleaned text (single characters are left to the character model)."""
    return [w for w in jieba.lcut(clean(text), HMM=False) if len(w) > 1]
