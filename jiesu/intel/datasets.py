"""The public data sets in `../shared/data` that the benchmarks and tests measure the models on.

Nothing of them is copied into the repository: they are read where they lie (`JIESU_SHARED_DATA` overrides the
path) and a caller skips with a clear message when they are absent.
"""

from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from .classifier import Doc
from .tabular import read_table, read_taxonomy


def root() -> Path:
    return Path(settings.JIESU_SHARED_DATA)


@dataclass
class Labelled:
    name: str
    docs: list[Doc]
    labels: list[str]
    unlabelled: list[Doc] = field(default_factory=list)
    taxonomy: dict[str, list[str]] = field(default_factory=dict)


TEDDY = "tipdm2020c"
TEDDY_LABELLED = f"{TEDDY}/附件2_示例_495条_有一级分类.csv"
TEDDY_UNLABELLED = f"{TEDDY}/附件2_官方作品测试数据_2801条_无标签.csv"
TEDDY_TAXONOMY = f"{TEDDY}/附件1_内容分类三级标签体系.csv"


def missing(*relative: str) -> str | None:
    """A skip message naming the first absent file, or None when all are there."""
    for rel in relative:
        if not (root() / rel).exists():
            return f"shared data not found: {root() / rel}"
    return None


def _load(rel: str, text_cols: list[str], label_col: str | None) -> tuple[list[Doc], list[str]]:
    table = read_table(root() / rel)
    docs: list[Doc] = []
    labels: list[str] = []
    for row in table.rows:
        doc = table.texts(row, text_cols)
        label = (row.get(label_col) or "").strip() if label_col else ""
        if any(doc) and (label or not label_col):
            docs.append(doc)
            labels.append(label)
    return docs, labels


def teddy() -> Labelled:
    cols = ["留言主题", "留言详情"]
    docs, labels = _load(TEDDY_LABELLED, cols, "一级分类")
    unlabelled, _ = _load(TEDDY_UNLABELLED, cols, None)
    tax = read_taxonomy(root() / TEDDY_TAXONOMY)
    return Labelled("Teddy Cup 一级分类", docs, labels, unlabelled, {k: v for k, v in tax.items() if k in labels})


HANGZHOU = "hangzhou_people_liuyan/messages_union_recent.csv"
FUZHOU = "fuzhou12345_rivers/诉求数据汇总__汇总.csv"


def hangzhou() -> Labelled:
    docs, labels = _load(HANGZHOU, ["title", "content"], "domain")
    return Labelled("Hangzhou 领域", docs, labels)


def fuzhou() -> Labelled:
    docs, labels = _load(FUZHOU, ["标题", "投诉件内容"], "性质")
    return Labelled("Fuzhou 性质", docs, labels)


US311 = {
    "NYC": (
        "us311/derived_nyc311_harmonized_all_samples.csv",
        ["complaint_type", "descriptor", "location_type"],
        "agency",
    ),
    "SF": (
        "us311/sf/sf311_sample_10000_2008-2018__Maarham_UPenn_500_Proj.csv",
        ["category", "complaint_type", "descriptor"],
        "agency_name",
    ),
    "LA": ("us311/la/myla311_2018-12_mini_10000__hackforla_311-data.csv", ["RequestType", "RequestSource"], "Owner"),
}


def us311(city: str) -> Labelled:
    rel, cols, label = US311[city]
    docs, labels = _load(rel, cols, label)
    return Labelled(f"{city} 311 → {label}", docs, labels)
