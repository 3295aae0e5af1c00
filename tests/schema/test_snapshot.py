"""The committed SDL is the published contract: it must equal what the code prints."""

from __future__ import annotations

from pathlib import Path

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


def test_cli_prints_the_snapshot() -> None:
    result = CliRunner().invoke(main, ["schema", "print", "--tier", "public"])
    assert result.exit_code == 0
    assert result.output == SNAPSHOT.read_text(encoding="utf-8")
