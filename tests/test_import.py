"""``hub import``: each kind, rejected rows, idempotency, both formats, malformed files, the CLI."""

from __future__ import annotations

import asyncio
import csv
import re
import shutil
import signal
import sys
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker
from stdnum.cn import uscc as stdnum_uscc

from hub.cli import main
from hub.config import get_settings
from hub.db import HubSession, create_engine
from hub.importer.errors import ImportFileError
from hub.importer.kinds import KINDS
from hub.importer.run import ImportReport, run_import
from hub.migrate import upgrade
from hub.models import (
    Base,
    BlacklistEntry,
    BlacklistRemoval,
    ConsumerWarning,
    CreditEvaluation,
    Enterprise,
    FailedItem,
    Licence,
    LicenceStatusEvent,
    Product,
    Recall,
    Region,
    SpotCheck,
    warning_product,
    warning_recall,
)

DATA = Path(__file__).parent / "data" / "import"
E1 = "91440300MA5F00001A"  # 深圳华测电子有限公司
E2 = "91330106MA2H00002H"  # 杭州西湖乳业有限公司
E3 = "91110108MA0A00003D"  # 北京电动车制造有限公司
E4 = "91440300MA5F00004K"  # only in the files of bad rows
E5 = "91320500MA1N00005B"  # valid, but never imported
PHONE = "6901234567892"
MILK = "6901234567908"

# What each kind's sample refers to, in import order.
NEEDS = {
    "regions": [],
    "enterprises": [],
    "credit-evaluations": ["enterprises"],
    "blacklist-entries": ["enterprises"],
    "blacklist-removals": ["enterprises", "blacklist-entries"],
    "products": ["enterprises"],
    "spot-checks": ["enterprises", "products"],
    "licences": ["enterprises"],
    "licence-events": ["enterprises", "licences"],
    "recalls": ["enterprises", "products"],
    "consumer-warnings": ["enterprises", "products", "recalls"],
}
ALL_KINDS = list(NEEDS)
FAILED_ITEMS = (
    select(
        SpotCheck.report_number,
        FailedItem.position,
        FailedItem.item,
        FailedItem.standard,
        FailedItem.required,
        FailedItem.measured,
    )
    .join(SpotCheck, SpotCheck.id == FailedItem.spot_check_id)
    .order_by(SpotCheck.report_number, FailedItem.position)
)
STAMPED = (Enterprise.uscc, Enterprise.address, Enterprise.created_at, Enterprise.updated_at)

Sessionmaker = async_sessionmaker[HubSession]


async def load(
    sessionmaker: Sessionmaker, tmp_path: Path, kind: str, path: Path | None = None, **options: Any
) -> ImportReport:
    source = path if path is not None else DATA / f"{kind}.csv"
    rejects = tmp_path / f"{source.name}.rejected.csv"
    return await run_import(sessionmaker, kind, source, rejects=rejects, **options)


async def load_with_needs(sessionmaker: Sessionmaker, tmp_path: Path, kind: str) -> ImportReport:
    for needed in NEEDS[kind]:
        report = await load(sessionmaker, tmp_path, needed)
        assert (report.accepted, report.rejected) == (report.input, 0)
    return await load(sessionmaker, tmp_path, kind)


def rejects_of(report: ImportReport) -> list[tuple[int, str, str, str]]:
    with report.rejects_path.open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    return [(int(row["line"]), row["key"], row["field"], row["reason"]) for row in rows]


async def fetch(connection: AsyncConnection, statement: Any) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in await connection.execute(statement)]


async def rows(connection: AsyncConnection, *columns: Any) -> list[tuple[Any, ...]]:
    """Columns of one table, sorted by all of them."""
    return await fetch(connection, select(*columns).order_by(*columns))


async def snapshot(connection: AsyncConnection) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, timestamps and ids included."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    for table in Base.metadata.sorted_tables:
        result = await connection.execute(select(table).order_by(*table.primary_key.columns))
        tables[table.name] = [tuple(row) for row in result]
    return tables


def files_in(directory: Path) -> list[Path]:
    return sorted(directory.iterdir())


def uscc(number: int) -> str:
    body = f"91440300MA{number:07d}"
    return body + str(stdnum_uscc.calc_check_digit(body))


def write_enterprises(path: Path, count: int) -> None:
    header = (
        "uscc,name,legal_representative,status,region_code,industry_code,address,"
        "established_on,source_agency,published_at\n"
    )
    lines = [
        f"{uscc(n)},企业{n},张三,ACTIVE,440300,C39,地址{n},2020-01-01,广东省市场监督管理局,\n"
        for n in range(count)
    ]
    path.write_text(header + "".join(lines), encoding="utf-8")


# Each kind's sample -------------------------------------------------------------------------


async def test_regions(
    sessionmaker: Sessionmaker, connection: AsyncConnection, tmp_path: Path
) -> None:
    report = await load(sessionmaker, tmp_path, "regions")

    assert (report.input, report.accepted, report.rejected, report.changed) == (3, 3, 0, 3)
    stored = dict(await rows(connection, Region.code, Region.name))
    assert (stored["440305"], stored["440306"], stored["330106"]) == ("南山区", "宝安区", "西湖区")
    assert stored["440300"] == "深圳市"


async def test_enterprises(
    sessionmaker: Sessionmaker, connection: AsyncConnection, tmp_path: Path
) -> None:
    report = await load(sessionmaker, tmp_path, "enterprises")

    assert (report.input, report.accepted, report.rejected, report.changed) == (3, 3, 0, 3)
    assert report.summary().startswith(
        f"enterprises: 3 input, 3 accepted, 0 rejected (rejects: {report.rejects_path}); "
        "3 new or changed, "
    )
    assert rejects_of(report) == []
    stored = await rows(
        connection,
        Enterprise.uscc,
        Enterprise.name,
        Enterprise.legal_representative,
        Enterprise.status,
        Enterprise.region_code,
        Enterprise.industry_code,
        Enterprise.address,
        Enterprise.established_on,
        Enterprise.source_agency,
        Enterprise.published_at,
        Enterprise.credit_grade,
    )
    assert stored == [
        (
            E3,
            "北京电动车制造有限公司",
            "王五",
            "SUSPENDED",
            "110000",
            "C37",
            "北京市海淀区中关村3号, 2层",
            date(2015, 11, 20),
            "北京市市场监督管理局",
            None,
            None,
        ),
        (
            E2,
            "杭州西湖乳业有限公司",
            "李四",
            "ACTIVE",
            "330100",
            "C14",
            "杭州市西湖区文三路2号",
            date(2008, 3, 1),
            "浙江省市场监督管理局",
            # Written without a zone: Beijing time, stored in UTC.
            datetime(2024, 1, 16, 2, 0, tzinfo=UTC),
            None,
        ),
        (
            E1,
            "深圳华测电子有限公司",
            "张三",
            "ACTIVE",
            "440300",
            "C39",
            "深圳市南山区科技园1号",
            date(2010, 5, 12),
            "广东省市场监督管理局",
            datetime(2024, 1, 15, 1, 30, tzinfo=UTC),
            None,
        ),
    ]
    stamps = await rows(connection, Enterprise.created_at, Enterprise.updated_at)
    assert {created for created, _ in stamps} == {updated for _, updated in stamps}
    assert len({created for created, _ in stamps}) == 1


async def test_credit_evaluations_set_the_current_grade(
    sessionmaker: Sessionmaker, connection: AsyncConnection, tmp_path: Path
) -> None:
    report = await load_with_needs(sessionmaker, tmp_path, "credit-evaluations")

    assert (report.input, report.accepted, report.rejected, report.changed) == (4, 4, 0, 4)
    evaluations = await rows(
        connection,
        CreditEvaluation.evaluated_at,
        CreditEvaluation.grade,
        CreditEvaluation.score,
        CreditEvaluation.authority,
        CreditEvaluation.published_at,
    )
    assert evaluations == [
        (datetime(2023, 6, 30, 2, tzinfo=UTC), "B", 82.5, "广东省市场监督管理局",
         datetime(2023, 7, 1, 1, tzinfo=UTC)),
        # A date alone is midnight in Beijing.
        (datetime(2024, 3, 31, 16, tzinfo=UTC), "D", 30.5, "北京市市场监督管理局",
         datetime(2024, 4, 2, tzinfo=UTC)),
        (datetime(2024, 5, 20, 7, tzinfo=UTC), "C", 65.0, "浙江省市场监督管理局", None),
        (datetime(2024, 6, 30, 2, tzinfo=UTC), "A", 91.0, "广东省市场监督管理局",
         datetime(2024, 7, 1, 1, tzinfo=UTC)),
    ]  # fmt: skip
    assert await rows(connection, Enterprise.uscc, Enterprise.credit_grade) == [
        (E3, "D"),
        (E2, "C"),
        (E1, "A"),
    ]

    # when a later evaluation arrives
    later = tmp_path / "later.csv"
    later.write_text(
        "uscc,grade,score,evaluated_at,authority,basis,source_agency\n"
        f"{E1},C,60,2025-06-30T10:00:00+08:00,广东省市场监督管理局,复评,广东省市场监督管理局\n",
        encoding="utf-8",
    )
    await load(sessionmaker, tmp_path, "credit-evaluations", later)

    assert await rows(connection, Enterprise.uscc, Enterprise.credit_grade) == [
        (E3, "D"),
        (E2, "C"),
        (E1, "C"),
    ]


async def test_blacklist_entries(
    sessionmaker: Sessionmaker, connection: AsyncConnection, tmp_path: Path
) -> None:
    report = await load_with_needs(sessionmaker, tmp_path, "blacklist-entries")

    assert (report.input, report.accepted, report.rejected, report.changed) == (2, 2, 0, 2)
    assert await rows(
        connection,
        BlacklistEntry.decision_number,
        BlacklistEntry.list_type,
        BlacklistEntry.listed_on,
        BlacklistEntry.publicity_ends_on,
        BlacklistEntry.legal_basis,
    ) == [
        ("京市监信〔2024〕1号", "SERIOUS_VIOLATION", date(2024, 3, 15), date(2027, 3, 14),
         "《市场监督管理严重违法失信名单管理办法》第九条"),
        ("浙市监信〔2024〕7号", "QUALITY_BLACKLIST", date(2024, 2, 1), date(2025, 1, 31),
         "《产品质量法》第五十条"),
    ]  # fmt: skip
    owners = (
        select(BlacklistEntry.decision_number, Enterprise.uscc)
        .join(Enterprise, Enterprise.id == BlacklistEntry.enterprise_id)
        .order_by(BlacklistEntry.decision_number)
    )
    assert await fetch(connection, owners) == [
        ("京市监信〔2024〕1号", E3),
        ("浙市监信〔2024〕7号", E2),
    ]


async def test_blacklist_removals_are_append_only(
    sessionmaker: Sessionmaker, connection: AsyncConnection, tmp_path: Path
) -> None:
    report = await load_with_needs(sessionmaker, tmp_path, "blacklist-removals")

    assert (report.input, report.accepted, report.rejected, report.changed) == (1, 1, 0, 1)
    removal = select(
        BlacklistEntry.decision_number,
        BlacklistRemoval.removed_on,
        BlacklistRemoval.reason,
        BlacklistRemoval.published_at,
    ).join(BlacklistEntry, BlacklistEntry.id == BlacklistRemoval.entry_id)
    expected = [
        (
            "浙市监信〔2024〕7号",
            date(2024, 9, 1),
            "完成信用修复",
            datetime(2024, 9, 2, 1, tzinfo=UTC),
        )
    ]
    assert await fetch(connection, removal) == expected

    # when: a different removal of the same entry, and the same one again
    again = await load(
        sessionmaker, tmp_path, "blacklist-removals", DATA / "bad" / "blacklist-removals.csv"
    )

    assert (again.input, again.accepted, again.rejected, again.changed) == (4, 1, 3, 0)
    assert rejects_of(again) == [
        (2, "京市监信〔2024〕99号", "decision_number", "no blacklist entry 京市监信〔2024〕99号"),
        (3, "京市监信〔2024〕1号", "removed_on",
         "must not be before the entry's listed_on (2024-03-15)"),
        (4, "浙市监信〔2024〕7号", "decision_number",
         "the entry already has a removal that differs in reason; removals are never edited"),
    ]  # fmt: skip
    assert await fetch(connection, removal) == expected


async def test_products(
    sessionmaker: Sessionmaker, connection: AsyncConnection, tmp_path: Path
) -> None:
    report = await load_with_needs(sessionmaker, tmp_path, "products")

    assert (report.input, report.accepted, report.rejected, report.changed) == (3, 3, 0, 3)
    products = select(
        Product.gtin, Product.name, Product.brand, Product.model, Product.category
    ).order_by(Product.id)
    assert await fetch(connection, products) == [
        (PHONE, "智能手机", "华测", "HC-10", "电子产品"),
        (MILK, "全脂奶粉", "西湖", "900g", "乳制品"),
        (None, "电动自行车", "京骑", "JQ-48V", "电动自行车"),
    ]


async def test_a_product_gets_its_gtin_and_keeps_it(
    sessionmaker: Sessionmaker, connection: AsyncConnection, tmp_path: Path
) -> None:
    await load_with_needs(sessionmaker, tmp_path, "products")
    (bike_id,) = (await connection.execute(select(Product.id).where(Product.gtin.is_(None)))).one()
    with_gtin = tmp_path / "with-gtin.csv"
    with_gtin.write_text(
        "gtin,uscc,name,brand,model,category,source_agency\n"
        f"6901234567915,{E3},电动自行车,京骑,JQ-48V,电动自行车,北京市市场监督管理局\n",
        encoding="utf-8",
    )
    without_gtin = tmp_path / "without-gtin.csv"
    without_gtin.write_text(
        "gtin,uscc,name,brand,model,category,source_agency\n"
        f",{E3},电动自行车,京骑,JQ-48V,两轮车,北京市市场监督管理局\n",
        encoding="utf-8",
    )

    first = await load(sessionmaker, tmp_path, "products", with_gtin)
    second = await load(sessionmaker, tmp_path, "products", without_gtin)

    assert (first.accepted, first.changed, second.accepted, second.changed) == (1, 1, 1, 1)
    bike = select(Product.id, Product.gtin, Product.category).where(Product.id == bike_id)
    assert tuple((await connection.execute(bike)).one()) == (bike_id, "6901234567915", "两轮车")
    assert (await connection.execute(select(func.count()).select_from(Product))).scalar() == 3


async def test_spot_checks_with_failed_items(
    sessionmaker: Sessionmaker, connection: AsyncConnection, tmp_path: Path
) -> None:
    report = await load_with_needs(sessionmaker, tmp_path, "spot-checks")

    assert (report.input, report.accepted, report.rejected, report.changed) == (3, 3, 0, 3)
    checks = select(
        SpotCheck.report_number,
        Enterprise.uscc,
        Product.model,
        SpotCheck.level,
        SpotCheck.region_code,
        SpotCheck.sampled_on,
        SpotCheck.result,
    )
    checks = (
        checks.join(Enterprise, Enterprise.id == SpotCheck.enterprise_id)
        .join(Product, Product.id == SpotCheck.product_id)
        .order_by(SpotCheck.report_number)
    )
    assert await fetch(connection, checks) == [
        ("GJCC-2024-0001", E1, "HC-10", "NATIONAL", "440300", date(2024, 3, 10), "PASS"),
        ("GJCC-2024-0002", E3, "JQ-48V", "PROVINCIAL", "110000", date(2024, 3, 12), "FAIL"),
        ("GJCC-2024-0003", E2, "900g", "MUNICIPAL", "330100", date(2024, 3, 15), "FAIL"),
    ]
    assert await fetch(connection, FAILED_ITEMS) == [
        ("GJCC-2024-0002", 1, "最高车速", "GB 17761-2018", "≤25 km/h", "32 km/h"),
        ("GJCC-2024-0002", 2, "整车质量", "GB 17761-2018", "≤55 kg", "61 kg"),
        ("GJCC-2024-0003", 1, "蛋白质", "GB 19644-2010", "≥16.5 g/100g", "14.2 g/100g"),
    ]


async def test_spot_check_reimport_replaces_differing_failed_items(
    sessionmaker: Sessionmaker, connection: AsyncConnection, tmp_path: Path
) -> None:
    await load_with_needs(sessionmaker, tmp_path, "spot-checks")
    before = dict(await rows(connection, SpotCheck.report_number, SpotCheck.updated_at))
    lines = (DATA / "spot-checks.jsonl").read_text(encoding="utf-8").splitlines()
    # GJCC-2024-0002 is re-examined: only the speed item stands.
    lines[1] = lines[1].replace(
        ', {"item": "整车质量", "standard": "GB 17761-2018", "required": "≤55 kg", '
        '"measured": "61 kg"}',
        "",
    )
    changed = tmp_path / "spot-checks.jsonl"
    changed.write_text("\n".join(lines) + "\n", encoding="utf-8")

    report = await load(sessionmaker, tmp_path, "spot-checks", changed)

    assert (report.accepted, report.changed) == (3, 1)
    assert [row[:3] for row in await fetch(connection, FAILED_ITEMS)] == [
        ("GJCC-2024-0002", 1, "最高车速"),
        ("GJCC-2024-0003", 1, "蛋白质"),
    ]
    after = dict(await rows(connection, SpotCheck.report_number, SpotCheck.updated_at))
    assert after["GJCC-2024-0002"] > before["GJCC-2024-0002"]
    assert (after["GJCC-2024-0001"], after["GJCC-2024-0003"]) == (
        before["GJCC-2024-0001"],
        before["GJCC-2024-0003"],
    )


async def test_licences(
    sessionmaker: Sessionmaker, connection: AsyncConnection, tmp_path: Path
) -> None:
    report = await load_with_needs(sessionmaker, tmp_path, "licences")

    assert (report.input, report.accepted, report.rejected, report.changed) == (2, 2, 0, 2)
    assert await rows(
        connection,
        Licence.number,
        Licence.product,
        Licence.status,
        Licence.valid_from,
        Licence.valid_until,
    ) == [
        # Written in lower case in the file.
        ("XK06-014-00002", "电动自行车", "VALID", date(2021, 6, 1), date(2026, 5, 31)),
        ("XK16-108-00001", "乳制品", "VALID", date(2022, 1, 1), date(2026, 12, 31)),
    ]


async def test_licence_events_set_the_licence_status(
    sessionmaker: Sessionmaker, connection: AsyncConnection, tmp_path: Path
) -> None:
    report = await load_with_needs(sessionmaker, tmp_path, "licence-events")

    assert (report.input, report.accepted, report.rejected, report.changed) == (3, 3, 0, 3)
    assert await rows(connection, Licence.number, Licence.status) == [
        ("XK06-014-00002", "VALID"),
        ("XK16-108-00001", "SUSPENDED"),
    ]
    assert await rows(connection, LicenceStatusEvent.at, LicenceStatusEvent.status) == [
        (datetime(2024, 2, 5, 1, tzinfo=UTC), "SUSPENDED"),
        (datetime(2024, 3, 20, 2, tzinfo=UTC), "SUSPENDED"),
        (datetime(2024, 6, 1, 2, tzinfo=UTC), "VALID"),
    ]

    # when: the licence file, exported before the events, is imported again
    again = await load(sessionmaker, tmp_path, "licences")

    assert (again.accepted, again.changed) == (2, 0)
    assert await rows(connection, Licence.number, Licence.status) == [
        ("XK06-014-00002", "VALID"),
        ("XK16-108-00001", "SUSPENDED"),
    ]


async def test_recalls(
    sessionmaker: Sessionmaker, connection: AsyncConnection, tmp_path: Path
) -> None:
    report = await load_with_needs(sessionmaker, tmp_path, "recalls")

    assert (report.input, report.accepted, report.rejected, report.changed) == (2, 2, 0, 2)
    recalls = (
        select(
            Recall.notice_number,
            Enterprise.uscc,
            Product.gtin,
            Recall.kind,
            Recall.status,
            Recall.affected_units,
            Recall.produced_from,
            Recall.produced_until,
            Recall.started_on,
        )
        .join(Enterprise, Enterprise.id == Recall.enterprise_id)
        .outerjoin(Product, Product.id == Recall.product_id)
        .order_by(Recall.notice_number)
    )
    assert await fetch(connection, recalls) == [
        ("ZH2024-001", E3, None, "ORDERED", "ONGOING", 1200,
         date(2023, 1, 1), date(2023, 12, 31), date(2024, 5, 1)),
        ("ZH2024-002", E1, PHONE, "VOLUNTARY", "COMPLETED", 5000,
         date(2023, 6, 1), date(2023, 9, 30), date(2024, 6, 10)),
    ]  # fmt: skip


async def test_consumer_warnings_and_their_links(
    sessionmaker: Sessionmaker, connection: AsyncConnection, tmp_path: Path
) -> None:
    report = await load_with_needs(sessionmaker, tmp_path, "consumer-warnings")

    assert (report.input, report.accepted, report.rejected, report.changed) == (2, 2, 0, 2)
    assert await rows(
        connection, ConsumerWarning.number, ConsumerWarning.severity, ConsumerWarning.issued_on
    ) == [
        ("XFYJ-2024-01", "HIGH", date(2024, 5, 10)),
        ("XFYJ-2024-02", "MEDIUM", date(2024, 6, 15)),
    ]
    recall_links = (
        select(ConsumerWarning.number, Recall.notice_number)
        .join(warning_recall, warning_recall.c.warning_id == ConsumerWarning.id)
        .join(Recall, Recall.id == warning_recall.c.recall_id)
        .order_by(ConsumerWarning.number, Recall.notice_number)
    )
    product_links = (
        select(ConsumerWarning.number, Product.gtin)
        .join(warning_product, warning_product.c.warning_id == ConsumerWarning.id)
        .join(Product, Product.id == warning_product.c.product_id)
        .order_by(ConsumerWarning.number, Product.gtin)
    )
    assert await fetch(connection, recall_links) == [
        ("XFYJ-2024-01", "ZH2024-001"),
        ("XFYJ-2024-02", "ZH2024-002"),
    ]
    assert await fetch(connection, product_links) == [
        ("XFYJ-2024-02", PHONE),
        ("XFYJ-2024-02", MILK),
    ]

    # when: the second warning no longer names the milk powder
    changed = tmp_path / "warnings.csv"
    changed.write_text(
        (DATA / "consumer-warnings.csv")
        .read_text(encoding="utf-8")
        .replace(f"{PHONE}; {MILK}", PHONE),
        encoding="utf-8",
    )
    again = await load(sessionmaker, tmp_path, "consumer-warnings", changed)

    assert (again.accepted, again.changed) == (2, 1)
    assert await fetch(connection, product_links) == [("XFYJ-2024-02", PHONE)]


# Rejected rows ------------------------------------------------------------------------------

EVALUATED = "2024-06-30T10:00:00+08:00"
BAD_ROWS: dict[str, tuple[int, int, list[tuple[int, str, str, str]]]] = {
    "enterprises": (8, 1, [
        (3, "91440300MA5F000010", "uscc",
         "not a valid USCC (The number's checksum or check digit is invalid.)"),
        (4, E5, "region_code", "no region with code 999999"),
        (5, E5, "status",
         "Input should be 'ACTIVE', 'SUSPENDED', 'REVOKED' or 'CANCELLED', got 'ACTIV'"),
        (6, E5, "name", "required"),
        (7, E5, "established_on", "expected an ISO date such as 2024-03-01, got '2018/09/09'"),
        (8, E4, "uscc", "duplicate of line 2"),
        (9, E5, "industry_code", "no industry with code C99"),
    ]),
    "credit-evaluations": (6, 1, [
        (3, f"{E5} / {EVALUATED} / 江苏省市场监督管理局", "uscc", f"no enterprise with USCC {E5}"),
        (4, f"{E1} / {EVALUATED} / 深圳市市场监督管理局", "grade",
         "Input should be 'A', 'B', 'C' or 'D', got 'E'"),
        (5, f"{E1} / {EVALUATED} / 深圳市市场监督管理局", "score",
         "Input should be less than or equal to 100"),
        (6, f"{E1} / yesterday / 深圳市市场监督管理局", "evaluated_at",
         "expected an ISO 8601 timestamp such as 2024-03-01T09:30:00+08:00, got 'yesterday'"),
        (7, f"{E1} / {EVALUATED} / ", "authority", "required"),
    ]),
    "blacklist-entries": (2, 0, [
        (2, "粤市监信〔2024〕3号", "publicity_ends_on",
         "must not be before listed_on (2024-07-01)"),
        (3, "粤市监信〔2024〕4号", "list_type",
         "Input should be 'QUALITY_BLACKLIST' or 'SERIOUS_VIOLATION', got 'BLACK_LIST'"),
    ]),
    "products": (6, 1, [
        (2, "6901234567891", "gtin",
         "not a valid GTIN (The number's checksum or check digit is invalid.)"),
        (3, "6901234567915", "uscc", f"no enterprise with USCC {E5}"),
        (5, "6901234567915", "gtin", "duplicate of line 4"),
        (6, "6901234567922", "gtin",
         f"the enterprise's product of this name, brand and model has GTIN {PHONE}"),
        (7, f"{E1} / 平板电脑 / 华测 / HC-P1", "uscc, name, brand, model", "duplicate of line 4"),
    ]),
    "spot-checks": (11, 1, [
        (2, "SJCC-2024-0101", "failed_items", "a FAIL names at least one failed item"),
        (3, "SJCC-2024-0102", "failed_items", "a PASS has no failed items"),
        (4, "SJCC-2024-0103", "gtin", "no product with GTIN 6901234567922"),
        (5, "SJCC-2024-0104", "gtin", "the product belongs to another enterprise"),
        (6, "SJCC-2024-0105", "gtin", "give the product's gtin, or product_name, brand and model"),
        (7, "SJCC-2024-0106",
         "failed_items.0.standard; failed_items.0.required; failed_items.0.measured",
         "required; required; required"),
        (8, "SJCC-2024-0107", "level",
         "Input should be 'NATIONAL', 'PROVINCIAL', 'MUNICIPAL' or 'INDUSTRY', got 'COUNTY'"),
        (9, "SJCC-2024-0108", "region_code", "no region with code 440399"),
        (10, "SJCC-2024-0109", "product_name",
         "the enterprise has no product 智能手表 / 华测 / HC-W1"),
        (11, "SJCC-2024-0110", "failed_items", "expected a JSON array, got 'not json'"),
    ]),
    "licences": (2, 0, [
        (2, "XK09-001-00003", "valid_until", "must not be before valid_from (2024-01-01)"),
        (3, "XK-1-3", "number", "a licence number looks like XK16-108-00001"),
    ]),
    "licence-events": (2, 0, [
        (2, "XK09-001-09999 / 2024-03-20T10:00:00+08:00 / SUSPENDED", "number",
         "no licence numbered XK09-001-09999"),
        (3, "XK16-108-00001 / 2024-03-20T10:00:00+08:00 / PAUSED", "status",
         "Input should be 'VALID', 'SUSPENDED', 'REVOKED', 'CANCELLED' or 'EXPIRED', got 'PAUSED'"),
    ]),
    "recalls": (3, 0, [
        (2, "ZH2024-101", "produced_until", "must not be before produced_from (2024-01-01)"),
        (3, "ZH2024-102", "affected_units", "Input should be greater than or equal to 0"),
        (4, "ZH2024-103", "gtin", "no product with GTIN 6901234567915"),
    ]),
    "consumer-warnings": (3, 0, [
        (2, "XFYJ-2024-11", "related_recalls", "no recall notice ZH2024-999"),
        (3, "XFYJ-2024-12", "related_products", "no product with GTIN 6901234567915"),
        (4, "XFYJ-2024-13", "severity",
         "Input should be 'LOW', 'MEDIUM', 'HIGH' or 'CRITICAL', got 'SEVERE'"),
    ]),
}  # fmt: skip


@pytest.mark.parametrize("kind", list(BAD_ROWS))
async def test_bad_rows_are_rejected_with_field_and_reason(
    sessionmaker: Sessionmaker, connection: AsyncConnection, tmp_path: Path, kind: str
) -> None:
    await load_with_needs(sessionmaker, tmp_path, kind)
    before = await snapshot(connection)
    expected_input, expected_accepted, expected_rejects = BAD_ROWS[kind]

    report = await load(sessionmaker, tmp_path, kind, DATA / "bad" / f"{kind}.csv")

    assert (report.input, report.accepted, report.rejected) == (
        expected_input,
        expected_accepted,
        len(expected_rejects),
    )
    assert report.accepted + report.rejected == report.input
    assert report.changed == expected_accepted
    assert rejects_of(report) == expected_rejects
    if expected_accepted == 0:
        assert await snapshot(connection) == before


async def test_the_first_of_duplicate_rows_is_the_one_stored(
    sessionmaker: Sessionmaker, connection: AsyncConnection, tmp_path: Path
) -> None:
    await load(sessionmaker, tmp_path, "enterprises", DATA / "bad" / "enterprises.csv")

    assert await rows(connection, Enterprise.uscc, Enterprise.name) == [
        (E4, "深圳新华测科技有限公司")
    ]


async def test_a_broken_json_line_is_a_rejected_row(
    sessionmaker: Sessionmaker, connection: AsyncConnection, tmp_path: Path
) -> None:
    report = await load(sessionmaker, tmp_path, "enterprises", DATA / "bad" / "broken-lines.jsonl")

    # The blank third line is no record.
    assert (report.input, report.accepted, report.rejected) == (3, 1, 2)
    assert rejects_of(report) == [
        (2, "", "", "not valid JSON (unexpected end of data: line 1 column 39 (char 38))"),
        (4, "", "", "not a JSON object but an array"),
    ]
    assert await rows(connection, Enterprise.uscc) == [(E4,)]


async def test_a_csv_with_a_byte_order_mark(
    sessionmaker: Sessionmaker, connection: AsyncConnection, tmp_path: Path
) -> None:
    report = await load(sessionmaker, tmp_path, "enterprises", DATA / "enterprises-bom.csv")

    assert (report.input, report.accepted, report.rejected) == (1, 1, 0)
    assert await rows(connection, Enterprise.uscc) == [(E4,)]


# Idempotency and formats --------------------------------------------------------------------


async def test_importing_every_file_twice_changes_nothing(
    sessionmaker: Sessionmaker, connection: AsyncConnection, tmp_path: Path
) -> None:
    for kind in ALL_KINDS:
        report = await load(sessionmaker, tmp_path, kind)
        assert (report.accepted, report.rejected) == (report.input, 0)
    for kind in BAD_ROWS:
        await load(sessionmaker, tmp_path, kind, DATA / "bad" / f"{kind}.csv")
    before = await snapshot(connection)

    for kind in ALL_KINDS:
        report = await load(sessionmaker, tmp_path, kind)
        assert (report.accepted, report.changed) == (report.input, 0)
    for kind in BAD_ROWS:
        report = await load(sessionmaker, tmp_path, kind, DATA / "bad" / f"{kind}.csv")
        assert report.changed == 0

    assert await snapshot(connection) == before


async def test_reimporting_a_changed_row_updates_that_row_only(
    sessionmaker: Sessionmaker, connection: AsyncConnection, tmp_path: Path
) -> None:
    await load(sessionmaker, tmp_path, "enterprises")
    before = {row[0]: row for row in await rows(connection, *STAMPED)}
    changed = tmp_path / "enterprises.csv"
    changed.write_text(
        (DATA / "enterprises.csv")
        .read_text(encoding="utf-8")
        .replace("杭州市西湖区文三路2号", "杭州市西湖区文三路20号"),
        encoding="utf-8",
    )

    report = await load(sessionmaker, tmp_path, "enterprises", changed)

    assert (report.accepted, report.changed) == (3, 1)
    after = {row[0]: row for row in await rows(connection, *STAMPED)}
    assert (after[E1], after[E3]) == (before[E1], before[E3])
    _, address, created_at, updated_at = after[E2]
    assert (address, created_at) == ("杭州市西湖区文三路20号", before[E2][2])
    assert updated_at > before[E2][3]


async def test_csv_and_json_lines_give_the_same_result(
    sessionmaker: Sessionmaker, connection: AsyncConnection, tmp_path: Path
) -> None:
    for kind in ("enterprises", "products", "spot-checks"):
        await load(sessionmaker, tmp_path, kind)
    from_csv = await snapshot(connection)

    enterprises = await load(sessionmaker, tmp_path, "enterprises", DATA / "enterprises.jsonl")
    spot_checks = await load(sessionmaker, tmp_path, "spot-checks", DATA / "spot-checks.jsonl")

    # Nothing differed from what the CSV files stored.
    assert (enterprises.accepted, enterprises.changed) == (3, 0)
    assert (spot_checks.accepted, spot_checks.changed) == (3, 0)
    assert await snapshot(connection) == from_csv
    assert enterprises.ignored_columns == ("id",)

    bad_csv = await load(sessionmaker, tmp_path, "enterprises", DATA / "bad" / "enterprises.csv")
    bad_jsonl = await load(
        sessionmaker, tmp_path, "enterprises", DATA / "bad" / "enterprises.jsonl"
    )
    assert (bad_jsonl.input, bad_jsonl.accepted, bad_jsonl.rejected) == (8, 1, 7)
    # JSON Lines have no header line, so every line number is one less.
    assert rejects_of(bad_jsonl) == [
        (line - 1, key, field, reason.replace("line 2", "line 1"))
        for line, key, field, reason in rejects_of(bad_csv)
    ]


# Malformed files ----------------------------------------------------------------------------

MALFORMED = [
    pytest.param(
        "enterprises",
        DATA / "malformed" / "not-utf8.csv",
        None,
        "not-utf8.csv is not UTF-8: line 3 has an invalid byte at position 20; "
        "save the file as UTF-8",
        id="not-utf8",
    ),
    pytest.param(
        "enterprises",
        DATA / "malformed" / "missing-columns.csv",
        None,
        "missing-columns.csv: the header lacks required column(s) "
        "legal_representative, source_agency",
        id="missing-columns",
    ),
    pytest.param(
        "enterprises",
        DATA / "malformed" / "no-object.jsonl",
        None,
        "no-object.jsonl: no line is a JSON object; JSON Lines files hold one object per line",
        id="no-json-object",
    ),
    pytest.param(
        "enterprises",
        DATA / "enterprises.csv",
        "jsonl",
        "enterprises.csv: no line is a JSON object; JSON Lines files hold one object per line",
        id="csv-read-as-jsonl",
    ),
    pytest.param(
        "factories",
        DATA / "enterprises.csv",
        None,
        "unknown kind 'factories'; choose one of: regions, enterprises, credit-evaluations, "
        "blacklist-entries, blacklist-removals, products, spot-checks, licences, "
        "licence-events, recalls, consumer-warnings",
        id="unknown-kind",
    ),
    pytest.param(
        "enterprises",
        DATA / "no-such-file.csv",
        None,
        f"cannot read {DATA / 'no-such-file.csv'}: No such file or directory",
        id="unreadable",
    ),
    pytest.param(
        "enterprises",
        DATA / "enterprises.xlsx",
        None,
        "cannot tell the format of enterprises.xlsx from its extension; "
        "name it .csv, .jsonl or .ndjson, or pass --format csv|jsonl",
        id="unknown-extension",
    ),
]


@pytest.mark.parametrize(("kind", "path", "fmt", "message"), MALFORMED)
async def test_a_malformed_file_is_refused_and_nothing_is_stored(
    sessionmaker: Sessionmaker,
    connection: AsyncConnection,
    tmp_path: Path,
    kind: str,
    path: Path,
    fmt: str | None,
    message: str,
) -> None:
    before = await snapshot(connection)

    # One row a batch: rows before the fault are written, and must be rolled back.
    with pytest.raises(ImportFileError) as refused:
        await load(sessionmaker, tmp_path, kind, path, fmt=fmt, batch_size=1)

    assert refused.value.message == message
    assert await snapshot(connection) == before
    assert files_in(tmp_path) == []


# Scale --------------------------------------------------------------------------------------


async def test_statements_grow_with_batches_not_rows(
    sessionmaker: Sessionmaker, statements: list[str], tmp_path: Path
) -> None:
    source = tmp_path / "many.csv"
    write_enterprises(source, 2500)

    report = await load(sessionmaker, tmp_path, "enterprises", source, progress=True)

    assert (report.input, report.accepted, report.changed) == (2500, 2500, 2500)
    upserts = [sql for sql in statements if sql.startswith("INSERT INTO enterprise ")]
    lookups = [sql for sql in statements if sql.startswith("SELECT")]
    # Three batches of at most 1,000 rows; region and industry codes looked up once.
    assert (len(upserts), len(lookups)) == (3, 2)


# The command --------------------------------------------------------------------------------


@pytest.fixture
async def cli_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    """A fresh migrated SQLite file that ``hub`` finds through HUB_DATABASE_URL."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()
    monkeypatch.setenv("HUB_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


async def count_enterprises(url: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            count = await connection.scalar(select(func.count()).select_from(Enterprise))
    finally:
        await engine.dispose()
    assert isinstance(count, int)
    return count


async def hub(*args: str) -> Any:
    # In a thread: the command runs its own event loop, and this test's loop is running.
    return await asyncio.to_thread(CliRunner().invoke, main, list(args))


async def test_cli_imports_and_writes_the_rejects_next_to_the_file(
    cli_database: str, tmp_path: Path
) -> None:
    source = tmp_path / "enterprises.csv"
    shutil.copy(DATA / "bad" / "enterprises.csv", source)

    result = await hub("import", "enterprises", str(source))

    assert result.exit_code == 0, result.output
    rejects = tmp_path / "enterprises.rejected.csv"
    assert re.fullmatch(
        rf"enterprises: 8 input, 1 accepted, 7 rejected \(rejects: {re.escape(str(rejects))}\); "
        r"1 new or changed, [\d,]+ rows/s\n",
        result.stdout,
    )
    with rejects.open(encoding="utf-8", newline="") as file:
        content = list(csv.reader(file))
    assert len(content) == 8
    assert content[0] == ["line", "key", "field", "reason", "row"]
    assert content[1] == [
        "3",
        "91440300MA5F000010",
        "uscc",
        "not a valid USCC (The number's checksum or check digit is invalid.)",
        source.read_text(encoding="utf-8").splitlines()[2],
    ]
    assert await count_enterprises(cli_database) == 1


async def test_cli_takes_format_and_rejects_options(cli_database: str, tmp_path: Path) -> None:
    source = tmp_path / "export.txt"
    shutil.copy(DATA / "enterprises.jsonl", source)
    rejects = tmp_path / "out" / "rejected.csv"
    rejects.parent.mkdir()

    result = await hub(
        "import", "enterprises", str(source), "--format", "jsonl", "--rejects", str(rejects)
    )

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        f"enterprises: 3 input, 3 accepted, 0 rejected (rejects: {rejects}); 3 new or changed, "
    )
    assert result.stderr == "ignored unknown field(s): id\n"
    assert rejects.read_text(encoding="utf-8") == "line,key,field,reason,row\n"
    assert await count_enterprises(cli_database) == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["enterprises", str(DATA / "malformed" / "missing-columns.csv")],
            "missing-columns.csv: the header lacks required column(s) "
            "legal_representative, source_agency",
        ),
        (
            ["enterprises", str(DATA / "malformed" / "not-utf8.csv")],
            "not-utf8.csv is not UTF-8: line 3 has an invalid byte at position 20; "
            "save the file as UTF-8",
        ),
        (
            ["factory", str(DATA / "enterprises.csv")],
            "unknown kind 'factory'; choose one of: regions, enterprises, credit-evaluations, "
            "blacklist-entries, blacklist-removals, products, spot-checks, licences, "
            "licence-events, recalls, consumer-warnings",
        ),
    ],
    ids=["missing-columns", "not-utf8", "unknown-kind"],
)
async def test_cli_refuses_a_malformed_file_with_one_message(
    cli_database: str, args: list[str], message: str
) -> None:
    result = await hub("import", *args)

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: {message}\n"
    assert await count_enterprises(cli_database) == 0


def test_cli_help_lists_every_kind_and_its_fields() -> None:
    result = CliRunner().invoke(main, ["import", "--help"], terminal_width=200)

    assert result.exit_code == 0
    listed = re.findall(r"^  ([a-z-]+) +(\S.*)$", result.stdout, re.MULTILINE)
    assert [kind for kind, _ in listed if kind in KINDS] == list(KINDS)
    assert ("licence-events", "number*, status*, at*, reason*") in listed
    assert (
        "products",
        "gtin, uscc*, name*, brand*, model*, category*, source_agency*, published_at",
    ) in listed


# An import that kills its own process (SIGKILL: nothing runs after it) in its second batch,
# with rejected rows already written.
_KILLED_IMPORT = """
import asyncio, os, signal, sys
from hub.db import create_engine, create_sessionmaker
from hub.importer import run

batches = 0
store = run.enqueue_import_batch

async def killing(*args):
    global batches
    batches += 1
    if batches == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    await store(*args)

run.enqueue_import_batch = killing

async def main():
    engine = create_engine(sys.argv[1])
    await run.run_import(create_sessionmaker(engine), "enterprises", sys.argv[2], batch_size=10)

asyncio.run(main())
"""


async def test_a_killed_import_leaves_nothing_beside_its_input(
    cli_database: str, tmp_path: Path
) -> None:
    # given: an input of 30 enterprises with a bad row among them, in a folder of its own
    folder = tmp_path / "input"
    folder.mkdir()
    source = folder / "enterprises.csv"
    write_enterprises(source, 30)
    with source.open("a", encoding="utf-8") as file:
        file.write("91440300MA5F000010,坏行,张三,ACTIVE,440300,C39,地址,2020-01-01,局,\n")

    # when: the import is killed half-way
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _KILLED_IMPORT, cli_database, str(source)
    )
    assert await process.wait() == -signal.SIGKILL

    # then: beside the input there is nothing, hidden or not; and nothing was stored
    assert files_in(folder) == [source]
    assert await count_enterprises(cli_database) == 0


async def test_an_import_removes_what_a_killed_one_left(
    sessionmaker: Sessionmaker, tmp_path: Path
) -> None:
    # given: the hidden file an import killed while it put its rejects in place leaves
    rejects = tmp_path / "enterprises.rejected.csv"
    leftover = tmp_path / ".enterprises.rejected.csv.partial"
    leftover.write_text("line,key,field,reason,row\n1,", encoding="utf-8")

    # when: the import runs again
    report = await run_import(
        sessionmaker, "enterprises", DATA / "bad" / "enterprises.csv", rejects=rejects
    )

    # then: only its complete rejects file is there
    assert files_in(tmp_path) == [rejects]
    assert len(rejects_of(report)) == report.rejected == 7
