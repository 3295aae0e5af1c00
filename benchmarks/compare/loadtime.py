"""Load time: rows per second of `hub demo seed`, and of plain COPY of the same rows."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.compare.postgres import Server
from hub.demo.generator import TABLES


@dataclass(frozen=True, slots=True)
class LoadTime:
    rows: int
    seed_seconds: float
    """What `hub demo seed` reports for its load (migration and process start excluded)."""
    seed_wall_seconds: float
    """The whole `hub demo seed` command."""
    copy_seconds: float | None
    """Plain COPY of the same rows into an empty migrated database; None if skipped."""
    bare_copy_seconds: float | None = None
    """COPY of the same rows into bare tables (columns only: no index, no constraint)."""

    @property
    def seed_rate(self) -> float:
        return self.rows / self.seed_seconds

    @property
    def copy_rate(self) -> float | None:
        return self.rows / self.copy_seconds if self.copy_seconds else None


def _hub(*arguments: str, database_url: str) -> str:
    hub = shutil.which("hub", path=str(Path(sys.executable).parent)) or "hub"
    done = subprocess.run(
        [hub, *arguments],
        env={**os.environ, "HUB_DATABASE_URL": database_url, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"hub {' '.join(arguments)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def seed(server: Server, database: str, enterprises: int) -> tuple[float, float]:
    """Runs `hub demo seed`; returns (its reported load seconds, wall seconds)."""
    started = time.perf_counter()
    output = _hub(
        "demo",
        "seed",
        "--enterprises",
        str(enterprises),
        database_url=server.sqlalchemy_url(database),
    )
    wall = time.perf_counter() - started
    reported = re.search(r"rows in ([\d.]+) s", output)
    return (float(reported.group(1)) if reported else wall), wall


def row_counts(server: Server, database: str) -> dict[str, int]:
    sql = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM {t}" for t in TABLES)
    return {
        name: int(count)
        for name, count in (line.split("|") for line in server.psql(database, sql).splitlines())
    }


def plain_copy(server: Server, database: str, work: Path) -> tuple[float, float]:
    """Seconds to COPY every seeded row into an empty, migrated copy of the schema, and into
    bare tables.

    The rows are exported with binary COPY first; each timed part is one psql session that
    COPYs them back table by table in one transaction: first into the migrated schema, with
    its indexes and foreign keys in place, as a plain load would; then into tables that have
    the columns and nothing else, the speed of COPY itself.
    """
    target = f"{database}_copy"
    server.drop_database(target)
    server.create_database(target)
    directory = Path(tempfile.mkdtemp(prefix="copy.", dir=work))
    try:
        _hub("db", "upgrade", database_url=server.sqlalchemy_url(target))
        export, load = [], []
        for table, columns in TABLES.items():
            file = directory / f"{table}.bin"
            names = ", ".join(columns)
            export.append(f"\\copy {table} ({names}) TO '{file}' WITH (FORMAT binary)")
            load.append(f"\\copy {table} ({names}) FROM '{file}' WITH (FORMAT binary)")
        server.psql(database, "\n".join(export) + "\n")
        started = time.perf_counter()
        server.psql(target, "BEGIN;\n" + "\n".join(load) + "\nCOMMIT;\n")
        migrated = time.perf_counter() - started
        bare = ["CREATE SCHEMA bare;"]
        bare += [f"CREATE TABLE bare.{table} (LIKE public.{table});" for table in TABLES]
        server.psql(target, "\n".join(bare))
        load = [line.replace("\\copy ", "\\copy bare.", 1) for line in load]
        started = time.perf_counter()
        server.psql(target, "BEGIN;\n" + "\n".join(load) + "\nCOMMIT;\n")
        return migrated, time.perf_counter() - started
    finally:
        shutil.rmtree(directory, ignore_errors=True)
        server.drop_database(target)
