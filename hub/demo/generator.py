"""The demo rows, generated chunk by chunk as plain tuples in the column order of ``TABLES``.

Determinism: chunk ``c`` (enterprises ``c * CHUNK_SIZE + 1`` onwards) draws from its own
``random.Random`` seeded with (seed, c), and ids are handed out in order, continuing from one
chunk to the next; so the same (enterprises, seed, as-of) always gives the same rows and ids.

Speed: no ORM objects and no per-row date arithmetic; dates and timestamps come from a
``Calendar`` precomputed in the representation the target driver takes.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any, Protocol, TypeVar

from stdnum.cn import ric

from hub.demo import names
from hub.demo.codes import enterprise_uscc, licence_number, product_gtin
from hub.demo.names import Category, Place, Trade

Row = tuple[Any, ...]
Chunk = dict[str, list[Row]]
T = TypeVar("T")

CHUNK_SIZE = 10_000
"""Enterprises per chunk; part of the output's definition, since each chunk has its own RNG."""

_PROVENANCE = ("source_agency", "published_at", "created_at", "updated_at")

TABLES: dict[str, tuple[str, ...]] = {
    "enterprise": (
        "id", "uscc", "name", "legal_representative", "status", "region_code", "industry_code",
        "address", "established_on", "credit_grade", "legal_representative_id_number",
        "legal_representative_phone", *_PROVENANCE,
    ),
    "credit_evaluation": (
        "id", "enterprise_id", "grade", "score", "evaluated_at", "authority", "basis",
        *_PROVENANCE,
    ),
    "product": (
        "id", "gtin", "enterprise_id", "name", "brand", "model", "category", *_PROVENANCE,
    ),
    "spot_check": (
        "id", "report_number", "enterprise_id", "product_id", "level", "region_code",
        "sampled_on", "result", "inspecting_body", *_PROVENANCE,
    ),
    "spot_check_failed_item": (
        "id", "spot_check_id", "position", "item", "standard", "required", "measured",
    ),
    "licence": (
        "id", "number", "enterprise_id", "product", "status", "issued_by", "valid_from",
        "valid_until", *_PROVENANCE,
    ),
    "licence_status_event": ("id", "licence_id", "status", "at", "reason"),
    "blacklist_entry": (
        "id", "decision_number", "enterprise_id", "list_type", "reason", "legal_basis",
        "authority", "listed_on", "publicity_ends_on", *_PROVENANCE,
    ),
    "blacklist_removal": (
        "id", "entry_id", "removed_on", "reason", "authority", *_PROVENANCE,
    ),
    "recall": (
        "id", "notice_number", "enterprise_id", "product_id", "product_name", "category",
        "title", "hazard", "remedy", "kind", "status", "affected_units", "produced_from",
        "produced_until", "started_on", *_PROVENANCE,
    ),
    "consumer_warning": (
        "id", "number", "title", "hazard", "advice", "severity", "category", "issued_on",
        *_PROVENANCE,
    ),
    "consumer_warning_recall": ("warning_id", "recall_id"),
    "consumer_warning_product": ("warning_id", "product_id"),
    "complaint": (
        "id", "number", "received_at", "channel", "status", "region_code", "product_category",
        "enterprise_id", "product_id", "summary", "handling_agency", "complainant_name",
        "complainant_phone", "complainant_id_number", "complainant_address", "created_at",
    ),
}  # fmt: skip
"""Every table the seed fills, parents before children, with the columns of its tuples."""

ID_TABLES: tuple[str, ...] = tuple(name for name, columns in TABLES.items() if columns[0] == "id")

_PAST_DAYS = 40 * 366
_FUTURE_DAYS = 6 * 366
_SLOTS = 36  # quarter hours of an office day, 09:00 to 17:45 Asia/Shanghai
DRAFT_SHARE = 0.02
"""The share of records left unpublished (``published_at`` null)."""


class Calendar:
    """Days and timestamps counted back from as-of, converted once for the target driver.

    ``day[d]`` is the date ``d`` days before as-of; a negative ``d`` is ``-d`` days after it
    (the list ends with the future, so Python's negative indexing reads it directly).
    """

    def __init__(
        self,
        as_of: date,
        date_value: Callable[[date], Any],
        stamp_value: Callable[[datetime], Any],
    ) -> None:
        past = [as_of - timedelta(days=d) for d in range(_PAST_DAYS + 1)]
        future = [as_of + timedelta(days=_FUTURE_DAYS - i) for i in range(_FUTURE_DAYS)]
        self.as_of = as_of
        self.day: list[Any] = [date_value(d) for d in past + future]
        self.year: list[int] = [d.year for d in past + future]
        self.stamps = _Stamps(as_of, stamp_value)

    def stamp(self, ago: int, slot: int) -> Any:
        """A UTC timestamp at office hours in Shanghai, ``ago`` days before as-of."""
        return self.stamps[ago * _SLOTS + slot]


class _Stamps(dict[int, Any]):
    """``Calendar.stamp`` by ``ago * _SLOTS + slot``, each converted on first use.

    A dictionary lookup rather than a method call: the generator asks for a timestamp for
    nearly every row.
    """

    def __init__(self, as_of: date, stamp_value: Callable[[datetime], Any]) -> None:
        super().__init__()
        self._as_of = as_of
        self._stamp_value = stamp_value

    def __missing__(self, key: int) -> Any:
        ago, slot = divmod(key, _SLOTS)
        local_day = self._as_of - timedelta(days=ago)
        # 09:00 in Shanghai is 01:00 UTC; China has kept UTC+8 all year since 1991.
        moment = datetime(local_day.year, local_day.month, local_day.day, 1, tzinfo=UTC)
        value = self._stamp_value(moment + timedelta(minutes=15 * slot))
        self[key] = value
        return value


@dataclass(frozen=True, slots=True)
class Showcase:
    """What the README's examples need of one of the first enterprises, whatever the seed."""

    region: str
    industry: str
    grades: tuple[str, ...]  # oldest first; the last is the current grade
    first_product_checks: tuple[tuple[str, str, int], ...]  # (level, result, days ago)
    licences: tuple[str, ...] = ()
    blacklist_listed_ago: int | None = None
    recall_started_ago: int | None = None


SHOWCASES: dict[int, Showcase] = {
    # Enterprise 1: USCC 91110000600037341L, licence XK16-108-00001, GTIN 6901234567892.
    1: Showcase(
        region="110000",
        industry="C29",
        grades=("A", "B", "B"),
        first_product_checks=(("NATIONAL", "FAIL", 210), ("PROVINCIAL", "PASS", 95)),
        licences=("VALID", "REVOKED"),
        recall_started_ago=40,
    ),
    # A Guangdong enterprise whose current grade is D and whose listing is in publicity.
    2: Showcase(
        region="440300",
        industry="C38",
        grades=("B", "C", "D"),
        first_product_checks=(("PROVINCIAL", "FAIL", 260),),
        blacklist_listed_ago=200,
    ),
    # A Shanghai enterprise listed weeks before as-of, for "who was listed this year".
    3: Showcase(
        region="310000",
        industry="C24",
        grades=("B", "D"),
        first_product_checks=(("MUNICIPAL", "FAIL", 120),),
        blacklist_listed_ago=45,
    ),
}

# Weighted choices as urns: one random() and one index per draw.
_GRADES = ("A",) * 52 + ("B",) * 40 + ("C",) * 7 + ("D",)
_SCORE_RANGE = {"A": (90.0, 10.0), "B": (75.0, 15.0), "C": (60.0, 15.0), "D": (30.0, 30.0)}
_PRODUCT_COUNTS = (1,) * 30 + (2,) * 35 + (3,) * 20 + (4,) * 10 + (5,) * 5
_CHECK_COUNTS = (0,) * 40 + (1,) * 35 + (2,) * 18 + (3,) * 7
_LEVELS = ("NATIONAL",) * 20 + ("PROVINCIAL",) * 45 + ("MUNICIPAL",) * 25 + ("INDUSTRY",) * 10
_LEVEL_PREFIX = {"NATIONAL": "GJCC", "PROVINCIAL": "SJCC", "MUNICIPAL": "DSCC", "INDUSTRY": "HYCC"}
_FAIL_CHANCE = {"A": 0.06, "B": 0.1, "C": 0.25, "D": 0.4}
_LICENCE_STATUSES = (
    ("VALID",) * 78 + ("SUSPENDED",) * 4 + ("REVOKED",) * 3 + ("CANCELLED",) * 5 + ("EXPIRED",) * 10
)
_ENTERPRISE_STATUSES = ("ACTIVE",) * 95 + ("SUSPENDED",) + ("CANCELLED",) * 3 + ("REVOKED",)
_SEVERITIES = ("LOW",) * 20 + ("MEDIUM",) * 45 + ("HIGH",) * 25 + ("CRITICAL",) * 10
_LICENCE_YEARS = 1826  # a production licence is valid for five years
_BLACKLIST_SHARE = 0.03
_LICENCE_SHARE = 0.4
_RECALL_SHARE = 0.02
_COMPLAINT_SHARE = 0.05
_MOBILE_PREFIXES = ("30", "31", "32", "35", "36", "37", "38", "39", "50", "51", "58", "59", "86")
_COMPLAINT_CHANNELS = ("HOTLINE",) * 5 + ("WEB",) * 3 + ("APP",) * 3 + ("LETTER",)
_COMPLAINT_SUMMARIES = (
    "购买的{product}使用不到一周出现故障，商家拒绝退换",
    "{product}与宣传不符，怀疑以次充好",
    "{product}存在安全隐患，使用时发热严重",
    "{product}包装破损，疑似过期产品",
    "{product}说明书缺失，无中文标识",
)
_ENTERPRISES_PER_WARNING = 200
_MIN_WARNINGS = 3

# Each trade's (category, product name) pairs, grouped by category, so that consecutive picks
# give an enterprise a few related products.
_TRADE_PRODUCTS: dict[str, tuple[tuple[Category, str], ...]] = {
    trade.code: tuple(
        (category, name) for category in trade.categories for name in category.products
    )
    for trade in names.TRADES.values()
}


class _Pick(Protocol):
    """One of ``options``, uniformly, from the builder's random stream."""

    def __call__(self, options: tuple[T, ...], /) -> T: ...


@dataclass(slots=True)
class _Recalled:
    """What a consumer warning needs to know of a recall in the same chunk."""

    recall_id: int
    product_id: int | None
    category: Category
    started_ago: int
    place: Place


@cache
def _earliest_birth_year(region: str) -> int:
    """The first year from 1950 in which ``region`` existed as a place of birth (GB/T 2260):
    Chongqing's codes, for one, start in 1997."""
    for year in range(1950, 2000):
        body = f"{region}{year}0101001"
        if ric.is_valid(body + ric.calc_check_digit(body + "0")):
            return year
    raise ValueError(f"{region} is no place of birth before 2000")


def chunk_ranges(enterprises: int) -> list[range]:
    """The enterprise ids of each chunk."""
    return [
        range(first, min(first + CHUNK_SIZE, enterprises + 1))
        for first in range(1, enterprises + 1, CHUNK_SIZE)
    ]


class ChunkBuilder:
    """Generates the rows of one chunk: call ``enterprise`` for each of its ids, then ``close``.

    ``ids`` holds the last id used per table; the builder continues from it and leaves it at
    its own last ids for the next chunk.
    """

    def __init__(self, seed: int, index: int, calendar: Calendar, ids: dict[str, int]) -> None:
        # A string seed is hashed with SHA-512: the same stream on every platform and process.
        self._random = r = random.Random(f"hub-demo:{seed}:{index}").random

        # A closure rather than a method: the generator picks some thirty times per enterprise.
        def pick(options: tuple[Any, ...]) -> Any:
            return options[int(r() * len(options))]

        self._pick: _Pick = pick
        self._index = index
        self._calendar = calendar
        self._stamps = calendar.stamps
        self._ids = ids
        self._draft_share = DRAFT_SHARE
        self._enterprises = 0
        self.rows: Chunk = {name: [] for name in TABLES}
        self._recalled: list[_Recalled] = []
        self._failed_products: dict[str, list[int]] = {}

    def close(self) -> Chunk:
        """Add the chunk's consumer warnings and return its rows."""
        warnings = round(self._enterprises / _ENTERPRISES_PER_WARNING)
        self._warnings(max(warnings, _MIN_WARNINGS if self._index == 0 else 1))
        return self.rows

    # -- helpers --------------------------------------------------------------------------

    def _next_id(self, table: str) -> int:
        self._ids[table] += 1
        return self._ids[table]

    def _provenance(self, agency: str, ago: int) -> Row:
        """Source agency, published_at, created_at and updated_at of a record ``ago`` days old."""
        r = self._random
        stamp = self._stamps[ago * _SLOTS + int(r() * _SLOTS)]
        published = None if r() < self._draft_share else stamp
        return (agency, published, stamp, stamp)

    # -- one enterprise -------------------------------------------------------------------

    def enterprise(self, enterprise_id: int) -> None:
        self._enterprises += 1
        r = self._random
        pick = self._pick
        show = SHOWCASES.get(enterprise_id)
        # Showcase rows are always published: the README's examples query the public tier.
        self._draft_share = 0.0 if show else DRAFT_SHARE
        if show:
            place, trade = names.PLACES[show.region], names.TRADES[show.industry]
        else:
            place, trade = pick(names.PLACE_URN), pick(names.TRADE_URN)
        brand = pick(names.BRANDS)
        name = place.name_prefix + brand + pick(trade.words) + pick(names.COMPANY_SUFFIXES)
        person = pick(names.SURNAMES) + pick(names.GIVEN_NAME_CHARACTERS)
        if r() < 0.65:
            person += pick(names.GIVEN_NAME_CHARACTERS)
        address = (
            f"{place.address_prefix}{pick(names.ZONES)}{pick(names.ROADS)}{1 + int(r() * 899)}号"
        )
        # Showcases are old enough for years of history whatever the draw.
        established_ago = 3000 + int(r() * 7000) if show else 400 + int(r() * 10_500)
        status = "ACTIVE" if show else pick(_ENTERPRISE_STATUSES)

        # Every record of the enterprise falls between its founding and as-of.
        listed = self._blacklist(enterprise_id, place, established_ago, show)
        grade = self._evaluations(enterprise_id, place, established_ago, listed, show)
        product_ids = self._products(
            enterprise_id, place, trade, brand, established_ago, grade, show
        )
        if (show and show.licences) or (not show and r() < _LICENCE_SHARE):
            self._licences(enterprise_id, place, trade, established_ago, listed is not None, show)
        if (show and show.recall_started_ago is not None) or (not show and r() < _RECALL_SHARE):
            self._recall(enterprise_id, name, place, established_ago, product_ids, show)

        if not show and r() < _COMPLAINT_SHARE:
            self._complaints(enterprise_id, place, product_ids, established_ago)

        self.rows["enterprise"].append(
            (
                enterprise_id,
                enterprise_uscc(enterprise_id, place.code),
                name,
                person,
                status,
                place.code,
                trade.code,
                address,
                self._calendar.day[established_ago],
                grade,
                self._id_number(place.code),
                self._phone(),
                *self._provenance(place.agency, established_ago - 7 - int(r() * 60)),
            )
        )

    def _id_number(self, region: str) -> str:
        """A resident ID number (GB 11643) of an adult born in ``region``, check digit valid."""
        r = self._random
        earliest = _earliest_birth_year(region)
        year = earliest + int(r() * (2000 - earliest))
        month = 1 + int(r() * 12)
        day = 1 + int(r() * 28)
        body = f"{region}{year}{month:02d}{day:02d}{int(r() * 1000):03d}"
        # GB 11643's check, as stdnum.cn.ric computes it (the tests check with stdnum).
        check = (1 - 2 * int(body, 13)) % 11
        return body + ("X" if check == 10 else str(check))

    def _phone(self) -> str:
        r = self._random
        return f"1{self._pick(_MOBILE_PREFIXES)}{int(r() * 100_000_000):08d}"

    def _complaints(
        self,
        enterprise_id: int,
        place: Place,
        products: list[tuple[int, Category, str]],
        established_ago: int,
    ) -> None:
        """One to three 12365 complaints about the enterprise's products."""
        r = self._random
        for _ in range(1 + int(r() * 3)):
            complaint_id = self._next_id("complaint")
            product_id, category, product_name = self._pick(tuple(products))
            ago = int(r() * min(established_ago - 30, 1000))
            received = self._calendar.stamp(ago, int(r() * _SLOTS))
            status = "CLOSED" if ago > 60 else self._pick(("RECEIVED", "HANDLING"))
            person = self._pick(names.SURNAMES) + self._pick(names.GIVEN_NAME_CHARACTERS)
            self.rows["complaint"].append(
                (
                    complaint_id,
                    f"12365-{self._calendar.year[ago]}-{complaint_id:08d}",
                    received,
                    self._pick(_COMPLAINT_CHANNELS),
                    status,
                    place.code,
                    category.name,
                    enterprise_id,
                    product_id,
                    self._pick(_COMPLAINT_SUMMARIES).format(product=product_name),
                    place.agency,
                    person,
                    self._phone(),
                    self._id_number(place.code) if r() < 0.6 else None,
                    f"{place.address_prefix}{self._pick(names.ZONES)}{self._pick(names.ROADS)}"
                    f"{1 + int(r() * 899)}号{1 + int(r() * 30)}栋"
                    if r() < 0.7
                    else None,
                    received,
                )
            )

    def _blacklist(
        self, enterprise_id: int, place: Place, established_ago: int, show: Showcase | None
    ) -> str | None:
        """List some enterprises; returns "RUNNING", "ENDED" or "REMOVED" for the latest entry."""
        r = self._random
        if show:
            if show.blacklist_listed_ago is None:
                return None
            listings = [(show.blacklist_listed_ago, 1095, False)]
        elif r() < _BLACKLIST_SHARE:
            listed_ago = 30 + int(r() * min(1795, established_ago - 60))
            period = 365 * (1 + int(r() * 3))
            # Credit repair can cut a listing of two or three years short after its first year.
            repaired = period > 365 and listed_ago > 365 and r() < 0.35
            listings = [(listed_ago, period, repaired)]
            earlier_ago = listed_ago + 1100 + int(r() * 400)
            if r() < 0.1 and earlier_ago < established_ago:  # a repeat offender
                listings.insert(0, (earlier_ago, 365, False))
        else:
            return None
        outcome = "RUNNING"
        day, year = self._calendar.day, self._calendar.year
        for listed_ago, period, repaired in listings:
            entry_id = self._next_id("blacklist_entry")
            authority = place.agency if r() < 0.5 else place.provincial_agency
            reason, legal_basis = self._pick(names.BLACKLIST_REASONS)
            ends_ago = listed_ago - period
            self.rows["blacklist_entry"].append(
                (
                    entry_id,
                    f"{place.abbreviation}市监信黑〔{year[listed_ago]}〕{entry_id}号",
                    enterprise_id,
                    "QUALITY_BLACKLIST" if r() < 0.55 else "SERIOUS_VIOLATION",
                    reason,
                    legal_basis,
                    authority,
                    day[listed_ago],
                    day[ends_ago],
                    *self._provenance(authority, max(0, listed_ago - int(r() * 5))),
                )
            )
            outcome = "ENDED" if ends_ago >= 0 else "RUNNING"
            if repaired:
                earliest = max(ends_ago + 1, 0)  # before the publicity would have ended anyway
                removed_ago = earliest + int(r() * (listed_ago - 365 - earliest))
                self.rows["blacklist_removal"].append(
                    (
                        self._next_id("blacklist_removal"),
                        entry_id,
                        day[removed_ago],
                        self._pick(names.REPAIR_REASONS),
                        authority,
                        *self._provenance(authority, removed_ago),
                    )
                )
                outcome = "REMOVED"
        return outcome

    def _evaluations(
        self,
        enterprise_id: int,
        place: Place,
        established_ago: int,
        listed: str | None,
        show: Showcase | None,
    ) -> str:
        """1 to 4 yearly gradings, oldest first; returns the latest grade."""
        r = self._random
        if show:
            grades = list(show.grades)
        else:
            grade = self._pick(_GRADES)
            grades = [grade]
            for _ in range(int(r() * 4)):
                if r() > 0.6:  # grades mostly persist from one year to the next
                    grade = self._pick(_GRADES)
                grades.append(grade)
            if listed == "RUNNING":
                grades[-1] = "D" if r() < 0.75 else "C"
            elif listed is not None:
                grades[-1] = "C" if r() < 0.6 else "B"
        # Latest within the last year, earlier ones about a year apart, none before founding.
        agos = [5 + int(r() * 330)]
        for _ in grades[1:]:
            agos.append(agos[-1] + 300 + int(r() * 130))
        agos.reverse()
        while len(agos) > 1 and agos[0] >= established_ago:
            agos.pop(0)
            grades.pop(0)
        authority = place.provincial_agency
        for grade, ago in zip(grades, agos, strict=True):
            low, width = _SCORE_RANGE[grade]
            self.rows["credit_evaluation"].append(
                (
                    self._next_id("credit_evaluation"),
                    enterprise_id,
                    grade,
                    round(low + r() * width, 1),
                    self._stamps[ago * _SLOTS + int(r() * _SLOTS)],
                    authority,
                    self._pick(names.EVALUATION_BASES[grade]),
                    *self._provenance(authority, max(0, ago - int(r() * 10))),
                )
            )
        return grades[-1]

    def _products(
        self,
        enterprise_id: int,
        place: Place,
        trade: Trade,
        brand: str,
        established_ago: int,
        grade: str,
        show: Showcase | None,
    ) -> list[tuple[int, Category, str]]:
        """A few related products, each with its spot checks; returns (id, category, name)."""
        r = self._random
        catalogue = _TRADE_PRODUCTS[trade.code]
        count = min(len(catalogue), 2 if show else self._pick(_PRODUCT_COUNTS))
        start = int(r() * len(catalogue))
        recent = min(established_ago - 30, 1800)
        products: list[tuple[int, Category, str]] = []
        for position in range(count):
            category, product_name = catalogue[(start + position) % len(catalogue)]
            product_id = self._next_id("product")
            with_gtin = (show is not None and position == 0) or r() < 0.92
            self.rows["product"].append(
                (
                    product_id,
                    product_gtin(enterprise_id, position) if with_gtin else None,
                    enterprise_id,
                    product_name,
                    brand,
                    self._pick(category.models).format(n=100 + int(r() * 9900)),
                    category.name,
                    *self._provenance(place.agency, int(r() * recent)),
                )
            )
            products.append((product_id, category, product_name))
            if show and position == 0:
                checks = list(show.first_product_checks)
            else:
                checks = [
                    (self._pick(_LEVELS), "FAIL" if r() < _FAIL_CHANCE[grade] else "PASS", ago)
                    for ago in [int(r() * recent) for _ in range(self._pick(_CHECK_COUNTS))]
                ]
            for level, result, ago in checks:
                self._spot_check(enterprise_id, product_id, place, category, level, result, ago)
        return products

    def _spot_check(
        self,
        enterprise_id: int,
        product_id: int,
        place: Place,
        category: Category,
        level: str,
        result: str,
        sampled_ago: int,
    ) -> None:
        r = self._random
        check_id = self._next_id("spot_check")
        if level == "NATIONAL":
            body, agency = f"国家{category.name}质量检验检测中心", names.NATIONAL_AGENCY
        elif level == "PROVINCIAL":
            body, agency = place.provincial_institute, place.provincial_agency
        elif level == "MUNICIPAL":
            body, agency = place.institute, place.agency
        else:
            agency = self._pick(names.INDUSTRY_ASSOCIATIONS)
            body = f"{agency}产品质量检测中心"
        self.rows["spot_check"].append(
            (
                check_id,
                f"{_LEVEL_PREFIX[level]}-{self._calendar.year[sampled_ago]}-{check_id:08d}",
                enterprise_id,
                product_id,
                level,
                place.code,
                self._calendar.day[sampled_ago],
                result,
                body,
                # Results are published weeks after sampling, once the report is final.
                *self._provenance(agency, max(0, sampled_ago - 20 - int(r() * 40))),
            )
        )
        if result == "PASS":
            return
        failures = category.failures
        start = int(r() * len(failures))
        for position in range(min(len(failures), 1 + int(r() * 3))):
            failing = failures[(start + position) % len(failures)]
            self.rows["spot_check_failed_item"].append(
                (
                    self._next_id("spot_check_failed_item"),
                    check_id,
                    position + 1,
                    failing.item,
                    failing.standard,
                    failing.required,
                    self._pick(failing.measured),
                )
            )
        self._failed_products.setdefault(category.name, []).append(product_id)

    def _licences(
        self,
        enterprise_id: int,
        place: Place,
        trade: Trade,
        established_ago: int,
        blacklisted: bool,
        show: Showcase | None,
    ) -> None:
        r = self._random
        if show:
            statuses = list(show.licences)
        else:
            statuses = [self._pick(_LICENCE_STATUSES) for _ in range(1 if r() < 0.8 else 2)]
            if blacklisted and r() < 0.3:
                statuses[-1] = "REVOKED"
        for status in statuses:
            licence_id = self._next_id("licence")
            category, product = self._pick(trade.licences)
            # An expired licence needs five years and more of history behind it.
            oldest = established_ago - _LICENCE_YEARS - 4
            if status == "EXPIRED" and oldest < 30:
                status = "VALID"
            if status == "EXPIRED":
                from_ago = _LICENCE_YEARS + 4 + int(r() * min(1400, oldest))
            else:
                from_ago = 30 + int(r() * min(_LICENCE_YEARS - 40, established_ago - 30))
            until_ago = from_ago - _LICENCE_YEARS
            issued_by = place.provincial_agency if r() < 0.85 else names.NATIONAL_AGENCY
            self.rows["licence"].append(
                (
                    licence_id,
                    licence_number(licence_id, category),
                    enterprise_id,
                    product,
                    status,
                    issued_by,
                    self._calendar.day[from_ago],
                    self._calendar.day[until_ago],
                    *self._provenance(issued_by, max(0, from_ago - int(r() * 10))),
                )
            )
            self._licence_events(licence_id, status, from_ago, until_ago)

    def _licence_events(self, licence_id: int, status: str, from_ago: int, until_ago: int) -> None:
        """The status history: issued VALID, then whatever led to ``status``, which comes last."""
        r = self._random
        reasons = names.LICENCE_EVENT_REASONS
        history = [("VALID", self._pick(reasons["ISSUED"]))]
        if status == "VALID" and r() < 0.12:
            history += [("SUSPENDED", self._pick(reasons["SUSPENDED"]))]
            history += [("VALID", self._pick(reasons["RESTORED"]))]
        elif status == "REVOKED" and r() < 0.5:
            history += [("SUSPENDED", self._pick(reasons["SUSPENDED"]))]
        if status == "EXPIRED":
            history += [("EXPIRED", self._pick(reasons["EXPIRED"]))]
        elif status != "VALID":
            history += [(status, self._pick(reasons[status]))]
        # Distinct, increasing days: event i falls in the i-th of len(history) equal spans.
        end_ago = max(until_ago, 0)
        span = (from_ago - end_ago) // len(history)
        for index, (event_status, reason) in enumerate(history):
            if index == 0:
                ago = from_ago
            elif event_status == "EXPIRED":
                ago = until_ago
            else:
                ago = from_ago - index * span - int(r() * (span // 2))
            self.rows["licence_status_event"].append(
                (
                    self._next_id("licence_status_event"),
                    licence_id,
                    event_status,
                    self._stamps[ago * _SLOTS + int(r() * _SLOTS)],
                    reason,
                )
            )

    def _recall(
        self,
        enterprise_id: int,
        enterprise_name: str,
        place: Place,
        established_ago: int,
        products: list[tuple[int, Category, str]],
        show: Showcase | None,
    ) -> None:
        r = self._random
        product_id, category, product_name = products[0] if show else self._pick(tuple(products))
        if show and show.recall_started_ago is not None:
            started_ago = show.recall_started_ago
        else:
            started_ago = 1 + int(r() * min(1500, established_ago - 100))
        recall_id = self._next_id("recall")
        until_ago = min(started_ago + 10 + int(r() * 200), established_ago - 2)
        from_ago = min(until_ago + 30 + int(r() * 700), established_ago - 1)
        agency = names.RECALL_CENTRE if r() < 0.6 else place.provincial_agency
        day = self._calendar.day
        self.rows["recall"].append(
            (
                recall_id,
                f"CPZH-{self._calendar.year[started_ago]}-{recall_id:06d}",
                enterprise_id,
                product_id,
                product_name,
                category.name,
                f"{enterprise_name}召回部分{product_name}",
                category.hazard,
                category.remedy,
                "VOLUNTARY" if r() < 0.85 else "ORDERED",
                "ONGOING" if started_ago < 90 + int(r() * 120) else "COMPLETED",
                int(10 ** (1.7 + r() * 3.6)),
                day[from_ago],
                day[until_ago],
                day[started_ago],
                *self._provenance(agency, max(0, started_ago - int(r() * 3))),
            )
        )
        self._recalled.append(_Recalled(recall_id, product_id, category, started_ago, place))

    # -- per chunk ------------------------------------------------------------------------

    def _warnings(self, count: int) -> None:
        """Consumer warnings about the chunk's recalls, each naming related recalls and products."""
        r = self._random
        self._draft_share = DRAFT_SHARE
        if not self._recalled:
            return
        for _ in range(count):
            anchor = self._pick(tuple(self._recalled))
            category = anchor.category
            others = [
                other
                for other in self._recalled
                if other.category is category and other is not anchor
            ]
            related = [anchor, *others[:2]]
            product_ids = [item.product_id for item in related if item.product_id is not None]
            product_ids += self._failed_products.get(category.name, [])[:2]
            warning_id = self._next_id("consumer_warning")
            issued_ago = max(0, anchor.started_ago - int(r() * 30))
            agency = names.NATIONAL_AGENCY if r() < 0.6 else anchor.place.provincial_agency
            self.rows["consumer_warning"].append(
                (
                    warning_id,
                    f"XFYJ-{self._calendar.year[issued_ago]}-{warning_id:05d}",
                    self._pick(names.WARNING_TITLES).format(category=category.name),
                    category.hazard,
                    category.advice,
                    self._pick(_SEVERITIES),
                    category.name,
                    self._calendar.day[issued_ago],
                    *self._provenance(agency, issued_ago),
                )
            )
            self.rows["consumer_warning_recall"] += [
                (warning_id, item.recall_id) for item in related
            ]
            self.rows["consumer_warning_product"] += [
                (warning_id, product_id) for product_id in dict.fromkeys(product_ids)
            ]


def new_ids() -> dict[str, int]:
    """Id counters before the first chunk."""
    return dict.fromkeys(ID_TABLES, 0)


def generate(enterprises: int, seed: int, calendar: Calendar) -> Iterator[Chunk]:
    """Every chunk in order, all at once (the seed interleaves generation with loading)."""
    ids = new_ids()
    for index, enterprise_ids in enumerate(chunk_ranges(enterprises)):
        builder = ChunkBuilder(seed, index, calendar, ids)
        for enterprise_id in enterprise_ids:
            builder.enterprise(enterprise_id)
        yield builder.close()
