"""Checks of free text that every service applies the same way, with messages in the user's language."""

import re
from typing import Any

from django.utils.translation import gettext_lazy as _

from .errors import InvalidInput

CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: object, *, on: str, label: Any, limit: int, required: bool = True) -> str:
    """`value` stripped; InvalidInput (naming `label`, at the input `on`) when it is not text, empty though
    required, holds control characters, or is longer than `limit`."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(_("%(field)s must be text."), on=on, field=label)
    value = value.strip()
    if required and not value:
        raise InvalidInput(_("%(field)s must not be empty."), on=on, field=label)
    if CONTROL_RE.search(value):
        raise InvalidInput(_("%(field)s contains invalid control characters."), on=on, field=label)
    if len(value) > limit:
        raise InvalidInput(
            _("%(field)s is too long: %(length)d characters, at most %(limit)d."),
            on=on,
            field=label,
            length=len(value),
            limit=limit,
        )
    return value
