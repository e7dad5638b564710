"""What an event of the ticket's timeline carries beyond its action, in words: the evidence of an automatic dispatch
(issue 19: each one is marked on the trail) and the groups a tag change set, with the words that made the
assistant propose them."""

from typing import Any

from django import template
from django.utils.translation import pgettext

from jiesu.tickets.models import AffectedGroup

register = template.Library()


@register.filter
def percent(value: Any) -> str:
    """0.9734 → "97.3 %" (an empty string for anything that is not a number)."""
    try:
        return f"{float(value) * 100:.1f} %"
    except (TypeError, ValueError):
        return ""


@register.filter
def group_labels(codes: Any) -> str:
    """["elderly", "children"] → "elderly, children" in the user's language (the labels of the affected groups;
    unknown codes are left out)."""
    known = dict(AffectedGroup.choices)
    return pgettext("list separator", ", ").join(str(known[c]) for c in (codes or []) if c in known) or "—"


@register.filter
def matched_words(words: Any) -> str:
    """{"elderly": [words]} → "elderly: word, word" in the user's language (the words that made the assistant
    propose each group)."""
    if not isinstance(words, dict):
        return ""
    known = dict(AffectedGroup.choices)
    comma, colon = pgettext("list separator", ", "), pgettext("label separator", ": ")
    return pgettext("list of lists separator", "; ").join(
        f"{known[c]}{colon}{comma.join(map(str, w))}" for c, w in words.items() if c in known and w
    )
