"""Where the hub's time goes under load: py-spy samples every hub process, summarised."""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

# Where a sampled frame's own time is booked, by the start of its file's path as py-spy prints
# it (relative to sys.path: "sqlalchemy/orm/session.py", "hub/db.py"); first match wins.
COMPONENTS: list[tuple[str, str]] = [
    ("asyncpg/", "asyncpg (driver)"),
    ("sqlalchemy/", "SQLAlchemy (ORM, core, pool)"),
    ("graphql/", "graphql-core (parse, validate, execute)"),
    ("strawberry/", "Strawberry (schema, extensions, views, DataLoader)"),
    ("starlette/", "Starlette"),
    ("uvicorn/", "uvicorn and httptools (HTTP)"),
    ("httptools/", "uvicorn and httptools (HTTP)"),
    ("pydantic", "pydantic"),
    ("hub/", "hub code (hub/)"),
    ("schema/", "hub code (schema/)"),
    ("search/", "hub code (search/)"),
    ("asyncio/", "asyncio event loop and tasks"),
    ("uvloop/", "asyncio event loop and tasks"),
    ("typing.py", "typing (generic aliases at run time)"),
    ("enum.py", "enum"),
]


@dataclass(frozen=True, slots=True)
class Profile:
    samples: int
    by_activity: list[tuple[str, float]]
    """Samples by what the process was doing (see ``_activity``), share of all samples."""
    by_component: list[tuple[str, float]]
    """Own time per component, share of all samples."""
    inclusive: list[tuple[str, float]]
    """Functions with the largest share of samples on the stack."""
    leaves: list[tuple[str, float]]
    """Functions with the largest share of own time."""
    raw: Path


def py_spy() -> str:
    found = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if found is None:
        raise RuntimeError("py-spy is missing: pip install -r benchmarks/requirements.txt")
    return found


def record(pid: int, seconds: float, output: Path) -> subprocess.Popen[bytes]:
    """Starts py-spy on ``pid`` and its worker processes; returns at once."""
    return subprocess.Popen(
        [
            py_spy(),
            "record",
            "--pid",
            str(pid),
            "--subprocesses",
            "--nonblocking",
            "--rate",
            "200",
            "--duration",
            str(int(seconds)),
            "--format",
            "raw",
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _path(frame: str) -> str:
    """The file of ``execute (graphql/execution/execute.py:123)``."""
    return frame.partition(" (")[2].rstrip(")").rsplit(":", 1)[0]


def _activity(frames: list[str]) -> str:
    """What a sample's whole stack was doing; the first rule that matches wins."""

    # `hub serve` with one worker runs the server in its own frame: below every sample.
    frames = [frame for frame in frames if "(hub/cli.py:" not in frame]

    def on_stack(*parts: str) -> bool:
        return any(part in frame for frame in frames for part in parts)

    if on_stack("(schema/compiled/"):
        if on_stack("(asyncpg/"):
            return "compiled reads: the statement's round trip (asyncpg)"
        if on_stack("(sqlalchemy/"):
            return "compiled reads: a pooled connection (SQLAlchemy pool)"
        return "compiled reads: the plan, binding the variables (hub/kit/codes.py), the answer"
    if on_stack("Session.execute (", "AsyncSession.execute", "AsyncSession.scalar"):
        return "running SQL: SQLAlchemy execute path (cache, parameters, results), asyncpg"
    if on_stack("(hub/") and on_stack("(sqlalchemy/"):
        return "building SQL statements: SQLAlchemy constructs called by the repositories"
    if on_stack("(hub/"):
        return "hub/ code itself"
    if on_stack("(strawberry/", "(graphql/", "(schema/"):
        return "GraphQL: Strawberry, graphql-core, DataLoaders, schema/"
    if on_stack("(uvicorn/protocols/", "(httptools/", "(starlette/"):
        return "HTTP: uvicorn, httptools, Starlette"
    if on_stack("(sqlalchemy/"):
        return "SQLAlchemy elsewhere: session close, pool"
    return "event loop and process plumbing"


def _component(frame: str) -> str:
    path = _path(frame)
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        path = path.split(marker, 1)[-1]
    for start, name in COMPONENTS:
        if path.startswith(start):
            return name
    return "other (stdlib, orjson, ...)"


def _function(frame: str) -> str:
    """``execute (graphql/execution/execute.py:123)`` without the line number."""
    name = frame.partition(" (")[0]
    path = _path(frame)
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{name} ({path})"


# Frames every sample passes through (process start, the server's loop): on the stack always,
# telling nothing; left out of the inclusive list.
PLUMBING = (
    "multiprocessing/",
    "uvicorn/_subprocess.py",
    "uvicorn/supervisors/",
    "uvicorn/server.py",
    "uvicorn/main.py",
    "uvicorn/_compat.py",
    "asyncio/runners.py",
    "asyncio/base_events.py",
    "asyncio/events.py",
    "click/",
    "hub/cli.py",
    "(<string>)",
    "(hub)",
)


def summarise(raw: Path, top: int = 15) -> Profile:
    own: Counter[str] = Counter()
    activities: Counter[str] = Counter()
    components: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    data = raw.read_bytes()
    if raw.suffix == ".gz":
        data = gzip.decompress(data)
    for line in data.decode(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        # The first frame of a raw stack names the process and thread; the rest are calls.
        frames = [f for f in stack.split(";")[1:] if " (" in f]
        if not frames:
            continue
        total += count
        activities[_activity(frames)] += count
        components[_component(frames[-1])] += count
        own[_function(frames[-1])] += count
        for function in {_function(f) for f in frames}:
            if not any(part in function for part in PLUMBING):
                inclusive[function] += count
    share = 1 / total if total else 0.0
    return Profile(
        samples=total,
        by_activity=[(name, n * share) for name, n in activities.most_common()],
        by_component=[(name, n * share) for name, n in components.most_common()],
        inclusive=[(name, n * share) for name, n in inclusive.most_common(top)],
        leaves=[(name, n * share) for name, n in own.most_common(top)],
        raw=raw,
    )
