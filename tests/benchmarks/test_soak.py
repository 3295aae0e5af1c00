"""The soak of benchmarks/soak.py, 20 seconds end to end, so that it cannot rot.

A real `hub serve` on a fresh PostgreSQL database of the server scripts/test starts, with 300
demo enterprises; the mixed public and partner workloads from 8 clients. At this length the
RSS and connection goals mean little; what is checked is the report (a line per interval, the
summary and its JSON) and that no request failed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.federation.peers import free_ports
from tests.fixtures.databases import postgres_admin_url

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def soak(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    report = tmp_path_factory.mktemp("soak") / "soak.json"
    command = [
        sys.executable, "-m", "benchmarks.soak",
        "--postgres-url", postgres_admin_url(),
        "--duration", "20",
        "--interval", "5",
        "--baseline", "5",
        "--connections", "8",
        "--enterprises", "300",
        "--port", str(free_ports(1)[0]),
        "--json", str(report),
    ]  # fmt: skip
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout, json.loads(report.read_text())


def test_one_line_per_interval_and_a_summary(soak: tuple[str, dict[str, Any]]) -> None:
    printed, summary = soak
    lines = printed.splitlines()
    intervals = [line for line in lines if line.startswith("t=")]
    assert len(intervals) == len(summary["intervals"]) == 4
    for line in intervals:
        for part in ("requests=", "errors=0", "rss=", "clients=8", "other=", "postgres="):
            assert part in line, line
    assert lines[-1].startswith("summary: ")
    assert set(summary) == {
        "duration_seconds",
        "requests",
        "requests_per_second",
        "errors",
        "error_examples",
        "rss_baseline_mb",
        "rss_max_mb",
        "rss_min_mb",
        "rss_within_10_percent",
        "connections_grew",
        "ok",
        "intervals",
        "hub_exit_status",
    }


def test_no_request_failed_and_the_hub_stopped_cleanly(soak: tuple[str, dict[str, Any]]) -> None:
    _, summary = soak
    assert summary["errors"] == 0, summary["error_examples"]
    assert summary["error_examples"] == []
    assert summary["requests"] == sum(i["requests"] for i in summary["intervals"])
    assert summary["requests"] > 0
    assert summary["hub_exit_status"] == 0
    for interval in summary["intervals"]:
        assert interval["rss_mb"] > 0
        assert interval["client_connections"] == 8
        # the hub's pool and this soak's own probe are PostgreSQL's sessions of the database
        assert interval["postgres_connections"] >= 1
        assert interval["other_connections"] >= 1
