"""Generating load: wrk (with wrk.lua) for the GraphQL servers, pgbench for PostgreSQL itself.

Every run reports the same figures: requests, seconds, p50, p95 and p99 latency, errors; the
statements PostgreSQL executed during the run come from ``StatementCounter``.
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.compare.postgres import Server
from benchmarks.compare.workloads import Contestant, Workload, pgbench_script

WRK_SCRIPT = Path(__file__).resolve().parent / "wrk.lua"


@dataclass(frozen=True, slots=True)
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    p95_ms: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass(frozen=True, slots=True)
class LoadShape:
    duration: float
    connections: int
    threads: int


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is not installed (benchmarks/run installs it: apt-get install)")
    return found


def write_wrk_config(
    workload: Workload,
    contestant: Contestant,
    keys: Path,
    directory: Path,
    seed: int,
    authorization: str | None = None,
) -> Path:
    """wrk.lua's configuration for one workload and contestant; ``authorization`` is the
    Authorization header of every request (a partner's bearer token), if any. A page
    workload's requests are GETs of its path, with no body."""
    if workload.page is not None:
        request = f"page={workload.page}"
    else:
        document = workload.documents[contestant]
        body = directory / f"{workload.key}-{contestant}.body"
        if workload.batch == 0:
            body.write_text(json.dumps({"query": document}, ensure_ascii=False))
        else:
            # Everything up to the variables, which wrk.lua appends for each request.
            start = json.dumps({"query": document}, ensure_ascii=False)[:-1]
            body.write_text(start + ', "variables": {')
        request = f"body={body}"
    config = directory / f"{workload.key}-{contestant}.conf"
    lines = [
        f"batch={workload.batch}",
        f"names={','.join(workload.keys)}",
        request,
        f"keys={keys}",
        f"zipf={workload.zipf}",
        f"seed={seed}",
    ]
    if authorization is not None:
        lines.append(f"authorization={authorization}")
    config.write_text("\n".join(lines) + "\n")
    return config


def run_wrk(url: str, config: Path, shape: LoadShape) -> LoadResult:
    command = [
        tool("wrk"),
        f"-t{shape.threads}",
        f"-c{shape.connections}",
        f"-d{shape.duration:g}s",
        "--timeout",
        "10s",
        "-s",
        str(WRK_SCRIPT),
        url,
        "--",
        str(config),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRK_RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout}\n{done.stderr}")
    figures = json.loads(line.removeprefix("WRK_RESULT "))
    return LoadResult(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        errors=figures["socket_errors"] + figures["bad_responses"],
        p95_ms=figures["p95_us"] / 1000,
    )


def run_pgbench(
    server: Server, database: str, script: Path, shape: LoadShape, directory: Path
) -> LoadResult:
    """pgbench with prepared statements; latency percentiles from its per-transaction log."""
    for old in directory.glob("pgbench_log*"):
        old.unlink()
    prefix = directory / "pgbench_log"
    command = [
        tool("pgbench"),
        "-n",
        "-M",
        "prepared",
        "-c",
        str(shape.connections),
        "-j",
        str(shape.threads),
        "-T",
        str(max(1, round(shape.duration))),
        "-f",
        str(script),
        "-l",
        f"--log-prefix={prefix}",
        "-h",
        server.host,
        "-p",
        str(server.port),
        "-U",
        server.user,
        database,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    output = done.stdout + done.stderr
    processed = re.search(r"number of transactions actually processed: (\d+)", output)
    if processed is None:
        raise RuntimeError(f"pgbench failed ({done.returncode}):\n{output}")
    failed = re.search(r"number of failed transactions: (\d+)", output)
    latencies: list[int] = []
    for log in directory.glob("pgbench_log*"):
        for row in log.read_text().splitlines():
            fields = row.split()
            if len(fields) >= 3 and fields[2].isdigit():
                latencies.append(int(fields[2]))
    latencies.sort()
    seconds = float(max(1, round(shape.duration)))

    def percentile(share: float) -> float:
        if not latencies:
            return 0.0
        return latencies[min(len(latencies) - 1, int(len(latencies) * share))] / 1000

    errors = int(failed.group(1)) if failed else 0
    if done.returncode != 0:
        errors = max(errors, 1)
    return LoadResult(
        requests=int(processed.group(1)),
        seconds=seconds,
        p50_ms=percentile(0.5),
        p99_ms=percentile(0.99),
        errors=errors,
        p95_ms=percentile(0.95),
    )


def write_pgbench_script(
    workload: Workload,
    contestant: Contestant,
    enterprises: int,
    directory: Path,
) -> Path:
    path = directory / f"{workload.key}-{contestant}.sql"
    path.write_text(pgbench_script(workload, contestant, enterprises))
    return path


class StatementCounter:
    """Statements PostgreSQL ran for the benchmark database, as pg_stat_statements counts them.

    Where the server does not preload pg_stat_statements (the test suite's server), it counts
    transactions instead (pg_stat_database.xact_commit + xact_rollback), and says so.
    """

    def __init__(self, server: Server, database: str) -> None:
        self.server = server
        self.database = database
        try:
            server.psql(database, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            server.psql(database, "SELECT count(*) FROM pg_stat_statements")
            self.source = "pg_stat_statements"
        except RuntimeError:
            self.source = "pg_stat_database transactions"

    @property
    def counts_statements(self) -> bool:
        return self.source == "pg_stat_statements"

    def reset(self) -> tuple[int, int]:
        if self.counts_statements:
            self.server.psql(self.database, "SELECT pg_stat_statements_reset()")
            return (0, 0)
        return self._read()

    def since(self, start: tuple[int, int]) -> tuple[int, int]:
        """(all statements, SELECT statements) since ``start``; transactions twice otherwise."""
        if not self.counts_statements:
            time.sleep(1.2)  # backends flush their statistics at most once a second
        now = self._read()
        return (now[0] - start[0], now[1] - start[1])

    def _read(self) -> tuple[int, int]:
        if self.counts_statements:
            # Read from the benchmark database itself; the harness's own statements name the view.
            row = self.server.psql(
                self.database,
                "SELECT coalesce(sum(calls), 0), coalesce(sum(calls) FILTER "
                r"(WHERE query ~* '^\s*(select|with)\M'), 0) FROM pg_stat_statements s "
                f"JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = '{self.database}' "
                "AND s.query NOT LIKE '%pg_stat_statements%'",
            )
        else:
            row = self.server.psql(
                "postgres",
                "SELECT pg_stat_clear_snapshot(); SELECT xact_commit + xact_rollback, "
                "xact_commit + xact_rollback FROM pg_stat_database "
                f"WHERE datname = '{self.database}'",
            ).splitlines()[-1]
        total, selects = row.split("|")
        return int(total), int(selects)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0
