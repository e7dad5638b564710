"""Server-side column sorting for every list (`?sort=<key>` ascending, `?sort=-<key>` descending).

A list declares the columns it may be sorted by (a whitelist: key → the ordering fields, annotations allowed), and
the view sorts the whole queryset before paginating, so the order holds across pages and in the list's exports
(the same `?sort=` goes into the export link with the other filters). An unknown or malformed value is ignored: the
list keeps its own order. Nulls go last either way; the primary key breaks ties so that pages never overlap.

    SORTS = Sorts({"number": ("number",), "due": ("due_at",)})
    rows, sorting = SORTS.apply(request.GET, rows)       # sorting goes to the template as `sorting`
    {% load sorting %}<th>…</th> → {% sort_th "due" _("due at") %}
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import F, QuerySet

PARAM = "sort"


@dataclass(frozen=True)
class Sorting:
    """The sort a list is shown in: `key` ("" = the list's own order) and direction."""

    keys: frozenset[str]
    key: str = ""
    descending: bool = False

    @property
    def value(self) -> str:
        return f"-{self.key}" if self.descending and self.key else self.key


class Sorts:
    """The whitelist of one list's sortable columns."""

    def __init__(self, fields: Mapping[str, tuple[str, ...]]) -> None:
        self.fields = dict(fields)

    def parse(self, params: Mapping[str, Any]) -> Sorting:
        raw = str(params.get(PARAM, "") or "").strip()[:40]
        descending = raw.startswith("-")
        key = raw.removeprefix("-")
        if key not in self.fields:
            return Sorting(frozenset(self.fields))
        return Sorting(frozenset(self.fields), key, descending)

    def order(self, rows: QuerySet[Any], sorting: Sorting) -> QuerySet[Any]:
        if not sorting.key:
            return rows
        paths = self.fields[sorting.key]
        by = [F(p).desc(nulls_last=True) if sorting.descending else F(p).asc(nulls_last=True) for p in paths]
        return rows.order_by(*by, "-pk" if sorting.descending else "pk")

    def apply(self, params: Mapping[str, Any], rows: QuerySet[Any]) -> tuple[QuerySet[Any], Sorting]:
        """`rows` in the order `params` asks for (the request's GET), and the sorting for the headers."""
        sorting = self.parse(params)
        return self.order(rows, sorting), sorting
