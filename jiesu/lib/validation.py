"""Checks of free text that every service applies the same way, with messages in the user's language."""

import re
import unicodedata
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


# --- phone numbers ------------------------------------------------------------------------------------------
_EXTENSION = re.compile(r"\s*(?:转|分机|ext\.?|extension|x|#)\s*(\d{1,6})\s*$", re.IGNORECASE)  # i18n: data
_DASH_EXTENSION = re.compile(r"^(\(?0\d{2,3}\)?[\s\-]?\d{7,8})-(\d{1,6})$")
_SEPARATORS = re.compile(r"[\s\-().·/]")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0[1-9]\d{8,10}$")  # area code (010, 021, 0371 …) and a 7- or 8-digit number
_LOCAL = re.compile(r"^[2-9]\d{6,7}$")  # a landline without its area code: the city's own
_SERVICE = re.compile(r"^(?:1\d{2,4}|9\d{4}|[48]00\d{7})$")  # 110, 12345, 95598, 400/800 numbers
DEFAULT_AREA_CODE = "010"


def normalize_phone(value: object, *, area_code: str = DEFAULT_AREA_CODE) -> str:
    """The one canonical form of a phone number, used wherever numbers are stored, compared or searched:

    - mobile: 11 digits (`+86 138-1234-5678`, `0086 13812345678`, `138 1234 5678` → `13812345678`);
    - landline: area code and number as digits (`(010) 6512-3456`, `010-65123456` → `01065123456`); a number
      without its area code gets `area_code` (Beijing's 010 by default: `6512 3456` → `01065123456`);
    - an extension follows after a hyphen (`010-65123456 转 801`, `…ext. 801`, `…-801`, `…#801` →
      `01065123456-801`);
    - service numbers stay as they are (`12345`, `95598`, `400-810-1234` → `4008101234`).

    Full-width digits are read as digits. Empty input gives "". Anything else is InvalidInput (at `phone`)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(_("%(field)s must be text."), on="phone", field=_("Phone"))
    raw = unicodedata.normalize("NFKC", value).strip()
    if not raw:
        return ""
    text, extension = raw, ""
    found = _EXTENSION.search(text)
    if found and _EXTENSION.sub("", text).strip():
        text, extension = text[: found.start()], found.group(1)
    else:
        dashed = _DASH_EXTENSION.match(text)
        if dashed:
            text, extension = dashed.group(1), dashed.group(2)
    digits = _SEPARATORS.sub("", text)
    international = digits.startswith(("+86", "0086"))
    if international:
        digits = digits.removeprefix("+").removeprefix("00")[2:]
        if not _MOBILE.match(digits) and not digits.startswith("0"):
            digits = "0" + digits  # +86 10 … is the landline 010 …
    elif digits.startswith("86") and _MOBILE.match(digits[2:]):
        digits = digits[2:]
    if not digits.isdigit() or len(digits) > 14:
        raise InvalidInput(_("The phone number “%(phone)s” is not valid."), on="phone", phone=raw[:20])
    if _MOBILE.match(digits) or _LANDLINE.match(digits) or _SERVICE.match(digits):
        number = digits
    elif _LOCAL.match(digits):
        number = area_code + digits
    else:
        raise InvalidInput(_("The phone number “%(phone)s” is not valid."), on="phone", phone=raw[:20])
    return f"{number}-{extension}" if extension else number


def phone_or_none(value: object) -> str | None:
    """`normalize_phone`, or None where the input is not a phone number (for search boxes that take anything)."""
    try:
        return normalize_phone(value) or None
    except InvalidInput:
        return None
