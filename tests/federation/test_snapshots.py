"""The committed subgraph SDL is part of the published contract: it must equal what is printed."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from hub.auth.principal import Tier
from hub.cli import main
from schema.federation import Subgraph
from schema.federation.schema import build_subgraph
from tests.federation.peers import ROOT

SNAPSHOTS = ROOT / "schema" / "subgraphs"


@pytest.mark.parametrize("tier", list(Tier), ids=lambda tier: tier.label)
@pytest.mark.parametrize("subgraph", list(Subgraph), ids=str)
def test_subgraph_snapshot_is_current(subgraph: Subgraph, tier: Tier) -> None:
    snapshot = SNAPSHOTS / tier.label / f"{subgraph}.graphql"
    printed = build_subgraph(subgraph, tier).as_str() + "\n"
    assert snapshot.is_file() and printed == snapshot.read_text(encoding="utf-8"), (
        f"{snapshot.relative_to(ROOT)} is stale: run `hub schema print --tier {tier.label} "
        f"--subgraph {subgraph} > {snapshot.relative_to(ROOT)}` and review the diff"
    )


def test_no_snapshot_of_a_subgraph_that_is_gone() -> None:
    committed = {path.relative_to(SNAPSHOTS).as_posix() for path in SNAPSHOTS.rglob("*.graphql")}
    assert committed == {f"{tier.label}/{s}.graphql" for tier in Tier for s in Subgraph}


def test_cli_prints_a_subgraph() -> None:
    result = CliRunner().invoke(
        main, ["schema", "print", "--tier", "partner", "--subgraph", "licensing"]
    )
    assert result.exit_code == 0, result.output
    assert result.output == (SNAPSHOTS / "partner" / "licensing.graphql").read_text("utf-8")


def test_cli_refuses_an_unknown_subgraph() -> None:
    result = CliRunner().invoke(main, ["schema", "print", "--subgraph", "payments"])
    assert result.exit_code == 2
    assert "'payments' is not one of 'credit', 'quality'" in result.output
