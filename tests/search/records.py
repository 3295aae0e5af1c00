"""Many enterprises at once, written the way production writes them: through ``hub import``.

Each enterprise is known by a number; its USCC follows from it, so a second file with other
names renames the same records (an upsert), which raises their search versions and queues
their documents, as renaming with ``hub import`` does.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker
from stdnum.cn import uscc as stdnum_uscc

from hub.db import HubSession
from hub.enterprise.models import Enterprise
from hub.importer.run import run_import

HEADER = (
    "uscc,name,legal_representative,status,region_code,industry_code,address,"
    "established_on,source_agency,published_at\n"
)


def uscc(number: int) -> str:
    body = f"91440300MA{number:07d}"
    return body + str(stdnum_uscc.calc_check_digit(body))


async def import_enterprises(
    sessionmaker: async_sessionmaker[HubSession], directory: Path, names: Mapping[int, str]
) -> None:
    """Store (or rename) the enterprises ``number -> name``, published, in one import."""
    source = directory / f"enterprises-{uuid.uuid4().hex[:8]}.csv"
    lines = [
        f"{uscc(n)},{name},张三,ACTIVE,440300,C39,深圳市南山区{n}号,2020-01-01,"
        f"广东省市场监督管理局,2024-01-02T03:04:05+08:00\n"
        for n, name in names.items()
    ]
    source.write_text(HEADER + "".join(lines), encoding="utf-8")
    report = await run_import(
        sessionmaker, "enterprises", source, rejects=directory / "rejected.csv"
    )
    assert (report.accepted, report.rejected) == (len(names), 0)


async def ids_of(
    sessionmaker: async_sessionmaker[HubSession], numbers: list[int]
) -> dict[int, int]:
    """number -> enterprise id."""
    by_uscc = {uscc(n): n for n in numbers}
    async with sessionmaker() as session:
        rows = await session.execute(
            select(Enterprise.uscc, Enterprise.id).where(Enterprise.uscc.in_(list(by_uscc)))
        )
        return {by_uscc[code]: ref_id for code, ref_id in rows.all()}
