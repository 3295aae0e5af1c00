"""The code parsers: the USCC fast path agrees with stdnum on every input it accepts."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from stdnum.cn import uscc as stdnum_uscc

from hub.errors import BadUserInputError
from hub.kit.codes import parse_uscc, region_range
from search.terms import region_term, region_terms

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _valid(rng: random.Random) -> str:
    body = "".join(rng.choice("0123456789") for _ in range(8))
    body += "".join(rng.choice(ALPHABET) for _ in range(9))
    return body + stdnum_uscc.calc_check_digit(body)


def _stdnum(value: str) -> str | None:
    return stdnum_uscc.validate(value.strip()) if stdnum_uscc.is_valid(value.strip()) else None


def _ours(value: str) -> str | None:
    try:
        return parse_uscc(value)
    except BadUserInputError:
        return None


def test_the_fast_path_agrees_with_stdnum_on_valid_codes_and_every_single_change() -> None:
    rng = random.Random(20261129)
    checked = accepted = 0
    for _ in range(60):
        code = _valid(rng)
        variants = [code, code.lower(), f" {code} ", code[:-1], code + "0"]
        # Every character replaced by every other character a caller might type.
        for position in range(18):
            for char in ALPHABET + "IOSVZ-a":
                variants.append(code[:position] + char + code[position + 1 :])
        for variant in variants:
            assert _ours(variant) == _stdnum(variant), variant
            checked += 1
            accepted += _ours(variant) is not None
    # Both outcomes were exercised, in numbers: a valid code and its normalised forms pass,
    # almost every single change fails.
    assert checked == 60 * (5 + 18 * 38)
    assert 60 * 3 <= accepted < checked // 10


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("91350100M000100Y43", "91350100M000100Y43"),
        ("91350100m000100y43", "91350100M000100Y43"),
        ("91350100-M000100Y43", "91350100M000100Y43"),
    ],
)
def test_forms_stdnum_normalises_still_pass(value: str, expected: str) -> None:
    assert parse_uscc(value) == expected


def test_a_wrong_check_character_names_the_argument() -> None:
    with pytest.raises(BadUserInputError) as raised:
        parse_uscc("91350100M000100Y44", "usccs")
    assert raised.value.argument == "usccs"
    assert "checksum" in str(raised.value)


DIVISIONS: list[tuple[str, Callable[[str], bool]]] = [
    ("440000", lambda code: code[:2] == "44"),
    ("440300", lambda code: code[:4] == "4403"),
    ("440305", lambda code: code == "440305"),
    ("990000", lambda code: code[:2] == "99"),  # the last prefix: nothing to overflow
    ("999900", lambda code: code[:4] == "9999"),
    ("999999", lambda code: code == "999999"),
]


@pytest.mark.parametrize(("division", "inside"), DIVISIONS)
def test_a_region_range_holds_exactly_the_codes_inside_the_division(
    division: str, inside: Callable[[str], bool]
) -> None:
    low, high = region_range(division)
    assert "\x00" not in high  # PostgreSQL refuses NUL in text
    codes = [f"{n:06d}" for n in range(100_000, 1_000_000, 7)]
    codes += [division, low, f"{int(division) - 1:06d}", f"{min(int(division) + 1, 999999):06d}"]
    assert [c for c in codes if low <= c < high] == [c for c in codes if inside(c)]


@pytest.mark.parametrize(("division", "inside"), DIVISIONS)
def test_the_embedded_index_finds_a_division_by_the_same_prefix(
    division: str, inside: Callable[[str], bool]
) -> None:
    """``search.terms`` asks for one term of a division; a record holds it exactly when its
    code is inside the division, as ``region_range`` says (one ``region_prefix`` for both)."""
    codes = [f"{n:06d}" for n in range(100_000, 1_000_000, 7)] + [division]
    assert [c for c in codes if region_term(division) in region_terms(c)] == [
        c for c in codes if inside(c)
    ]
