"""The one base class for model admins that show records about tickets or people.

The Django admin is an interface like any other: it must show exactly what the user may see, and it must not
become a back door around the service layer. `AccessAdmin` therefore
- starts every queryset from the app's access function (`visible(user)`), so an object the user may not see
  answers like a missing one (the admin's "does not exist" page), in lists, change pages and lookups alike;
- is read-only unless the subclass sets `editable = True` (configuration rows such as catalogues are edited
  here; state changes go through the services, which write the events);
- shows the fields named in `masked` through the masking function given for each, on the list and the change
  page; the admin never shows personal data in full.

Configuration-only admins (catalogues, calendars, rules) may stay plain `admin.ModelAdmin`; the access matrix test
lists them explicitly, so a new admin cannot slip past this class unnoticed.
"""

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from .masking import mask_text

Visible = Callable[[Any], QuerySet[Any]]


class _Masked:
    """Fields named in `masked` are shown through their masking function, on lists and change pages."""

    masked: ClassVar[dict[str, Callable[[str], str]]] = {}
    model: Any

    def _install_masks(self) -> None:
        for field, mask in self.masked.items():
            label = getattr(self.model._meta.get_field(field), "verbose_name", field)

            def show(obj: Any, field: str = field, mask: Callable[[str], str] = mask) -> str:
                return mask(str(getattr(obj, field) or ""))

            show.short_description = label  # type: ignore[attr-defined]
            setattr(self, f"masked_{field}", show)

    def _swap(self, names: Sequence[Any]) -> list[Any]:
        return [f"masked_{n}" if isinstance(n, str) and n in self.masked else n for n in names]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self._swap(super().get_fields(request, obj))  # type: ignore[misc]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [*super().get_readonly_fields(request, obj), *(f"masked_{n}" for n in self.masked)]  # type: ignore[misc]


class AccessAdmin(_Masked, admin.ModelAdmin):  # type: ignore[type-arg]
    visible: ClassVar[Visible]
    editable: ClassVar[bool] = False

    def __init__(self, model: type[Model], admin_site: admin.AdminSite) -> None:
        super().__init__(model, admin_site)
        self._install_masks()

    # --- what the user may see ----------------------------------------------------------------------------
    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = type(self).visible(request.user)
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    # --- read-only unless configuration ---------------------------------------------------------------------
    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self.editable and super().has_add_permission(request, *args)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.editable and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.editable and super().has_delete_permission(request, obj)

    def get_list_display(self, request: HttpRequest) -> Any:
        return self._swap(super().get_list_display(request))

    def get_search_fields(self, request: HttpRequest) -> Any:
        return [f for f in super().get_search_fields(request) if f.split("__")[0] not in self.masked]


class ReadOnlyInline(_Masked, admin.TabularInline):  # type: ignore[type-arg]
    """A read-only inline of an AccessAdmin (rows of an object the user may see), with masked fields."""

    extra = 0
    can_delete = False

    def __init__(self, parent_model: type[Model], admin_site: admin.AdminSite) -> None:
        super().__init__(parent_model, admin_site)
        self._install_masks()

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def masked_text(value: str) -> str:
    """Free text in the admin: numbers that could identify a person are masked."""
    return mask_text(value)
