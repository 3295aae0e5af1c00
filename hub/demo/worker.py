"""Generating the demo rows in a process of its own, so that they are made while others load.

Generation is pure Python and takes one core; the loading process spends its own time in the
driver, and PostgreSQL its time on another core. In one process the two take turns on one
GIL; in two, generation runs at full speed beside the load. The worker makes exactly the
chunks ``generate`` makes (same seed, same calendar, same order) and sends each one through a
pipe; it blocks when the pipe is full, so at most a few chunks are in flight.

Chunks cross with ``marshal``, a quarter cheaper than pickle for plain tuples of strings,
numbers and bytes; so the converters must give such values (PostgreSQL's give bytes).
"""

from __future__ import annotations

import asyncio
import marshal
import multiprocessing
import traceback
from collections.abc import AsyncGenerator, Callable
from datetime import date, datetime
from multiprocessing.connection import Connection
from typing import Any

from hub.demo.generator import Calendar, Chunk, generate

Converters = tuple[Callable[[date], Any], Callable[[datetime], Any]]
"""A loader's date and timestamp converters, as module-level functions another process imports."""


class GeneratorProcessError(RuntimeError):
    """The generating process failed or went away; the message says how."""


async def generated_elsewhere(
    enterprises: int, seed: int, as_of: date, converters: Converters
) -> AsyncGenerator[Chunk, None]:
    """The chunks of ``generate``, made by a new process; it is stopped when the caller stops.

    The process is spawned rather than forked: the caller runs an event loop and the driver's
    threads, which a fork would copy in whatever state they are in.
    """
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_produce,
        args=(sender, enterprises, seed, as_of, converters),
        name="hub-demo-generator",
        daemon=True,
    )
    process.start()
    sender.close()  # the child holds the only writing end now, so its exit ends our reads
    loop = asyncio.get_running_loop()
    receiving: asyncio.Future[Any] | None = None
    try:
        while True:
            # recv waits for the pipe outside the GIL and unmarshals inside it, in a thread,
            # so the event loop keeps loading the previous chunk meanwhile.
            receiving = loop.run_in_executor(None, _receive, receiver)
            message = await receiving
            receiving = None
            if message is None:
                return
            if isinstance(message, str):
                raise GeneratorProcessError(f"generating the demo rows failed:\n{message}")
            yield message
    finally:
        if process.is_alive():
            process.terminate()
        if receiving is not None:
            await asyncio.wait([receiving])  # the terminated child's pipe ends the read
        await loop.run_in_executor(None, process.join)
        receiver.close()


def _receive(receiver: Connection) -> Any:
    """A chunk, ``None`` after the last one, or the text of a failure."""
    try:
        return marshal.loads(receiver.recv_bytes())
    except EOFError:
        return "the generating process exited before it sent every chunk"


def _produce(
    sender: Connection, enterprises: int, seed: int, as_of: date, converters: Converters
) -> None:
    """The child's work: every chunk, then ``None``; or the traceback of a failure."""
    try:
        calendar = Calendar(as_of, *converters)
        for chunk in generate(enterprises, seed, calendar):
            sender.send_bytes(marshal.dumps(chunk))
        sender.send_bytes(marshal.dumps(None))
    except BrokenPipeError:
        pass  # the parent stopped reading: it has what it wants, or failed on its own
    except Exception:
        sender.send_bytes(marshal.dumps(traceback.format_exc()))
    finally:
        sender.close()
