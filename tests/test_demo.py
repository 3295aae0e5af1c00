"""``hub demo seed``: deterministic, valid, consistent demo data, on SQLite and PostgreSQL.

Every seed goes into a database of its own: the session database is shared with other tests,
and the seed only fills an empty one.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import re
import sqlite3
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, insert, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from stdnum import ean
from stdnum.cn import ric, uscc

from hub.cli import main
from hub.config import get_settings
from hub.db import create_sessionmaker
from hub.demo.codes import MAX_ENTERPRISES, enterprise_uscc, organisation_code, product_gtin
from hub.demo.errors import DatabaseNotEmptyError
from hub.demo.generator import CHUNK_SIZE, DRAFT_SHARE, ID_TABLES, TABLES, Calendar, generate
from hub.demo.load import _encode_date, _encode_timestamptz
from hub.demo.report import SeedReport
from hub.demo.seed import DEFAULT_SEED, seed, seed_if_empty
from hub.demo.worker import generated_elsewhere
from hub.enterprise.reference import INDUSTRIES, REGIONS
from hub.errors import BadUserInputError
from hub.models import (
    Base,
    BlacklistEntry,
    BlacklistRemoval,
    CheckLevel,
    CheckResult,
    Complaint,
    ConsumerWarning,
    CreditEvaluation,
    CreditGrade,
    Enterprise,
    EnterpriseStatus,
    FailedItem,
    Licence,
    LicenceStatus,
    LicenceStatusEvent,
    Product,
    Recall,
    SpotCheck,
    warning_product,
    warning_recall,
)
from tests.fixtures.databases import migrated_engine

AS_OF = date(2026, 6, 30)
ENTERPRISES = 2000


@dataclass(frozen=True)
class Seeded:
    engine: AsyncEngine
    report: SeedReport


@pytest.fixture(scope="module")
async def seeded(dialect: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Seeded]:
    """One database per dialect with the default demo: read-only for the tests that use it."""
    async with migrated_engine(dialect, tmp_path_factory.mktemp("demo")) as engine:
        report = await seed(engine, enterprises=ENTERPRISES, as_of=AS_OF)
        yield Seeded(engine, report)


async def scalar(engine: AsyncEngine, statement: Any) -> Any:
    async with engine.connect() as connection:
        return await connection.scalar(statement)


async def all_rows(engine: AsyncEngine, statement: Any) -> list[Any]:
    async with engine.connect() as connection:
        return list((await connection.execute(statement)).all())


async def table_digests(engine: AsyncEngine) -> dict[str, str]:
    """A SHA-256 of every seeded table, rows in primary-key order, values as the ORM reads them."""
    digests = {}
    async with engine.connect() as connection:
        for name in TABLES:
            table = Base.metadata.tables[name]
            result = await connection.execute(select(table).order_by(*table.primary_key.columns))
            digest = hashlib.sha256()
            for row in result:
                digest.update(repr(tuple(row)).encode())
            digests[name] = digest.hexdigest()
    return digests


async def row_counts(engine: AsyncEngine) -> dict[str, int]:
    counts = {}
    async with engine.connect() as connection:
        for name in TABLES:
            table = Base.metadata.tables[name]
            counts[name] = int(
                await connection.scalar(select(func.count()).select_from(table)) or 0
            )
    return counts


def _organisation_check(code: str) -> str:
    """GB 11714, written out independently of the generator's own implementation."""
    total = sum(int(c) * w for c, w in zip(code[:8], (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


# -- the column lists -------------------------------------------------------------------


def test_generated_columns_fill_every_required_column() -> None:
    """Columns the seed leaves out must be nullable or have a server default; a new required
    column without one fails here first."""
    for name, columns in TABLES.items():
        table = Base.metadata.tables[name]
        assert set(columns) <= set(table.columns.keys()), name
        required = {
            column.name
            for column in table.columns
            if not column.nullable and column.server_default is None
        }
        assert required <= set(columns), name
        assert len(set(columns)) == len(columns), name


# -- determinism --------------------------------------------------------------------------


async def test_same_arguments_give_identical_rows_and_ids(dialect: str, tmp_path: Path) -> None:
    # given: more than one chunk, so that ids continuing across chunks are covered too
    enterprises = CHUNK_SIZE + 40

    # when
    async with migrated_engine(dialect, tmp_path) as first:
        report = await seed(first, enterprises=enterprises, seed=11, as_of=AS_OF)
        first_digests = await table_digests(first)
        counts = await row_counts(first)
        gaps = {
            table: await scalar(
                first, select(func.max(Base.metadata.tables[table].c.id) - func.count())
            )
            for table in ID_TABLES
        }
    async with migrated_engine(dialect, tmp_path) as second:
        await seed(second, enterprises=enterprises, seed=11, as_of=AS_OF)
        second_digests = await table_digests(second)

    # then
    assert first_digests == second_digests
    assert counts == dict(report.rows)
    assert counts["enterprise"] == enterprises
    assert gaps == dict.fromkeys(ID_TABLES, 0)  # ids run 1..n in every table


@pytest.mark.parametrize(
    ("change", "unchanged"),
    [
        ({"seed": 12}, []),
        # The same draws a day later: only the tables without a date stay the same.
        (
            {"as_of": AS_OF + timedelta(days=1)},
            ["spot_check_failed_item", "consumer_warning_recall", "consumer_warning_product"],
        ),
    ],
)
async def test_another_seed_or_day_gives_other_rows(
    dialect: str, tmp_path: Path, change: dict[str, Any], unchanged: list[str]
) -> None:
    arguments: dict[str, Any] = {"enterprises": 200, "seed": 11, "as_of": AS_OF}
    async with migrated_engine(dialect, tmp_path) as first:
        await seed(first, **arguments)
        first_digests = await table_digests(first)
    async with migrated_engine(dialect, tmp_path) as other:
        await seed(other, **(arguments | change))
        other_digests = await table_digests(other)

    empty = hashlib.sha256().hexdigest()
    filled = [table for table in TABLES if first_digests[table] != empty]
    assert len(filled) >= len(TABLES) - 1  # 200 enterprises may have no credit repair yet
    assert [table for table in filled if other_digests[table] == first_digests[table]] == unchanged


async def test_rows_are_the_same_on_sqlite_and_postgres(tmp_path: Path) -> None:
    async with migrated_engine("sqlite", tmp_path) as sqlite_engine:
        await seed(sqlite_engine, enterprises=300, as_of=AS_OF)
        on_sqlite = await table_digests(sqlite_engine)
    async with migrated_engine("postgres", tmp_path) as postgres_engine:
        await seed(postgres_engine, enterprises=300, as_of=AS_OF)
        on_postgres = await table_digests(postgres_engine)

    assert on_sqlite == on_postgres


async def test_a_generating_process_makes_the_same_chunks() -> None:
    # given: the converters PostgreSQL's loader hands to the process, and two chunks
    converters = (_encode_date, _encode_timestamptz)
    enterprises = CHUNK_SIZE + 40

    # when
    elsewhere = [chunk async for chunk in generated_elsewhere(enterprises, 11, AS_OF, converters)]

    # then
    here = list(generate(enterprises, 11, Calendar(AS_OF, *converters)))
    assert len(elsewhere) == 2
    assert elsewhere == here


async def test_a_generating_process_is_stopped_with_its_reader() -> None:
    chunks = generated_elsewhere(CHUNK_SIZE * 3, 11, AS_OF, (_encode_date, _encode_timestamptz))
    first = await anext(chunks)
    await chunks.aclose()

    assert len(first["enterprise"]) == CHUNK_SIZE
    assert [p.name for p in multiprocessing.active_children()] == []


def test_codes_match_python_stdnum() -> None:
    """The generator computes check characters from tables; stdnum does it digit by digit."""
    for enterprise_id in [*range(1, 3000), *range(9_999_000, MAX_ENTERPRISES + 1)]:
        region = sorted(REGIONS)[enterprise_id % len(REGIONS)]
        code = enterprise_uscc(enterprise_id, region)
        assert code[-1] == uscc.calc_check_digit(code[:-1]), code
        organisation = organisation_code(enterprise_id)
        assert organisation[8] == _organisation_check(organisation[:8]), organisation
        for position in range(6):
            gtin = product_gtin(enterprise_id, position)
            assert gtin[-1] == ean.calc_check_digit(gtin[:-1]), gtin


# -- validity -------------------------------------------------------------------------------


async def test_codes_are_valid(seeded: Seeded) -> None:
    enterprises = await all_rows(
        seeded.engine, select(Enterprise.uscc, Enterprise.region_code, Enterprise.industry_code)
    )
    assert len(enterprises) == ENTERPRISES
    for code, region, industry in enterprises:
        assert uscc.is_valid(code), code
        assert (code[:2], code[2:8]) == ("91", region)
        assert code[16] == _organisation_check(code[8:16]), code
        assert region in REGIONS
        assert industry in INDUSTRIES

    gtins = await all_rows(seeded.engine, select(Product.gtin).where(Product.gtin.is_not(None)))
    assert len(gtins) > ENTERPRISES
    for (gtin,) in gtins:
        assert len(gtin) == 13 and ean.is_valid(gtin), gtin
        assert 690 <= int(gtin[:3]) <= 699, gtin

    numbers = await all_rows(seeded.engine, select(Licence.number))
    assert [n for (n,) in numbers if not re.fullmatch(r"XK\d{2}-\d{3}-\d{5}", n)] == []


async def test_personal_data_and_complaints_look_real(seeded: Seeded) -> None:
    people = await all_rows(
        seeded.engine,
        select(
            Enterprise.region_code,
            Enterprise.legal_representative_id_number,
            Enterprise.legal_representative_phone,
        ),
    )
    for region, id_number, phone in people:
        assert ric.is_valid(id_number) and id_number[:6] == region, id_number
        assert re.fullmatch(r"1[3-9]\d{9}", phone), phone
    complaints = await all_rows(
        seeded.engine,
        select(
            Complaint.enterprise_id,
            Complaint.product_id,
            Complaint.complainant_phone,
            Complaint.complainant_id_number,
            Complaint.received_at,
        ),
    )
    complained = {enterprise_id for enterprise_id, *_ in complaints}
    # about one enterprise in twenty, one to three complaints each
    assert ENTERPRISES * 0.03 < len(complained) < ENTERPRISES * 0.08
    assert len(complained) <= len(complaints) <= 3 * len(complained)
    products = dict(await all_rows(seeded.engine, select(Product.id, Product.enterprise_id)))
    for enterprise_id, product_id, phone, id_number, received_at in complaints:
        assert products[product_id] == enterprise_id
        assert re.fullmatch(r"1[3-9]\d{9}", phone), phone
        assert id_number is None or ric.is_valid(id_number), id_number
        assert received_at.tzinfo is UTC and received_at.date() <= AS_OF


async def test_derived_columns_match_their_history(seeded: Seeded) -> None:
    latest_grade = (
        select(CreditEvaluation.grade)
        .where(CreditEvaluation.enterprise_id == Enterprise.id)
        .order_by(CreditEvaluation.evaluated_at.desc(), CreditEvaluation.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    latest_status = (
        select(LicenceStatusEvent.status)
        .where(LicenceStatusEvent.licence_id == Licence.id)
        .order_by(LicenceStatusEvent.at.desc(), LicenceStatusEvent.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    engine = seeded.engine

    wrong_grades = select(func.count()).where(
        Enterprise.credit_grade.is_(None) | (Enterprise.credit_grade != latest_grade)
    )
    wrong_statuses = select(func.count()).where(
        latest_status.is_(None) | (Licence.status != latest_status)
    )
    assert await scalar(engine, wrong_grades) == 0
    assert await scalar(engine, wrong_statuses) == 0
    assert await scalar(engine, select(func.count()).select_from(Licence)) > 0


async def test_records_hang_together(seeded: Seeded) -> None:
    engine = seeded.engine
    # Spot checks and recalls name a product of their own enterprise.
    foreign_checks = (
        select(func.count())
        .select_from(SpotCheck)
        .join(Product, Product.id == SpotCheck.product_id)
        .where(Product.enterprise_id != SpotCheck.enterprise_id)
    )
    foreign_recalls = (
        select(func.count())
        .select_from(Recall)
        .join(Product, Product.id == Recall.product_id)
        .where(Product.enterprise_id != Recall.enterprise_id)
    )
    assert await scalar(engine, foreign_checks) == 0
    assert await scalar(engine, foreign_recalls) == 0
    assert await scalar(engine, select(func.count()).where(Recall.product_id.is_(None))) == 0
    # A check has failed items exactly when it failed.
    failed_items = select(func.count()).where(FailedItem.spot_check_id == SpotCheck.id)
    mismatched = select(func.count()).where(
        (SpotCheck.result == CheckResult.FAIL) != (failed_items.scalar_subquery() > 0)
    )
    assert await scalar(engine, mismatched) == 0
    # Every warning relates to at least one recall.
    unlinked = select(func.count()).where(
        ~select(warning_recall.c.recall_id)
        .where(warning_recall.c.warning_id == ConsumerWarning.id)
        .exists()
    )
    assert await scalar(engine, unlinked) == 0
    # Removals come after the listing and before its publicity would have ended.
    bad_removals = (
        select(func.count())
        .select_from(BlacklistRemoval)
        .join(BlacklistEntry, BlacklistEntry.id == BlacklistRemoval.entry_id)
        .where(
            (BlacklistRemoval.removed_on <= BlacklistEntry.listed_on)
            | (BlacklistRemoval.removed_on >= BlacklistEntry.publicity_ends_on)
        )
    )
    assert await scalar(engine, bad_removals) == 0


async def test_dates_are_relative_to_as_of(seeded: Seeded) -> None:
    engine = seeded.engine
    end_of_as_of = datetime.combine(AS_OF + timedelta(days=1), time(), tzinfo=UTC)
    for model in (Enterprise, Product, SpotCheck, Recall, BlacklistEntry, ConsumerWarning):
        latest = await scalar(engine, select(func.max(model.published_at)))
        assert latest.tzinfo is UTC and latest < end_of_as_of, model
    assert await scalar(engine, select(func.max(Recall.started_on))) <= AS_OF
    assert await scalar(engine, select(func.max(SpotCheck.sampled_on))) <= AS_OF
    assert await scalar(engine, select(func.max(BlacklistEntry.listed_on))) <= AS_OF
    assert await scalar(engine, select(func.max(Licence.valid_from))) <= AS_OF
    for column in (
        BlacklistEntry.listed_on,
        Licence.valid_from,
        SpotCheck.sampled_on,
        Recall.produced_from,
    ):
        before_founding = (
            select(func.count())
            .select_from(column.class_)
            .join(Enterprise, Enterprise.id == column.class_.enterprise_id)
            .where(column < Enterprise.established_on)
        )
        assert await scalar(engine, before_founding) == 0, column
    inverted = select(func.count()).where(
        (Recall.produced_from > Recall.produced_until) | (Recall.produced_until > Recall.started_on)
    )
    assert await scalar(engine, inverted) == 0
    expired_in_future = select(func.count()).where(
        (Licence.status == LicenceStatus.EXPIRED) & (Licence.valid_until > AS_OF)
    )
    valid_but_over = select(func.count()).where(
        (Licence.status == LicenceStatus.VALID) & (Licence.valid_until <= AS_OF)
    )
    assert await scalar(engine, expired_in_future) == 0
    assert await scalar(engine, valid_but_over) == 0
    # Publicity running, ended, and cut short by credit repair: each happens.
    running = select(func.count()).where(
        (BlacklistEntry.publicity_ends_on > AS_OF)
        & ~select(BlacklistRemoval.id)
        .where(BlacklistRemoval.entry_id == BlacklistEntry.id)
        .exists()
    )
    ended = select(func.count()).where(BlacklistEntry.publicity_ends_on <= AS_OF)
    assert await scalar(engine, running) >= 5
    assert await scalar(engine, ended) >= 5
    assert await scalar(engine, select(func.count()).select_from(BlacklistRemoval)) >= 3


async def test_timestamps_are_aware_utc(seeded: Seeded) -> None:
    async with create_sessionmaker(seeded.engine)() as session:
        evaluation = await session.get(CreditEvaluation, 1)
        enterprise = await session.get(Enterprise, 1)
    assert evaluation is not None and enterprise is not None
    assert evaluation.evaluated_at.tzinfo is UTC
    assert enterprise.published_at is not None and enterprise.published_at.tzinfo is UTC
    assert enterprise.created_at.tzinfo is UTC


# -- the keys the README's examples use ------------------------------------------------------


async def assert_enterprise_one_keys(engine: AsyncEngine) -> None:
    first = (
        await all_rows(
            engine, select(Enterprise.uscc, Enterprise.region_code).where(Enterprise.id == 1)
        )
    )[0]
    assert tuple(first) == ("91110000600037341L", "110000")

    def count_of(model: Any) -> Any:
        return select(func.count()).select_from(model).where(model.enterprise_id == 1)

    assert await scalar(engine, count_of(CreditEvaluation)) >= 2
    assert await scalar(engine, count_of(Licence)) >= 1
    assert await scalar(engine, count_of(SpotCheck)) >= 1
    assert await scalar(engine, count_of(Recall)) >= 1
    assert await scalar(engine, count_of(Product)) >= 1
    assert (
        await scalar(
            engine, select(Licence.enterprise_id).where(Licence.number == "XK16-108-00001")
        )
        == 1
    )

    product = await scalar(engine, select(Product.id).where(Product.gtin == "6901234567892"))
    assert product is not None
    assert await scalar(engine, select(func.count()).where(SpotCheck.product_id == product)) >= 1
    assert await scalar(engine, select(func.count()).where(Recall.product_id == product)) >= 1

    revoked = select(func.count()).where(Licence.status == LicenceStatus.REVOKED)
    national_fail = select(func.count()).where(
        (SpotCheck.level == CheckLevel.NATIONAL) & (SpotCheck.result == CheckResult.FAIL)
    )
    recent_recall = select(func.count()).where(Recall.started_on >= AS_OF - timedelta(days=183))
    warned = select(func.count()).select_from(warning_recall)
    assert await scalar(engine, revoked) >= 1
    assert await scalar(engine, national_fail) >= 1
    assert await scalar(engine, recent_recall) >= 1
    assert await scalar(engine, select(func.count()).select_from(ConsumerWarning)) >= 3
    assert await scalar(engine, warned) >= 3


async def assert_region_keys(engine: AsyncEngine) -> None:
    graded_d_in_guangdong = select(func.count()).where(
        Enterprise.region_code.between("440000", "449999"),
        Enterprise.credit_grade == CreditGrade.D,
    )
    assert await scalar(engine, graded_d_in_guangdong) >= 1
    shanghai_listed = (
        select(func.count())
        .select_from(BlacklistEntry)
        .join(Enterprise, Enterprise.id == BlacklistEntry.enterprise_id)
        .where(
            Enterprise.region_code.between("310000", "319999"),
            BlacklistEntry.listed_on > date(2025, 1, 1),
            BlacklistEntry.listed_on <= AS_OF,
            BlacklistEntry.publicity_ends_on > AS_OF,
            BlacklistEntry.published_at.is_not(None),
            ~select(BlacklistRemoval.id)
            .where(BlacklistRemoval.entry_id == BlacklistEntry.id)
            .exists(),
        )
    )
    assert await scalar(engine, shanghai_listed) >= 1


async def test_example_keys_exist(seeded: Seeded) -> None:
    await assert_enterprise_one_keys(seeded.engine)
    await assert_region_keys(seeded.engine)


@pytest.mark.parametrize("enterprises", [1, 3])
async def test_example_keys_exist_in_the_smallest_seeds(
    dialect: str, tmp_path: Path, enterprises: int
) -> None:
    """Enterprise 1 carries its own keys alone; the Guangdong and Shanghai ones are 2 and 3."""
    async with migrated_engine(dialect, tmp_path) as engine:
        await seed(engine, enterprises=enterprises, as_of=AS_OF)
        await assert_enterprise_one_keys(engine)
        if enterprises >= 3:
            await assert_region_keys(engine)


def test_example_keys_hold_whatever_the_seed() -> None:
    """The showcase enterprises 1 to 3 keep their keys under any seed; checked on the tuples."""
    calendar = Calendar(AS_OF, lambda day: day, lambda stamp: stamp)
    columns = {name: {column: i for i, column in enumerate(TABLES[name])} for name in TABLES}

    def rows_of(chunk: dict[str, list[Any]], table: str, **where: Any) -> list[Any]:
        index = columns[table]
        return [row for row in chunk[table] if all(row[index[k]] == v for k, v in where.items())]

    for seed_value in range(40):
        (chunk,) = generate(3, seed_value, calendar)
        assert len(rows_of(chunk, "credit_evaluation", enterprise_id=1)) >= 2
        assert rows_of(chunk, "licence", number="XK16-108-00001", enterprise_id=1) != []
        assert rows_of(chunk, "licence", status="REVOKED") != []
        assert rows_of(chunk, "product", gtin="6901234567892", enterprise_id=1) != []
        assert rows_of(chunk, "spot_check", product_id=1, level="NATIONAL", result="FAIL") != []
        (recall,) = rows_of(chunk, "recall", product_id=1)
        assert recall[columns["recall"]["started_on"]] == AS_OF - timedelta(days=40)
        assert rows_of(chunk, "enterprise", id=2, region_code="440300", credit_grade="D") != []
        (shanghai,) = rows_of(chunk, "blacklist_entry", enterprise_id=3)
        assert shanghai[columns["blacklist_entry"]["listed_on"]] == AS_OF - timedelta(days=45)
        assert shanghai[columns["blacklist_entry"]["publicity_ends_on"]] > AS_OF
        assert len(chunk["consumer_warning"]) == 3
        assert chunk["blacklist_removal"] == []


# -- proportions ----------------------------------------------------------------------------


async def test_proportions_are_plausible(seeded: Seeded) -> None:
    engine = seeded.engine

    async def share(numerator: Any, denominator: Any) -> float:
        return float(await scalar(engine, numerator)) / float(await scalar(engine, denominator))

    enterprises = select(func.count()).select_from(Enterprise)
    checks = select(func.count()).select_from(SpotCheck)
    blacklisted = select(func.count(func.distinct(BlacklistEntry.enterprise_id)))
    licensed = select(func.count(func.distinct(Licence.enterprise_id)))
    recalled = select(func.count(func.distinct(Recall.enterprise_id)))
    passed = select(func.count()).where(SpotCheck.result == CheckResult.PASS)
    graded_ab = select(func.count()).where(
        Enterprise.credit_grade.in_([CreditGrade.A, CreditGrade.B])
    )
    graded_d = select(func.count()).where(Enterprise.credit_grade == CreditGrade.D)
    valid = select(func.count()).where(Licence.status == LicenceStatus.VALID)
    licences = select(func.count()).select_from(Licence)
    active = select(func.count()).where(Enterprise.status == EnterpriseStatus.ACTIVE)

    assert 0.01 <= await share(blacklisted, enterprises) <= 0.06
    assert 0.80 <= await share(passed, checks) <= 0.97
    assert 0.30 <= await share(licensed, enterprises) <= 0.50
    assert 0.01 <= await share(recalled, enterprises) <= 0.04
    assert 0.80 <= await share(graded_ab, enterprises) <= 0.97
    assert 0.005 <= await share(graded_d, enterprises) <= 0.03
    assert 0.60 <= await share(valid, licences) <= 0.90
    assert 0.90 <= await share(active, enterprises) <= 0.99
    assert (
        await scalar(engine, select(func.count()).select_from(ConsumerWarning))
        == ENTERPRISES // 200
    )
    assert await scalar(engine, select(func.count()).select_from(warning_product)) >= 10

    published = unpublished = 0
    for model in (Enterprise, CreditEvaluation, Product, SpotCheck, Licence):
        published += await scalar(
            engine, select(func.count()).where(model.published_at.is_not(None))
        )
        unpublished += await scalar(
            engine, select(func.count()).where(model.published_at.is_(None))
        )
    assert DRAFT_SHARE / 2 <= unpublished / (published + unpublished) <= DRAFT_SHARE * 1.5

    report = seeded.report
    assert report.rows == await row_counts(engine)
    assert report.total_rows == sum(report.rows.values())
    assert 8 * ENTERPRISES <= report.total_rows <= 12 * ENTERPRISES
    assert report.rows_per_second == report.total_rows / report.seconds


# -- refusing, seeding once, the CLI -------------------------------------------------------


async def test_refuses_a_database_that_has_data(seeded: Seeded) -> None:
    with pytest.raises(DatabaseNotEmptyError) as raised:
        await seed(seeded.engine, enterprises=5, as_of=AS_OF)

    assert raised.value.code == "DATABASE_NOT_EMPTY"
    assert "already has rows in 'enterprise'" in raised.value.message
    assert await scalar(seeded.engine, select(func.count()).select_from(Enterprise)) == ENTERPRISES


async def test_refuses_a_database_with_only_dependent_rows(dialect: str, tmp_path: Path) -> None:
    async with migrated_engine(dialect, tmp_path) as engine:
        async with engine.begin() as connection:
            await connection.execute(
                insert(ConsumerWarning).values(
                    id=1, number="XFYJ-1", title="t", hazard="h", advice="a", severity="LOW",
                    category="c", issued_on=AS_OF, source_agency="s", published_at=None,
                    created_at=datetime(2026, 1, 1, tzinfo=UTC),
                    updated_at=datetime(2026, 1, 1, tzinfo=UTC),
                )
            )  # fmt: skip
        with pytest.raises(DatabaseNotEmptyError, match="'consumer_warning'"):
            await seed(engine, enterprises=5, as_of=AS_OF)
        assert await scalar(engine, select(func.count()).select_from(Enterprise)) == 0


async def test_rejects_arguments_out_of_range(dialect: str, tmp_path: Path) -> None:
    async with migrated_engine(dialect, tmp_path) as engine:
        for enterprises in (0, 10_000_000):
            with pytest.raises(BadUserInputError, match="'enterprises'"):
                await seed(engine, enterprises=enterprises)
        for as_of in (date(1999, 12, 31), date(3000, 1, 1)):
            with pytest.raises(BadUserInputError, match="'as_of'"):
                await seed(engine, enterprises=5, as_of=as_of)
        assert await scalar(engine, select(func.count()).select_from(Enterprise)) == 0


async def test_seed_if_empty_seeds_once(dialect: str, tmp_path: Path) -> None:
    async with migrated_engine(dialect, tmp_path) as engine:
        first = await seed_if_empty(engine, enterprises=40)
        second = await seed_if_empty(engine, enterprises=40)

        assert first is not None
        assert (first.enterprises, first.seed, first.rows["enterprise"]) == (40, DEFAULT_SEED, 40)
        assert second is None
        assert await scalar(engine, select(func.count()).select_from(Enterprise)) == 40

        # The id sequences continue after the seeded ids, so the application can insert.
        async with create_sessionmaker(engine)() as session, session.begin():
            enterprise = Enterprise(
                uscc="91440300MA5DEMO00X",
                name="深圳市测试电子有限公司",
                legal_representative="张三",
                status=EnterpriseStatus.ACTIVE,
                region_code="440300",
                industry_code="C39",
                address="广东省深圳市科技路1号",
                established_on=date(2020, 1, 1),
                source_agency="深圳市市场监督管理局",
            )
            session.add(enterprise)
            await session.flush()
            assert enterprise.id == 41


def _schema_objects(connection: Connection) -> dict[str, Any]:
    """Indexes, foreign keys and unique constraints of every table, seeded or referring to one."""
    inspector = inspect(connection)

    def described(item: Any) -> str:
        # A partial index's condition is a clause object: compared by its SQL, not its address.
        return json.dumps(item, sort_keys=True, default=str)

    return {
        name: (
            sorted(described(index) for index in inspector.get_indexes(name)),
            sorted(described(key) for key in inspector.get_foreign_keys(name)),
            sorted(described(unique) for unique in inspector.get_unique_constraints(name)),
        )
        for name in inspector.get_table_names()
    }


async def test_indexes_and_constraints_are_as_before(dialect: str, tmp_path: Path) -> None:
    """On PostgreSQL the load drops foreign keys and indexes; it must restore them all."""
    async with migrated_engine(dialect, tmp_path) as engine:
        async with engine.connect() as connection:
            before = await connection.run_sync(_schema_objects)
        await seed(engine, enterprises=30, as_of=AS_OF)
        async with engine.connect() as connection:
            after = await connection.run_sync(_schema_objects)

    assert after == before
    assert sum(len(indexes) for indexes, _keys, _uniques in before.values()) >= 20
    assert sum(len(keys) for _indexes, keys, _uniques in before.values()) >= 15


@pytest.fixture
def sqlite_database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """HUB_DATABASE_URL pointing at a new SQLite file, for the ``hub`` command."""
    path = tmp_path / "cli.db"
    monkeypatch.setenv("HUB_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    # Settings are read once per process and cached; drop the cache on both sides of the test.
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def _enterprise_count(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        return int(connection.execute("SELECT count(*) FROM enterprise").fetchone()[0])


def test_cli_migrates_seeds_and_reports(sqlite_database_url: Path) -> None:
    runner = CliRunner()
    arguments = ["demo", "seed", "--enterprises", "50", "--seed", "7", "--as-of", "2026-06-30"]

    result = runner.invoke(main, arguments, catch_exceptions=False)

    assert result.exit_code == 0, result.output
    assert "50 enterprises, seed 7, as of 2026-06-30 (sqlite)" in result.output
    assert re.search(r"rows in \d+\.\d\d s, [\d,]+ rows/s", result.output)
    assert re.search(r"enterprise\s+│\s+50\s+│", result.output)
    assert _enterprise_count(sqlite_database_url) == 50

    again = runner.invoke(main, arguments, catch_exceptions=False)

    assert again.exit_code == 1
    assert again.output.startswith("Error: the database already has rows in 'enterprise'")
    assert again.output.count("\n") == 1
    assert "Traceback" not in again.output
    assert _enterprise_count(sqlite_database_url) == 50


def test_cli_validates_its_options(sqlite_database_url: Path) -> None:
    runner = CliRunner()

    for arguments in (
        ["--enterprises", "0"],
        ["--enterprises", "x"],
        ["--as-of", "30.06.2026"],
        ["--as-of", "1999-12-31"],
    ):
        result = runner.invoke(main, ["demo", "seed", *arguments], catch_exceptions=False)
        assert result.exit_code == 2, arguments
        assert "Invalid value for" in result.output
    assert not sqlite_database_url.exists()
