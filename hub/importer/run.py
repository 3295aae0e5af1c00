"""Running an import: read a file in batches, validate, reject, upsert, report."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.db import HubSession, transaction
from hub.importer.errors import ImportFileError
from hub.importer.kinds import KINDS, Kind, Ready, Resolved
from hub.importer.reader import Format, Record, RecordFile, detect_format
from hub.importer.rejects import RejectsFile, default_rejects_path
from hub.importer.rows import Problem, Row
from hub.importer.store import ImportStore
from search.outbox import enqueue_import_batch

BATCH_SIZE = 1000


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did; ``accepted + rejected == input`` always."""

    kind: str
    path: Path
    format: Format
    input: int
    accepted: int
    rejected: int
    # Accepted records that were new or differed from the stored ones.
    changed: int
    rejects_path: Path
    seconds: float
    ignored_columns: tuple[str, ...] = ()

    @property
    def rows_per_second(self) -> float:
        return self.input / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        return (
            f"{self.kind}: {self.input} input, {self.accepted} accepted, "
            f"{self.rejected} rejected (rejects: {self.rejects_path}); "
            f"{self.changed} new or changed, {self.rows_per_second:,.0f} rows/s"
        )


def make_kind(kind: str) -> Kind[Any]:
    try:
        return KINDS[kind]()
    except KeyError:
        raise ImportFileError(f"unknown kind '{kind}'; choose one of: {', '.join(KINDS)}") from None


async def run_import(
    sessionmaker: async_sessionmaker[HubSession],
    kind: str,
    path: Path | str,
    *,
    fmt: str | None = None,
    rejects: Path | str | None = None,
    progress: bool = False,
    batch_size: int = BATCH_SIZE,
) -> ImportReport:
    """Import one file of ``kind`` records; raises ``ImportFileError`` if it is malformed.

    The whole file is one transaction. A file can turn out malformed only half-way (a byte
    that is not UTF-8 on line 900,000), and then nothing of it may stay: partial imports could
    not be told apart from complete ones, and re-running the corrected file must start from
    the state before. Rejected rows do not abort; they are written to the rejects file.
    """
    handler = make_kind(kind)
    source = Path(path)
    file_format = detect_format(source, fmt)
    rejects_path = Path(rejects) if rejects is not None else default_rejects_path(source)
    started = time.perf_counter()
    with (
        RecordFile(source, file_format, handler.fields(), handler.required()) as records,
        RejectsFile(rejects_path) as rejected,
        _progress_bar(progress, records.size, kind) as advance,
    ):
        async with transaction(sessionmaker) as session:
            store = ImportStore(session)
            batches = _Batches(handler, store, rejected)
            batch: list[Record] = []
            for record in records:
                batch.append(record)
                if len(batch) >= batch_size:
                    await batches.run(batch)
                    batch = []
                    advance(records.bytes_read)
            await batches.run(batch)
            await handler.finish(store)
        advance(records.bytes_read)
        rejected.commit()
    return ImportReport(
        kind=kind,
        path=source,
        format=file_format,
        input=batches.input,
        accepted=batches.accepted,
        rejected=rejected.count,
        changed=batches.changed,
        rejects_path=rejects_path,
        seconds=time.perf_counter() - started,
        ignored_columns=tuple(records.ignored_columns),
    )


class _Batches:
    """Validates and stores batch after batch, remembering the keys already accepted."""

    def __init__(self, handler: Kind[Any], store: ImportStore, rejected: RejectsFile) -> None:
        self._handler = handler
        self._store = store
        self._rejected = rejected
        # Key -> line that claimed it. Only accepted rows claim a key, so a rejected first
        # occurrence does not turn a valid later one into a duplicate.
        self._seen: dict[Hashable, int] = {}
        self.input = 0
        self.accepted = 0
        self.changed = 0

    async def run(self, batch: list[Record]) -> None:
        self.input += len(batch)
        rejected: list[tuple[Record, list[Problem]]] = []
        parsed: list[tuple[Record, Row]] = []
        for record in batch:
            if record.values is None:
                rejected.append((record, [Problem("", record.problem or "unreadable record")]))
                continue
            row = self._handler.parse(record.values)
            if isinstance(row, list):
                rejected.append((record, row))
            else:
                parsed.append((record, row))
        if parsed:
            resolved = await self._handler.resolve(self._store, [row for _, row in parsed])
            accepted = self._check(parsed, resolved, rejected)
            if accepted:
                changed = await self._handler.write(self._store, accepted)
                if changed:
                    await enqueue_import_batch(
                        self._store.session,
                        self._handler.table,
                        [ready.values for _, ready in accepted],
                    )
                self.changed += changed
                self.accepted += len(accepted)
        # In file order, whichever step found the problem.
        for record, problems in sorted(rejected, key=lambda item: item[0].line):
            key = self._handler.raw_key(record.values) if record.values is not None else ""
            self._rejected.write(record.line, key, problems, record.raw)

    def _check(
        self,
        parsed: list[tuple[Record, Row]],
        resolved: list[Resolved],
        rejected: list[tuple[Record, list[Problem]]],
    ) -> list[tuple[Row, Ready]]:
        """The rows whose references resolved and whose keys no earlier row claimed."""
        accepted: list[tuple[Row, Ready]] = []
        for (record, row), ready in zip(parsed, resolved, strict=True):
            if isinstance(ready, list):
                rejected.append((record, ready))
                continue
            keys = self._handler.keys(row)
            claimed = next(
                ((name, self._seen[key]) for name, key in keys if key in self._seen), None
            )
            if claimed is not None:
                name, line = claimed
                rejected.append((record, [Problem(name, f"duplicate of line {line}")]))
                continue
            for _, key in keys:
                self._seen[key] = record.line
            accepted.append((row, ready))
        return accepted


@contextmanager
def _progress_bar(enabled: bool, total: int, kind: str) -> Iterator[Callable[[int], None]]:
    """A bar by bytes read; bytes, unlike rows, are known before the file is read."""
    if not enabled:
        yield lambda _done: None
        return
    columns = (
        TextColumn(f"[bold]{kind}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(kind, total=total)
        yield lambda done: bar.update(task, completed=done)
