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


# Personal data inside free text (order text, titles, addresses, notes, replies), in the order they are tried:
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
# a Chinese resident ID (18 characters, the last a digit or X; 15 digits for old cards), a bank card (12-19 digits,
# maybe grouped by spaces or dashes), a mobile (11 digits from 1, maybe as 3-4-4 or with +86), a landline
# (0 + area code, then 7-8 digits, with or without a dash), and any other run of seven digits or more.
_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])(?:"
    r"\d{17}[\dXx]"
    r"|\d{4}(?:[ -]\d{4}){2,3}(?:[ -]\d{1,3})?"
    r"|(?:\+?86[ -]?)?1\d{2}[ -]\d{4}[ -]\d{4}"
    r"|0\d{2,3}[ -]\d{7,8}"
    r"|\d{7,}"
    r")(?![0-9A-Za-z])"
)


def _keep_last_four(match: re.Match[str]) -> str:
    text = match.group()
    digits = [i for i, c in enumerate(text) if c.isdigit() or c in "Xx"]
    keep = set(digits[-4:])
    return "".join(c if (i in keep or not (c.isdigit() or c in "Xx")) else "*" for i, c in enumerate(text))


def mask_text(text: str) -> str:
    """The one masking of free text, for every role that may not see requesters' data, on every interface: phone
    numbers, ID card numbers, bank cards and other runs of seven digits or more keep only their last four digits
    (separators stay); an e-mail address keeps its first character and its domain (z***@example.com)."""
    if not text:
        return text
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    return _NUMBER.sub(_keep_last_four, text)


def mask_for(text: str, unmasked: bool) -> str:
    """`text` as it is for a role that may see requesters' data, masked for every other."""
    return text if unmasked else mask_text(text)
