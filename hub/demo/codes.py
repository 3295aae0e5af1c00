"""Unique, valid identifiers derived from row ids, so no chunk needs to know another's codes.

Each code is an affine bijection of an id, ``(a * id + b) mod 10**k``: distinct ids give distinct
codes without a set of used codes, and ``b`` is chosen so that id 1 gets the code the README's
examples use (USCC 91110000600037341L, GTIN 6901234567892, licence XK16-108-00001).
"""

from __future__ import annotations

from functools import cache

# Multipliers coprime to 10, so the maps below are bijections on their ranges.
_ORGANISATION_A = 48_271_379
_ORGANISATION_BASE = 10**8
_ORGANISATION_B = (60_003_734 - _ORGANISATION_A) % _ORGANISATION_BASE  # id 1 -> 60003734

_COMPANY_A = 7_919_351
_COMPANY_BASE = 10**7
_COMPANY_B = (123_456 - _COMPANY_A) % _COMPANY_BASE  # id 1 -> 0123456

_ORGANISATION_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

MAX_ENTERPRISES = _COMPANY_BASE - 1
"""GS1 company prefixes are a bijection of enterprise ids below 10**7."""

_SERIALS = 99_999
_UNIT_STEP = 337  # coprime to 900, so consecutive blocks visit every unit code


def organisation_code(enterprise_id: int) -> str:
    """A GB 11714 organisation code: eight digits and their own check character."""
    return _organisation(enterprise_id)[0]


def enterprise_uscc(enterprise_id: int, region_code: str) -> str:
    """A USCC of an enterprise (authority 9, type 1) registered in ``region_code``."""
    code, weighted = _organisation(enterprise_id)
    total = _uscc_prefix(region_code) + weighted
    return f"91{region_code}{code}{_USCC_ALPHABET[(31 - total) % 31]}"


def product_gtin(enterprise_id: int, position: int) -> str:
    """The GTIN-13 of an enterprise's ``position``-th product, with a Chinese prefix 690-699.

    All products of an enterprise share its GS1 company prefix ("69" and seven digits); the
    three-digit item reference differs per position (below nine products per enterprise).
    """
    company = (_COMPANY_A * enterprise_id + _COMPANY_B) % _COMPANY_BASE
    item = (389 * enterprise_id + 400 + 113 * position) % 1000
    high, low = divmod(company, 1000)
    total = _GTIN_PREFIX + _GTIN_HIGH[high] + _GTIN_LOW[low] + _GTIN_ITEM[item]
    return f"69{company:07d}{item:03d}{(10 - total) % 10}"


# The check characters below are the standards' sums of weighted digits (GB 11714, GB 32100,
# GS1), computed from tables of partial sums: a million codes are built digit by digit
# otherwise, which was a tenth of the demo generator's time. tests/test_demo.py checks them
# against python-stdnum.
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _weighted(digits: str, weights: tuple[int, ...]) -> int:
    return sum(_USCC_ALPHABET.index(d) * w for d, w in zip(digits, weights, strict=True))


def _table(weights: tuple[int, ...]) -> list[int]:
    """The weighted sum of the digits of each number below ``10 ** len(weights)``, by value."""
    sums = [0]
    for weight in weights:
        sums = [total + digit * weight for total in sums for digit in range(10)]
    return sums


_ORGANISATION_HIGH = _table(_ORGANISATION_WEIGHTS[:4])
_ORGANISATION_LOW = _table(_ORGANISATION_WEIGHTS[4:])
_USCC_HIGH = _table(_USCC_WEIGHTS[8:12])
_USCC_LOW = _table(_USCC_WEIGHTS[12:16])


def _organisation(enterprise_id: int) -> tuple[str, int]:
    """The organisation code, and its nine characters' weighted sum within a USCC."""
    number = (_ORGANISATION_A * enterprise_id + _ORGANISATION_B) % _ORGANISATION_BASE
    high, low = divmod(number, 10_000)
    check = 11 - (_ORGANISATION_HIGH[high] + _ORGANISATION_LOW[low]) % 11
    character = "X" if check == 10 else "0" if check == 11 else str(check)
    weighted = _USCC_HIGH[high] + _USCC_LOW[low] + _USCC_ALPHABET.index(character) * 28
    return f"{number:08d}{character}", weighted


@cache
def _uscc_prefix(region_code: str) -> int:
    return _weighted(f"91{region_code}", _USCC_WEIGHTS[:8])


# GTIN-13: weights 3 and 1 alternate from the right of the twelve digits, so 1, 3, 1, ... from
# the left; "69", then the company's 7 digits (split 4 + 3), then the item's 3.
_GTIN_PREFIX = 6 * 1 + 9 * 3
_GTIN_HIGH = _table((1, 3, 1, 3))
_GTIN_LOW = _table((1, 3, 1))
_GTIN_ITEM = _table((3, 1, 3))


def licence_number(licence_id: int, category: str) -> str:
    """A production licence number XKcc-uuu-sssss, unique per licence id whatever the category.

    The serial counts up to 99999 within a block of ids; the unit code changes with both, so
    (unit, serial) alone identifies the id for the first 900 blocks (about 90 million licences).
    """
    block, position = divmod(licence_id - 1, _SERIALS)
    unit = 100 + (8 + _UNIT_STEP * ((block + position) % 900)) % 900
    return f"XK{category}-{unit:03d}-{position + 1:05d}"
