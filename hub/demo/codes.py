"""Unique, valid identifiers derived from row ids, so no chunk needs to know another's codes.

Each code is an affine bijection of an id, ``(a * id + b) mod 10**k``: distinct ids give distinct
codes without a set of used codes, and ``b`` is chosen so that id 1 gets the code the README's
examples use (USCC 91110000600037341L, GTIN 6901234567892, licence XK16-108-00001).
"""

from __future__ import annotations

from stdnum import ean
from stdnum.cn import uscc

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
    body = f"{(_ORGANISATION_A * enterprise_id + _ORGANISATION_B) % _ORGANISATION_BASE:08d}"
    total = sum(
        int(digit) * weight for digit, weight in zip(body, _ORGANISATION_WEIGHTS, strict=True)
    )
    check = 11 - total % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


def enterprise_uscc(enterprise_id: int, region_code: str) -> str:
    """A USCC of an enterprise (authority 9, type 1) registered in ``region_code``."""
    body = "91" + region_code + organisation_code(enterprise_id)
    return body + str(uscc.calc_check_digit(body))


def product_gtin(enterprise_id: int, position: int) -> str:
    """The GTIN-13 of an enterprise's ``position``-th product, with a Chinese prefix 690-699.

    All products of an enterprise share its GS1 company prefix ("69" and seven digits); the
    three-digit item reference differs per position (below nine products per enterprise).
    """
    company = (_COMPANY_A * enterprise_id + _COMPANY_B) % _COMPANY_BASE
    item = (389 * enterprise_id + 400 + 113 * position) % 1000
    body = f"69{company:07d}{item:03d}"
    return body + str(ean.calc_check_digit(body))


def licence_number(licence_id: int, category: str) -> str:
    """A production licence number XKcc-uuu-sssss, unique per licence id whatever the category.

    The serial counts up to 99999 within a block of ids; the unit code changes with both, so
    (unit, serial) alone identifies the id for the first 900 blocks (about 90 million licences).
    """
    block, position = divmod(licence_id - 1, _SERIALS)
    unit = 100 + (8 + _UNIT_STEP * ((block + position) % 900)) % 900
    return f"XK{category}-{unit:03d}-{position + 1:05d}"
