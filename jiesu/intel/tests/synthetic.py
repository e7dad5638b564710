"""A small measured category model for tests: varied synthetic calls for four demo categories, so that the model
has held-out measurements (threshold, familiarity) like a model trained on a city's history."""

import itertools
import random

from jiesu.intel.classifier import Doc, TextModel
from jiesu.intel.models import ModelKind, TextModelVersion
from jiesu.intel.services import register

PLACES = ["光华路1号楼", "建外SOHO", "朝外大街20号", "永安里小区", "国贸东区", "团结湖北里", "呼家楼南里", "三里屯路"]
PROBLEMS = {
    "020401": (
        ["暖气不热", "暖气片冰凉", "室温不达标", "供暖温度低"],
        ["家里暖气片不热", "室温只有十五度", "老人孩子冻得受不了"],
    ),
    "020101": (
        ["停水", "家里没水", "突然停水", "自来水停了"],
        ["从早上开始停水", "没有接到停水通知", "做饭洗漱都没法用水"],
    ),
    "010201": (
        ["垃圾清运不及时", "垃圾桶满溢", "垃圾没人清运"],
        ["小区垃圾桶三天没人清运", "垃圾堆满了味道很大", "苍蝇很多"],
    ),
    "010101": (
        ["占道经营", "夜市摊贩占道", "游商占道"],
        ["路边摊贩占用人行道", "晚上摆摊到很晚", "行人只能走机动车道"],
    ),
}


def synthetic(n: int = 18, seed: int = 1) -> tuple[list[Doc], list[str]]:
    rng = random.Random(seed)
    docs: list[Doc] = []
    labels: list[str] = []
    for code, (titles, bodies) in PROBLEMS.items():
        combos = list(itertools.product(PLACES, titles, bodies))
        for place, title, body in rng.sample(combos, n):
            docs.append((f"{place}{title}", f"{place}{body}，希望尽快解决。"))
            labels.append(code)
    return docs, labels


def measured_category_model() -> TextModelVersion:
    """Train, register and activate it (select=False keeps it fast; the calibration still runs)."""
    docs, labels = synthetic()
    model = TextModel(select=False).fit(docs, labels)
    return register(model, ModelKind.CATEGORY, "synthetic calls (tests)", activate=True)


def sample_call(code: str) -> tuple[str, str]:
    """A (title, content) the synthetic model was trained on, of category `code`."""
    docs, labels = synthetic()
    title, content = docs[labels.index(code)]
    return title, content
