"""Pure pieces of training: masking a ticket into a case, grading a practice answer, the LTSI questionnaire."""

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

from django.utils.translation import gettext_lazy as _

# --- masking -------------------------------------------------------------------------------------------------
LONG_NUMBER = re.compile(r"\d{7,}[\dXx]?")
# a house, building, unit, room or floor number: digits before 号 楼 单元 室 层 门 栋 (written as escapes: no
# Chinese literals in code)
HOUSE_NUMBER = re.compile("\\d+(?=[\u53f7\u697c\u5355\u5ba4\u5c42\u95e8\u680b])")  # i18n: data


def mask_case_text(text: str, *, name: str = "", phone: str = "") -> str:
    """A ticket's text with nothing that identifies the caller: their name and phone number wherever they occur,
    any long number (phone, ID card, account), and house/building/room numbers of the address."""
    out = text or ""
    if phone:
        out = out.replace(phone, "*" * len(phone))
    if name and len(name.strip()) >= 2:
        out = out.replace(name.strip(), "*" * len(name.strip()))
    out = LONG_NUMBER.sub(lambda m: "*" * len(m.group()), out)
    return HOUSE_NUMBER.sub("*", out)


# --- grading -------------------------------------------------------------------------------------------------
RUBRIC_LABELS = {
    "contact": _("Says the requester was contacted"),
    "verify": _("Says what was verified on site"),
    "action": _("Says what was done"),
    "followup": _("Says what follows (patrols, callbacks, lasting fix)"),
    "policy": _("Explains the rule or the reason"),
    "length": _("Long enough to be an account, short enough to read"),
    "no_shirking": _("No shirking phrases"),
}
DEFAULT_RUBRIC = Path(__file__).with_name("rubric.json")


def default_rubric() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads(DEFAULT_RUBRIC.read_text(encoding="utf-8"))
    return items


def grade_reply(text: str, items: list[dict[str, Any]]) -> dict[str, bool]:
    """Each rubric item: met or not. `any`: one of the words occurs; `none`: none occurs; `min`/`max`: length."""
    text = (text or "").strip()
    out: dict[str, bool] = {}
    for item in items:
        ok = True
        if item.get("any"):
            ok = ok and any(w in text for w in item["any"])
        if item.get("none"):
            ok = ok and not any(w in text for w in item["none"])
        if "min" in item:
            ok = ok and len(text) >= int(item["min"])
        if "max" in item:
            ok = ok and len(text) <= int(item["max"])
        out[str(item["code"])] = bool(ok)
    return out


@dataclasses.dataclass(frozen=True)
class Grade:
    category_ok: bool
    unit_ok: bool
    deadline_ok: bool
    rubric: dict[str, bool]
    score: int


# Points: category 20, unit 20, time limit 10, the reply's rubric 50 (by the items' weights).
def grade(
    *,
    category_ok: bool,
    unit_ok: bool,
    deadline_ok: bool,
    reply: str,
    items: list[dict[str, Any]],
) -> Grade:
    rubric = grade_reply(reply, items)
    weights = {str(i["code"]): float(i.get("weight", 1)) for i in items}
    total = sum(weights.values()) or 1.0
    share = sum(w for code, w in weights.items() if rubric.get(code)) / total
    score = 20 * category_ok + 20 * unit_ok + 10 * deadline_ok + round(50 * share)
    return Grade(category_ok, unit_ok, deadline_ok, rubric, int(score))


# --- LTSI (Learning Transfer System Inventory), short form, after 马正立 2020 -----------------------------------
LTSI_ITEMS: list[tuple[str, str, Any]] = [
    ("a1", "ability", _("I can apply what I learned to my own tickets.")),
    ("a2", "ability", _("I know which of my tasks the course applies to.")),
    ("a3", "ability", _("I have had the chance to use what I learned.")),
    ("m1", "motivation", _("I want to use what I learned in my work.")),
    ("m2", "motivation", _("Using it will make my tickets come out better.")),
    ("m3", "motivation", _("I am confident I can master the methods of the course.")),
    ("e1", "environment", _("My leader supports me in using what I learned.")),
    ("e2", "environment", _("My colleagues work the same way.")),
    ("e3", "environment", _("My workload leaves room to work the new way.")),
]
DIMENSIONS = ("ability", "motivation", "environment")
DIMENSION_LABELS = {
    "ability": _("Ability to transfer"),
    "motivation": _("Motivation to transfer"),
    "environment": _("Work environment"),
}


def ltsi_scores(answers: dict[str, int]) -> dict[str, float]:
    """The mean of each dimension's items (1–5)."""
    out = {}
    for dim in DIMENSIONS:
        values = [answers[code] for code, d, _label in LTSI_ITEMS if d == dim]
        out[dim] = round(sum(values) / len(values), 2)
    return out
