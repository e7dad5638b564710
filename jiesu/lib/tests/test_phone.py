"""The one phone normaliser, on a table of the ways callers and systems write numbers."""

import pytest

from jiesu.lib.errors import InvalidInput
from jiesu.lib.validation import normalize_phone, phone_or_none

CASES = [
    # mobiles
    ("13812345678", "13812345678"),
    ("138 1234 5678", "13812345678"),
    ("138-1234-5678", "13812345678"),
    ("+86 138 1234 5678", "13812345678"),
    ("+8613812345678", "13812345678"),
    ("0086-13812345678", "13812345678"),
    ("8613812345678", "13812345678"),
    ("１３８１２３４５６７８", "13812345678"),  # full-width digits
    (" 19912345678 ", "19912345678"),
    # landlines with area code
    ("010-65123456", "01065123456"),
    ("(010) 6512 3456", "01065123456"),
    ("（010）65123456", "01065123456"),  # full-width brackets
    ("010 6512-3456", "01065123456"),
    ("+86 10 6512 3456", "01065123456"),  # the international form of a landline
    ("021-64123456", "02164123456"),
    ("0371-6612345", "03716612345"),
    ("0755 86123456", "075586123456"),
    # landline without area code: Beijing's
    ("65123456", "01065123456"),
    ("6512-3456", "01065123456"),
    # extensions
    ("010-65123456转801", "01065123456-801"),
    ("010-65123456 转 801", "01065123456-801"),
    ("010-65123456-801", "01065123456-801"),
    ("010 65123456 ext. 801", "01065123456-801"),
    ("010-65123456 EXT 8", "01065123456-8"),
    ("65123456#12", "01065123456-12"),
    ("(010)65123456 x801", "01065123456-801"),
    ("010-65123456分机2301", "01065123456-2301"),
    # service numbers
    ("12345", "12345"),
    ("110", "110"),
    ("95598", "95598"),
    ("400-810-1234", "4008101234"),
    # empty
    ("", ""),
    ("   ", ""),
    (None, ""),
]

INVALID = ["abc", "138123", "1381234567890123", "23", "12345678901", "010-6512345a", "转801", "+1 (212) 555-0100"]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_normalize_phone(raw: str | None, expected: str) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", INVALID)
def test_invalid_numbers_are_refused_in_words(raw: str) -> None:
    with pytest.raises(InvalidInput) as error:
        normalize_phone(raw)
    assert error.value.on == "phone"
    assert phone_or_none(raw) is None


def test_normalizing_twice_changes_nothing() -> None:
    for _raw, expected in CASES:
        assert normalize_phone(expected) == expected


def test_another_area_code() -> None:
    assert normalize_phone("64123456", area_code="021") == "02164123456"
