"""A reindex's documents made into what a backend writes (``COPY`` rows, bulk lines) in worker
processes, while this process reads the next batches and writes the previous ones.

Turning a document into its terms, units and JSON is Python's work, and at 1M it was most of a
reindex: 243 s of the embedded rows and 190 s of the Elasticsearch bulk lines on one core (load
3.5), while the database or the node waited on it and the second core did little. Here that
work runs in ``PROCESSES`` worker processes, a few batches ahead; this process keeps the
database reads, the building of the documents from their rows, and the writes.

A reindex of a single batch (a small database, the tests) builds it in this process: starting
the workers (a fresh interpreter each, ``spawn``) would cost more than the work.
"""

from __future__ import annotations

import asyncio
import collections
import multiprocessing
import os
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

from search.documents import Document

# Two cores: the workers share them with this process and the database (or the node), which
# wait on each other less than on the workers.
PROCESSES = max(1, min(4, os.cpu_count() or 1))
T = TypeVar("T")


async def prepared(
    batches: AsyncIterator[list[Document]], prepare: Callable[[list[Document]], T]
) -> AsyncIterator[tuple[int, T]]:
    """(how many documents, ``prepare(batch)``) of each batch, in order.

    ``prepare`` must be picklable (a module's function, or a ``functools.partial`` of one) and
    so must the documents. Up to ``PROCESSES`` + 1 batches are prepared ahead of the one the
    caller is writing.
    """
    loop = asyncio.get_running_loop()
    pool: ProcessPoolExecutor | None = None
    pending: collections.deque[tuple[int, asyncio.Future[T]]] = collections.deque()
    try:
        async for batch in batches:
            if pool is None and not pending:
                done: asyncio.Future[T] = loop.create_future()
                done.set_result(prepare(batch))
                pending.append((len(batch), done))
                continue
            if pool is None:
                pool = ProcessPoolExecutor(
                    PROCESSES, mp_context=multiprocessing.get_context("spawn")
                )
            pending.append((len(batch), loop.run_in_executor(pool, prepare, batch)))
            while len(pending) > PROCESSES:
                count, future = pending.popleft()
                yield count, await future
        while pending:
            count, future = pending.popleft()
            yield count, await future
    finally:
        for _, future in pending:
            future.cancel()
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
