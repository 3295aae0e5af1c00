"""Bulk loaders: binary COPY on PostgreSQL, one ``executemany`` per table and chunk on SQLite.

Both write explicit primary keys inside the caller's transaction, so a failed seed leaves the
database as empty as it found it.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import TypeEngine

from hub.demo.errors import UnsupportedDatabaseError
from hub.demo.generator import ID_TABLES, TABLES, Chunk
from hub.demo.worker import Converters
from hub.models import Base


class Loader(Protocol):
    """Writes chunks of rows inside the caller's transaction.

    ``date_value`` and ``stamp_value`` give the form in which the driver takes a date and an
    aware timestamp; the generator's calendar converts each distinct value once with them.
    """

    def date_value(self, value: date) -> Any: ...

    def stamp_value(self, value: datetime) -> Any: ...

    @property
    def portable_converters(self) -> Converters | None:
        """``date_value`` and ``stamp_value`` as module-level functions that a generator in
        another process can import; ``None`` if they only exist in this one."""

    async def start(self) -> None: ...

    async def load(self, chunk: Chunk) -> None: ...

    async def finish(self) -> None: ...

    async def close(self) -> None:
        """Undo changes to the connection's state, after the transaction, failed or not."""


class PostgresLoader:
    """COPY through asyncpg, with unique constraints, indexes and foreign keys built at the end.

    Checking each row's foreign keys (a trigger per row) and growing a dozen b-trees one
    entry at a time, most of them on codes in random order, make COPY several times slower
    than loading and then building each index in one sorted pass and validating each foreign
    key in one join, as pg_restore does. The definitions are read from the catalogue and
    restored verbatim in the same transaction, so a failure restores them too; a duplicate
    the generator should never make fails the rebuild, and with it the whole seed.

    Primary keys stay: ids arrive in ascending order, so each entry is an append to the
    rightmost leaf, and the schema's triggers look rows up by them as the load runs (a
    blacklist entry copies its enterprise's region). So do indexes and unique constraints led
    by a foreign-key column (``enterprise_id, ...``): those ascend with the ids, and their
    upkeep runs on the database's core while the generator, the slower side, takes the other;
    building them at the end would leave the generator's core idle instead.

    Dates and timestamps go to the server as ready-made binary values: asyncpg spends most of
    a COPY's client time turning aware datetimes into microseconds, while the calendar
    encodes each distinct value once (and bytes cross from the generating process for less
    than date objects). Pass-through codecs are set for the load and reset in ``close``.
    """

    def __init__(self, connection: AsyncConnection, driver: Any) -> None:
        self._connection = connection
        self._driver = driver
        self._foreign_keys: list[tuple[str, str, str]] = []  # (table, name, definition)
        self._keys: list[tuple[str, str, str]] = []  # unique constraints, the same
        self._indexes: list[tuple[str, str]] = []  # (name, CREATE INDEX statement)
        self._codec_set = False

    @classmethod
    async def open(cls, connection: AsyncConnection) -> PostgresLoader:
        # The caller has run a statement already, so SQLAlchemy's transaction is open on this
        # driver connection and the COPYs below belong to it.
        raw = await connection.get_raw_connection()
        return cls(connection, raw.driver_connection)

    def date_value(self, value: date) -> Any:
        return _encode_date(value)

    def stamp_value(self, value: datetime) -> Any:
        return _encode_timestamptz(value)

    @property
    def portable_converters(self) -> Converters:
        return (_encode_date, _encode_timestamptz)

    async def start(self) -> None:
        """Drop the seeded tables' unique constraints and plain indexes, and the foreign keys
        to and from them."""
        self._codec_set = True  # before: a failure halfway must reset what was set
        for name, encoder, decoder in _CODECS:
            await self._driver.set_type_codec(
                name, schema="pg_catalog", encoder=encoder, decoder=decoder, format="binary"
            )
        tables = list(TABLES)
        self._foreign_keys = [
            (row["table_name"], row["name"], row["definition"])
            for row in await self._driver.fetch(_FOREIGN_KEYS, tables)
        ]
        self._keys = [
            (row["table_name"], row["name"], row["definition"])
            for row in await self._driver.fetch(_KEYS, tables)
        ]
        self._indexes = [
            (row["name"], row["definition"])
            for row in await self._driver.fetch(_PLAIN_INDEXES, tables)
        ]
        for table, name, _definition in self._foreign_keys + self._keys:
            await self._driver.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        for name, _definition in self._indexes:
            await self._driver.execute(f'DROP INDEX "{name}"')

    async def load(self, chunk: Chunk) -> None:
        for table, rows in chunk.items():
            if rows:
                await self._driver.copy_records_to_table(table, records=rows, columns=TABLES[table])

    async def finish(self) -> None:
        """Rebuild what ``start`` dropped, and move each id sequence past the explicit ids."""
        # Index builds sort whole tables; the default 64 MB makes them spill to disk.
        await self._driver.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for table, name, definition in self._keys:
            await self._driver.execute(
                f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}'
            )
        for _name, definition in self._indexes:
            await self._driver.execute(definition)
        for table, name, definition in self._foreign_keys:
            await self._driver.execute(
                f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}'
            )
        for table in ID_TABLES:
            await self._driver.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"coalesce(max(id), 1), max(id) IS NOT NULL) FROM {table}"
            )

    async def close(self) -> None:
        """Give dates and timestamps back to asyncpg's own codecs, or the connection back to
        nobody."""
        if not self._codec_set:
            return
        self._codec_set = False
        try:
            for name, _encoder, _decoder in _CODECS:
                await self._driver.reset_type_codec(name, schema="pg_catalog")
        except Exception:
            # A connection whose codecs are unknown must not go back to the pool; dropping it
            # is all the cleanup there is, so the seed's own outcome stands.
            await self._connection.invalidate()


_INT64 = struct.Struct("!q")
_POSTGRES_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _encode_timestamptz(value: bytes | datetime) -> bytes:
    """PostgreSQL's binary timestamptz: microseconds since 2000-01-01 UTC, as a big-endian int64.

    Bytes pass through (the calendar made them); a datetime from anyone else is encoded here.
    """
    if isinstance(value, bytes):
        return value
    delta = value - _POSTGRES_EPOCH
    return _INT64.pack((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds)


def _decode_timestamptz(data: bytes) -> datetime:
    return _POSTGRES_EPOCH + timedelta(microseconds=_INT64.unpack(data)[0])


_INT32 = struct.Struct("!i")
_POSTGRES_EPOCH_DAY = date(2000, 1, 1).toordinal()


def _encode_date(value: bytes | date) -> bytes:
    """PostgreSQL's binary date: days since 2000-01-01, as a big-endian int32; bytes pass."""
    if isinstance(value, bytes):
        return value
    return _INT32.pack(value.toordinal() - _POSTGRES_EPOCH_DAY)


def _decode_date(data: bytes) -> date:
    return date.fromordinal(_INT32.unpack(data)[0] + _POSTGRES_EPOCH_DAY)


_CODECS: tuple[tuple[str, Callable[[Any], bytes], Callable[[bytes], Any]], ...] = (
    ("date", _encode_date, _decode_date),
    ("timestamptz", _encode_timestamptz, _decode_timestamptz),
)


# Whether a column leads a foreign key: ids ascend through the load, and so do the columns
# that refer to them, since parents come chunk by chunk with their children. An index led by
# one grows at its right edge, as cheaply as a primary key, so it stays during the load.
_ASCENDING = """EXISTS (
    SELECT 1 FROM pg_constraint AS fk
    WHERE fk.contype = 'f' AND fk.conrelid = {table} AND fk.conkey[1] = {column}
)"""

_FOREIGN_KEYS = """
SELECT conrelid::regclass::text AS table_name, conname AS name,
       pg_get_constraintdef(oid) AS definition
FROM pg_constraint
WHERE contype = 'f'
  AND (conrelid::regclass::text = ANY($1::text[]) OR confrelid::regclass::text = ANY($1::text[]))
ORDER BY conrelid::regclass::text, conname
"""

# Unique constraints of the seeded tables not led by an ascending column.
_KEYS = f"""
SELECT conrelid::regclass::text AS table_name, conname AS name,
       pg_get_constraintdef(oid) AS definition
FROM pg_constraint
WHERE contype = 'u' AND conrelid::regclass::text = ANY($1::text[])
  AND NOT {_ASCENDING.format(table="conrelid", column="conkey[1]")}
ORDER BY conrelid::regclass::text, conname
"""

# Indexes of the seeded tables that back no constraint (unique ones come and go with theirs)
# and are not led by an ascending column.
_PLAIN_INDEXES = f"""
SELECT indexrelid::regclass::text AS name, pg_get_indexdef(indexrelid) AS definition
FROM pg_index
WHERE indrelid::regclass::text = ANY($1::text[])
  AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = pg_index.indexrelid)
  AND NOT {_ASCENDING.format(table="indrelid", column="indkey[0]")}
ORDER BY indexrelid::regclass::text
"""


class SqliteLoader:
    """``executemany`` on the driver, one statement per table and chunk, values pre-converted."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        dialect = connection.dialect
        # What SQLAlchemy itself binds for a Date and a UTCDateTime, so that seeded rows
        # compare and sort exactly like the rows the application writes.
        columns = Base.metadata.tables["enterprise"].c
        self._date = _bind_processor(columns.established_on.type, dialect)
        self._stamp = _bind_processor(columns.published_at.type, dialect)
        self._statements = {
            table: f"INSERT INTO {table} ({', '.join(names)}) "
            f"VALUES ({', '.join('?' * len(names))})"
            for table, names in TABLES.items()
        }

    def date_value(self, value: date) -> Any:
        return self._date(value)

    def stamp_value(self, value: datetime) -> Any:
        return self._stamp(value)

    @property
    def portable_converters(self) -> None:
        # SQLAlchemy's bind processors are closures; and SQLite writes in this process anyway.
        return None

    async def start(self) -> None:
        """Nothing to do: pysqlite runs DDL outside the transaction, so the indexes stay."""

    async def load(self, chunk: Chunk) -> None:
        for table, rows in chunk.items():
            if rows:
                await self._connection.exec_driver_sql(self._statements[table], rows)

    async def finish(self) -> None:
        """Nothing to do: SQLite picks the next rowid after the largest one."""

    async def close(self) -> None:
        """Nothing to do: the connection's state was not changed."""


def _bind_processor(type_: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any]:
    process = type_.dialect_impl(dialect).bind_processor(dialect)
    return process if process is not None else _identity


def _identity(value: Any) -> Any:
    return value


async def open_loader(connection: AsyncConnection) -> Loader:
    """The loader for the connection's dialect."""
    name = connection.dialect.name
    if name == "postgresql" and connection.dialect.driver == "asyncpg":
        return await PostgresLoader.open(connection)
    if name == "sqlite":
        return SqliteLoader(connection)
    driver = connection.dialect.driver
    raise UnsupportedDatabaseError(
        f"the demo seed loads PostgreSQL (asyncpg) or SQLite, not {name} ({driver})"
    )


async def analyze(connection: AsyncConnection) -> None:
    """Refresh the planner's statistics, which a bulk load leaves stale or empty."""
    await connection.exec_driver_sql("ANALYZE")
