from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def pp(value: float | None) -> str:
    """A difference of rates in percentage points, signed."""
    if value is None:
        return "—"
    return f"{value * 100:+.1f}"


@register.filter
def pct(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.0f}%"


@register.filter
def ppu(value: float | None) -> str:
    """A standard error in percentage points, unsigned."""
    if value is None:
        return "—"
    return f"{value * 100:.1f}"
