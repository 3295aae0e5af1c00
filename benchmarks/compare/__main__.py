"""``python -m benchmarks.compare``: the command line of benchmarks/run."""

from __future__ import annotations

import argparse
import signal
from pathlib import Path

from benchmarks.compare.run import Options, free_ports, run
from benchmarks.compare.workloads import WORKLOADS


def parse(argv: list[str] | None = None) -> Options:
    defaults = Options()
    parser = argparse.ArgumentParser(
        prog="benchmarks/run",
        description="The hub against PostGraphile v5 and pgbench on the same database.",
    )
    parser.add_argument("--enterprises", type=int, default=defaults.enterprises)
    parser.add_argument(
        "--duration",
        type=float,
        default=defaults.duration,
        help="seconds per contestant, workload and round",
    )
    parser.add_argument("--warmup", type=float, default=defaults.warmup)
    parser.add_argument("--rounds", type=int, default=defaults.rounds)
    parser.add_argument(
        "--connections",
        type=int,
        default=defaults.connections,
        help="of the load generators (P1 keeps its own 8, issue 14's concurrent clients)",
    )
    parser.add_argument("--threads", type=int, default=defaults.threads)
    parser.add_argument(
        "--workloads",
        default=",".join(defaults.workloads),
        help=f"comma-separated, of {', '.join(WORKLOADS)}",
    )
    parser.add_argument(
        "--hub-workers",
        default=",".join(map(str, defaults.hub_workers)),
        help="a number, or several to try on W1 and keep the fastest",
    )
    parser.add_argument("--calibration-seconds", type=float, default=defaults.calibration_seconds)
    parser.add_argument(
        "--postgres-url", help="use this server (a fresh database on it) instead of starting one"
    )
    parser.add_argument("--postgres-port", type=int, default=defaults.postgres_port)
    parser.add_argument("--shared-buffers", default=defaults.shared_buffers)
    parser.add_argument("--hub-port", type=int, default=defaults.hub_port)
    parser.add_argument("--postgraphile-port", type=int, default=defaults.postgraphile_port)
    parser.add_argument(
        "--no-plain-copy", action="store_true", help="skip timing plain COPY of the seeded rows"
    )
    parser.add_argument(
        "--profile",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="profile the hub with py-spy under W1 for this long",
    )
    parser.add_argument(
        "--open-loop",
        type=float,
        default=None,
        metavar="SECONDS",
        help="seconds per contestant and round at a fixed arrival rate (half PostGraphile's "
        "peak) with vegeta, on W1, W2 and W5; default: --duration; 0: none",
    )
    parser.add_argument(
        "--open-loop-max-workers",
        type=int,
        default=defaults.open_loop_max_workers,
        help="vegeta's most requests in flight",
    )
    parser.add_argument(
        "--search",
        action="store_true",
        help="W4: run benchmarks/search_latency.py on the same database",
    )
    parser.add_argument("--output", type=Path, default=defaults.output)
    parser.add_argument("--json", type=Path, help="also write the whole result as JSON here")
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument(
        "--from-database",
        metavar="NAME",
        help="with --postgres-url: measure a copy of this database of the server, seeded "
        "before with --enterprises (hub demo seed), instead of seeding; no load time",
    )
    parser.add_argument("--cpus", help="taskset CPU list for the whole run, e.g. 0-1")
    a = parser.parse_args(argv)
    if a.from_database is not None and a.postgres_url is None:
        parser.error("--from-database names a database of --postgres-url's server")
    unknown = set(a.workloads.split(",")) - set(WORKLOADS)
    if unknown:
        parser.error(f"unknown workloads: {', '.join(sorted(unknown))}")
    return Options(
        enterprises=a.enterprises,
        duration=a.duration,
        warmup=a.warmup,
        rounds=a.rounds,
        connections=a.connections,
        threads=a.threads,
        workloads=tuple(a.workloads.split(",")),
        hub_workers=tuple(int(w) for w in a.hub_workers.split(",")),
        calibration_seconds=a.calibration_seconds,
        postgres_url=a.postgres_url,
        postgres_port=a.postgres_port,
        shared_buffers=a.shared_buffers,
        hub_port=a.hub_port,
        postgraphile_port=a.postgraphile_port,
        plain_copy=not a.no_plain_copy,
        profile_seconds=a.profile,
        search=a.search,
        output=a.output,
        json_output=a.json,
        keep_database=a.keep_database,
        from_database=a.from_database,
        cpus=a.cpus,
        open_loop_seconds=a.open_loop,
        open_loop_max_workers=a.open_loop_max_workers,
    )


def _exit_cleanly(signum: int, _frame: object) -> None:
    # SystemExit unwinds the run's ExitStack: servers stopped, databases dropped.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> None:
    # A background job of a non-interactive shell starts with SIGINT ignored; both signals
    # should stop the run and what it started, not the harness alone.
    signal.signal(signal.SIGINT, _exit_cleanly)
    signal.signal(signal.SIGTERM, _exit_cleanly)
    run(free_ports(parse(argv)))


if __name__ == "__main__":
    main()
