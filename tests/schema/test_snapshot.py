"""The committed SDL is the published contract: it must equal what the code prints."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from hub.auth.principal import Tier
from hub.cli import main
from schema.build import build_schema

SNAPSHOT = Path(__file__).resolve().parents[2] / "schema" / "public.graphql"


def test_public_snapshot_is_current() -> None:
    printed = build_schema(Tier.PUBLIC).as_str() + "\n"
    assert printed == SNAPSHOT.read_text(encoding="utf-8"), (
        "schema/public.graphql is stale: run `hub schema print > schema/public.graphql` "
        "and review the diff"
    )


@pytest.mark.parametrize("tier", [Tier.PARTNER, Tier.INTERNAL], ids=lambda tier: tier.label)
def test_partner_and_internal_snapshots_are_current(tier: Tier) -> None:
    snapshot = SNAPSHOT.with_name(f"{tier.label}.graphql")
    printed = build_schema(tier).as_str() + "\n"
    assert printed == snapshot.read_text(encoding="utf-8"), (
        f"schema/{tier.label}.graphql is stale: run "
        f"`hub schema print --tier {tier.label} > schema/{tier.label}.graphql` and review the diff"
    )


def test_cli_prints_the_snapshot() -> None:
    result = CliRunner().invoke(main, ["schema", "print", "--tier", "public"])
    assert result.exit_code == 0
    assert result.output == SNAPSHOT.read_text(encoding="utf-8")
