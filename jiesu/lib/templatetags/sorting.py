"""`{% sort_th "key" label %}`: a column header that sorts the list on the server (see `jiesu.lib.sorting`).

A click sorts ascending; a click on the column already sorted ascending reverses it. The link keeps the list's
other filters and goes back to page 1. A column the list does not whitelist is a plain header."""

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from jiesu.lib.sorting import PARAM, Sorting

register = template.Library()


@register.simple_tag(takes_context=True)
def sort_th(context: Any, key: str, label: Any, extra: str = "") -> SafeString:
    sorting: Sorting | None = context.get("sorting")
    request = context.get("request")
    if sorting is None or request is None or key not in sorting.keys:
        return format_html("<th>{}</th>", label)
    active = sorting.key == key
    descending = active and not sorting.descending
    query = request.GET.copy()
    query.pop("page", None)
    query[PARAM] = f"-{key}" if descending else key
    if active:
        state, arrow = ("descending", " ▼") if sorting.descending else ("ascending", " ▲")
        title = (
            _("sorted descending; click to sort ascending")
            if sorting.descending
            else _("sorted ascending; click to sort descending")
        )
    else:
        state, arrow, title = "none", "", _("click to sort")
    return format_html(
        '<th aria-sort="{}"{}><a class="sort" data-sort-key="{}" href="?{}" title="{}">{}{}</a></th>',
        state,
        format_html(' class="{}"', extra) if extra else "",
        key,
        query.urlencode(),
        title,
        label,
        arrow,
    )
