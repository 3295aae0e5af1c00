"""`hub audit` lists the personal-data reads recorded by the API."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from hub.auth.audit import AuditRepository, PersonalRead
from hub.auth.principal import Principal, Tier
from hub.cli import main
from hub.config import get_settings
from hub.db import create_engine, create_sessionmaker
from hub.migrate import upgrade


def test_audit_lists_recent_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"

    async def record() -> None:
        engine = create_engine(url)
        await upgrade(engine)
        async with create_sessionmaker(engine)() as session:
            repository = AuditRepository(session)
            await repository.write(
                Principal(tier=Tier.PARTNER, client_id="mofcom", subject="svc"),
                "req-0001",
                [PersonalRead("Enterprise", 7, "legalRepresentativePhone")],
            )
            await repository.write(
                Principal(tier=Tier.INTERNAL, client_id="samr", subject="analyst"),
                "req-0002",
                [
                    PersonalRead("Complaint", 3, "complainantName"),
                    PersonalRead("Complaint", 3, "complainantPhone"),
                ],
            )
            await session.commit()
        await engine.dispose()

    asyncio.run(record())
    monkeypatch.setenv("HUB_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        everything = CliRunner().invoke(main, ["audit"])
        one_client = CliRunner().invoke(main, ["audit", "--client", "mofcom"])
    finally:
        get_settings.cache_clear()

    assert everything.exit_code == 0, everything.output
    assert "Complaint:3" in everything.output
    assert "complainantName, complainantPhone" in everything.output
    assert everything.output.index("Complaint:3") < everything.output.index("Enterprise:7")
    assert one_client.exit_code == 0
    assert "Enterprise:7" in one_client.output and "Complaint:3" not in one_client.output
    assert datetime.now(UTC).strftime("%Y-%m-%d") in one_client.output
