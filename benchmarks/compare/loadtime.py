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
    fair_copy_seconds: float | None = None
    """COPY into tables without keys or indexes, then every key and index of the schema built,
    in one transaction: what pg_restore does, and the figure the seed is held to."""

    @property
    def seed_rate(self) -> float:
        return self.rows / self.seed_seconds

    @property
    def copy_rate(self) -> float | None:
        return self.rows / self.copy_seconds if self.copy_seconds else None

    @property
    def fair_copy_rate(self) -> float | None:
        return self.rows / self.fair_copy_seconds if self.fair_copy_seconds else None


def hub_command(*arguments: str, database_url: str) -> str:
    """Runs `hub ARGUMENTS` on ``database_url``; returns what it printed."""
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


def seed(
    server: Server, database: str, enterprises: int, *, index: bool = True
) -> tuple[float, float]:
    """Runs `hub demo seed`; returns (its reported load seconds, wall seconds).

    The command builds the embedded search index afterwards unless ``index`` is false; its
    reported seconds never include that.
    """
    started = time.perf_counter()
    output = hub_command(
        "demo",
        "seed",
        "--enterprises",
        str(enterprises),
        *([] if index else ["--no-index"]),
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


@dataclass(frozen=True, slots=True)
class CopyTimes:
    """Seconds of plain COPY of the seeded rows, three ways (see ``copy_times``)."""

    migrated: float
    bare: float
    fair: float


def copy_times(server: Server, database: str, work: Path, *, fair: bool = True) -> CopyTimes:
    """Seconds to COPY every seeded row into an empty, migrated copy of the schema, three ways.

    The rows are exported with binary COPY first; each timed part is one psql session that
    COPYs them back table by table in one transaction:

    - *migrated*: into the migrated schema, with its indexes and foreign keys in place, as a
      naive load would;
    - *bare*: into tables that have the columns and nothing else, the speed of COPY itself;
    - *fair*: into the migrated tables stripped of their primary keys, unique constraints,
      indexes and foreign keys, with their triggers disabled; then the keys and indexes are
      built, the foreign keys validated and the triggers enabled, in the same transaction
      (check and not-null constraints stay): what pg_restore does (it creates triggers after
      the data), and what a DBA loading a dump would do. Not run (0.0) with ``fair=False``.
    """
    target = f"{database}_copy"
    server.drop_database(target)
    server.create_database(target)
    directory = Path(tempfile.mkdtemp(prefix="copy.", dir=work))
    try:
        hub_command("db", "upgrade", database_url=server.sqlalchemy_url(target))
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
        bare += [
            f"CREATE TABLE bare.{table} (LIKE public.{table} INCLUDING DEFAULTS);"
            for table in TABLES
        ]
        server.psql(target, "\n".join(bare))
        bare_load = [line.replace("\\copy ", "\\copy bare.", 1) for line in load]
        started = time.perf_counter()
        server.psql(target, "BEGIN;\n" + "\n".join(bare_load) + "\nCOMMIT;\n")
        bare_seconds = time.perf_counter() - started
        fair_seconds = 0.0
        if fair:
            server.psql(target, "DROP SCHEMA bare CASCADE;")
            build = _strip_keys_and_indexes(server, target)
            started = time.perf_counter()
            server.psql(target, "BEGIN;\n" + "\n".join(load + build) + "\nCOMMIT;\n")
            fair_seconds = time.perf_counter() - started
        return CopyTimes(migrated, bare_seconds, fair_seconds)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
        server.drop_database(target)


def _strip_keys_and_indexes(server: Server, database: str) -> list[str]:
    """Empty the seeded tables, drop their keys and indexes and disable their triggers;
    returns the statements that undo it, in pg_restore's order: keys and unique constraints,
    indexes, foreign keys, triggers.
    """
    tables = ", ".join(f"'{table}'" for table in TABLES)
    seeded = f"conrelid::regclass::text IN ({tables})"
    referencing = f"({seeded} OR confrelid::regclass::text IN ({tables}))"
    separator = "\x1f"

    def rows(sql: str) -> list[list[str]]:
        output = server.psql(database, sql)
        return [line.split(separator) for line in output.splitlines() if line]

    def constraints(kinds: str, where: str) -> list[list[str]]:
        return rows(
            f"SELECT conrelid::regclass::text || E'{separator}' || conname || E'{separator}' "
            f"|| pg_get_constraintdef(oid) FROM pg_constraint "
            f"WHERE contype IN ({kinds}) AND {where} ORDER BY 1"
        )

    foreign = constraints("'f'", referencing)
    keys = constraints("'p', 'u'", seeded)
    indexes = rows(
        f"SELECT indexrelid::regclass::text || E'{separator}' || pg_get_indexdef(indexrelid) "
        f"FROM pg_index WHERE indrelid::regclass::text IN ({tables}) AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint WHERE conindid = pg_index.indexrelid) ORDER BY 1"
    )
    drop = [f'ALTER TABLE {table} DROP CONSTRAINT "{name}";' for table, name, _ in foreign]
    drop += [f"TRUNCATE {', '.join(TABLES)};"]
    drop += [f'ALTER TABLE {table} DROP CONSTRAINT "{name}";' for table, name, _ in keys]
    drop += [f'DROP INDEX "{name}";' for name, _ in indexes]
    drop += [f"ALTER TABLE {table} DISABLE TRIGGER USER;" for table in TABLES]
    server.psql(database, "\n".join(drop))
    build = [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {d};' for table, name, d in keys]
    build += [f"{definition};" for _, definition in indexes]
    build += [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {d};' for table, name, d in foreign]
    build += [f"ALTER TABLE {table} ENABLE TRIGGER USER;" for table in TABLES]
    return build


def main(argv: list[str] | None = None) -> None:
    """Load time alone: seed a fresh database on a running server, then time plain COPY."""
    import argparse
    from datetime import datetime

    from benchmarks.compare.postgres import server_of

    parser = argparse.ArgumentParser(prog="python -m benchmarks.compare.loadtime")
    parser.add_argument("--postgres-url", required=True, help="a superuser on a running server")
    parser.add_argument("--enterprises", type=int, default=200_000)
    parser.add_argument("--no-copy", action="store_true", help="time the seed only")
    options = parser.parse_args(argv)
    server = server_of(options.postgres_url)
    database = f"loadtime_{datetime.now():%Y%m%d_%H%M%S}_{os.getpid()}"
    server.create_database(database)
    work = Path(tempfile.mkdtemp(prefix="loadtime."))
    try:
        load = os.getloadavg()
        seed_seconds, wall = seed(server, database, options.enterprises, index=False)
        rows = sum(row_counts(server, database).values())
        print(
            f"hub demo seed: {rows:,} rows in {seed_seconds:.1f} s, {rows / seed_seconds:,.0f} "
            f"rows/s (command {wall:.1f} s, no search index); load average before {load[0]:.2f}, "
            f"after {os.getloadavg()[0]:.2f}",
            flush=True,
        )
        if options.no_copy:
            return
        times = copy_times(server, database, work)
        for name, seconds in (
            ("into the migrated schema", times.migrated),
            ("into bare tables", times.bare),
            ("into bare tables, then keys and indexes (fair)", times.fair),
        ):
            print(
                f"plain COPY {name}: {seconds:.1f} s, {rows / seconds:,.0f} rows/s, "
                f"seed / COPY rate {seconds / seed_seconds:.2f}"
            )
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        server.drop_database(database)


if __name__ == "__main__":
    main()
