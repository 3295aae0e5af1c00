"""The benchmark of benchmarks/run, small and end to end, so that it cannot rot.

Real PostgreSQL (a fresh database on the server scripts/test starts), real `hub serve`, real
PostGraphile on Node 22, real pgbench and wrk: 1,000 enterprises, two seconds per contestant,
workload and round. The figures mean nothing at this size; what is checked is that every
contestant answers every workload without an error, that the hub and PostGraphile return the
same data, and that the table is written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks.compare.workloads import WORKLOADS, Contestant
from tests.fixtures.databases import postgres_admin_url

ROOT = Path(__file__).resolve().parents[2]
PEERS_ENV = "HUB_TEST_BENCH_PEERS"

pytestmark = pytest.mark.postgres


def _install_peers() -> dict[str, str]:
    """What scripts/test's benchpeers service does, for a run that did not start it."""
    script = (
        "source scripts/lib/log.sh && source scripts/lib/benchpeers.sh && benchpeers_start >&2 "
        f'&& printf "%s\\n%s\\n" "${PEERS_ENV}" "$HUB_BENCH_NODE"'
    )
    done = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=900, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"installing the benchmark peers failed:\n{done.stderr[-3000:]}", pytrace=False)
    peers, node = done.stdout.split()
    return {**os.environ, PEERS_ENV: peers, "HUB_BENCH_NODE": node}


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    url = postgres_admin_url()
    environment = os.environ if os.environ.get(PEERS_ENV) else _install_peers()
    output = tmp_path_factory.mktemp("benchmark")
    command = [
        sys.executable, "-m", "benchmarks.compare",
        "--postgres-url", url,
        "--enterprises", "1000",
        "--duration", "2",
        "--warmup", "1",
        "--rounds", "2",
        "--hub-workers", "1",
        "--output", str(output),
        "--json", str(output / "result.json"),
    ]  # fmt: skip
    done = subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result: dict[str, Any] = json.loads((output / "result.json").read_text())
    result["tables"] = sorted(output.glob("*.md"))
    return result


def test_the_table_is_written_and_printed(smoke: dict[str, Any]) -> None:
    (table,) = smoke["tables"]
    text = table.read_text()
    assert text == smoke["report"]
    assert "| workload | contestant | requests/s |" in text
    assert "## Load time" in text
    for workload in WORKLOADS:
        assert f"| {workload} | hub |" in text
        assert f"| {workload} | PostGraphile |" in text


def test_every_contestant_serves_every_workload_without_errors(smoke: dict[str, Any]) -> None:
    runs = smoke["measurements"]
    seen = {(m["workload"], m["contestant"], m["round"]) for m in runs}
    assert seen == {(w, str(c), r) for w in WORKLOADS for c in Contestant for r in (1, 2)}
    for m in runs:
        assert m["requests"] > 0, m
        assert m["errors"] == 0, m
        if m["contestant"] in (Contestant.HUB, Contestant.POSTGRAPHILE):
            assert m["peak_memory_bytes"] > 0, m


def test_hub_and_postgraphile_return_the_same_data(smoke: dict[str, Any]) -> None:
    assert set(smoke["same_data"]) == set(WORKLOADS)
    for workload, check in smoke["same_data"].items():
        assert check["errors"] == {}, workload
        assert check["same"] is True, check


def test_load_time_of_the_seed_and_of_plain_copy(smoke: dict[str, Any]) -> None:
    load = smoke["load_time"]
    assert load["tables"]["enterprise"] == 1000
    assert load["rows"] == sum(load["tables"].values())
    assert load["seed_seconds"] > 0
    assert load["copy_seconds"] > 0
    assert load["bare_copy_seconds"] > 0
    assert load["fair_copy_seconds"] > 0
