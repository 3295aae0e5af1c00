"""The benchmark peers (wrk, pgbench, PostGraphile on Node 22) for the tests of benchmarks/."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PEERS_ENV = "HUB_TEST_BENCH_PEERS"


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


@pytest.fixture(scope="session")
def bench_environment() -> dict[str, str]:
    """The environment with the peers installed and named (scripts/test exports them)."""
    return dict(os.environ) if os.environ.get(PEERS_ENV) else _install_peers()
