"""Masking of requesters' personal data."""

import re


def mask_phone(phone: str) -> str:
    """13812345678 -> 138****5678; short numbers keep only their last two digits."""
    digits = phone.strip()
    if len(digits) >= 7:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    if len(digits) > 2:
        return "*" * (len(digits) - 2) + digits[-2:]
    return "*" * len(digits)


def mask_name(name: str) -> str:
    """张三丰 -> 张**; an empty name stays empty."""
    name = name.strip()
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


_DIGITS = re.compile(r"\d{7,}[\dXx]?")


def mask_text(text: str) -> str:
    """Phone, ID-card and account numbers inside free text (seven digits or more) keep only their last four."""
    return _DIGITS.sub(lambda m: "*" * (len(m.group()) - 4) + m.group()[-4:], text)
