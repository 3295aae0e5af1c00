"""Validation of the codes people type: USCC, GTIN, region codes, licence numbers.

Each parser returns the normalised value or raises BadUserInputError naming the argument.
"""

from __future__ import annotations

import re
from functools import lru_cache

from stdnum import ean
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import ValidationError

from hub.errors import BadUserInputError

_REGION = re.compile(r"^[1-9]\d{5}$")
_LICENCE = re.compile(r"^XK\d{2}-\d{3}-\d{5}$")


def parse_uscc(value: str, argument: str = "uscc") -> str:
    """A Unified Social Credit Code (GB 32100-2015), upper-cased, check character verified."""
    if _USCC_CANONICAL.fullmatch(value) and _uscc_check_holds(value):
        return value
    try:
        return _valid_uscc(value.strip())
    except ValidationError as error:
        raise BadUserInputError(argument, f"not a valid USCC ({error})") from None


_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""GB 32100-2015's 31 characters (no I, O, Z, S, V), each worth its position."""
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_TERMS = [{c: i * weight for i, c in enumerate(_USCC_ALPHABET)} for weight in _USCC_WEIGHTS]
"""Per position of the first 17, each character's value times the position's weight."""
_USCC_CANONICAL = re.compile(r"[0-9]{8}[0-9A-HJ-NP-RTUW-Y]{10}")


def _uscc_check_holds(code: str) -> bool:
    """stdnum's check character of a code already in its canonical form, without stdnum's
    normalising (spaces, separators, case): under 1 µs instead of ~15, which is a
    tenth of a partner's batch of 100 (``tests/test_codes.py`` holds it to stdnum)."""
    total = sum(map(dict.__getitem__, _USCC_TERMS, code))  # stops after the 17th
    return _USCC_ALPHABET[-total % 31] == code[17]


@lru_cache(maxsize=65536)
def _valid_uscc(value: str) -> str:
    """stdnum's check, remembered: everything but a well-formed code in canonical form."""
    return str(stdnum_uscc.validate(value))


def parse_gtin(value: str, argument: str = "gtin") -> str:
    """A GTIN-8/12/13/14 barcode with a valid check digit."""
    try:
        return str(ean.validate(value.strip()))
    except ValidationError as error:
        raise BadUserInputError(argument, f"not a valid GTIN ({error})") from None


def parse_region_code(value: str, argument: str = "regionCode") -> str:
    """A GB/T 2260 administrative division code: six digits, not starting with 0."""
    code = value.strip()
    if not _REGION.match(code):
        raise BadUserInputError(argument, "a region code is six digits (GB/T 2260), e.g. 440000")
    return code


def region_prefix(code: str) -> str:
    """The digits every code inside a division starts with: 44 for 440000, 4403 for 440300,
    440305 for itself (GB/T 2260: province, city, county)."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def region_range(code: str) -> tuple[str, str]:
    """The half-open range ``[low, high)`` of the six-digit codes inside a division: 440000
    covers 440000 to 449999, 440300 covers 440300 to 440399, and 440305 only itself.

    ``high`` is the last code inside with a 0 appended: digit strings compare by their first
    difference, and a prefix sorts first, so it comes after that code and before the next
    one, in PostgreSQL's collations (C, glibc, ICU) and in SQLite's and Elasticsearch's byte
    order alike. Nothing is incremented, so no division overflows (99, 9999), and no
    character that PostgreSQL refuses (NUL) is needed."""
    prefix = region_prefix(code)
    return prefix.ljust(6, "0"), prefix.ljust(6, "9") + "0"


def parse_licence_number(value: str, argument: str = "number") -> str:
    """A production licence number such as XK16-108-00001."""
    number = value.strip().upper()
    if not _LICENCE.match(number):
        raise BadUserInputError(argument, "a licence number looks like XK16-108-00001")
    return number
