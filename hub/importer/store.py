"""All SQL of imports: look-ups of ids by natural key, upserts and replacement of child rows.

Every method works on a whole batch, so the number of statements grows with the number of
batches, not of rows. Upserts change a row only when a stored value differs, which is what makes
a second import of the same file a no-op down to ``updated_at``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Table,
    case,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.base import ReadOnlyColumnCollection

from hub.blacklist.models import BlacklistEntry, BlacklistRemoval
from hub.credit.repository import refresh_current_grades
from hub.db import HubSession
from hub.kit.time import utcnow
from hub.licence.models import Licence, LicenceStatusEvent
from hub.licence.repository import refresh_statuses
from hub.quality.models import FailedItem, Product

T = TypeVar("T")
K = TypeVar("K")

# Well under SQLite's and asyncpg's bound-parameter limits, even for tuple keys.
_IN_CHUNK = 500
# Provenance timestamps: set by the store, never compared to decide whether a row changed.
_STAMPS = ("created_at", "updated_at")
REMOVAL_FIELDS = ("removed_on", "reason", "authority", "source_agency", "published_at")


@dataclass(frozen=True, slots=True)
class ProductRef:
    id: int
    enterprise_id: int
    gtin: str | None
    name: str
    brand: str
    model: str


@dataclass(frozen=True, slots=True)
class EntryRef:
    id: int
    listed_on: date


# Values for some columns computed from the proposed row (``excluded``) and the stored one.
_Derive = Callable[[ReadOnlyColumnCollection[str, Any]], dict[str, ColumnElement[Any]]]


def table_of(model: Any) -> Table:
    """The Core table of a mapped class; imports write through Core, not the unit of work."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _chunks(values: Collection[T]) -> Iterator[list[T]]:
    items = list(values)
    for start in range(0, len(items), _IN_CHUNK):
        yield items[start : start + _IN_CHUNK]


class ImportStore:
    """The import's repository, bound to the session of the import's one transaction."""

    def __init__(self, session: HubSession) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name
        # One instant for the whole file: every row it creates or changes carries the same stamp.
        self.now = utcnow()
        self._upserts: dict[tuple[Any, ...], Any] = {}

    # Look-ups ------------------------------------------------------------------------------

    async def existing(
        self, column: InstrumentedAttribute[str], values: Collection[str]
    ) -> set[str]:
        """Which of ``values`` are stored in ``column``."""
        found: set[str] = set()
        for chunk in _chunks(values):
            found.update(await self.session.scalars(select(column).where(column.in_(chunk))))
        return found

    async def ids_by(
        self,
        key: InstrumentedAttribute[K],
        id_column: InstrumentedAttribute[int],
        values: Collection[K],
    ) -> dict[K, int]:
        """Ids by natural key, for those of ``values`` that are stored."""
        found: dict[K, int] = {}
        for chunk in _chunks(values):
            result = await self.session.execute(select(key, id_column).where(key.in_(chunk)))
            found.update((value, row_id) for value, row_id in result)
        return found

    async def blacklist_entries(self, decision_numbers: Collection[str]) -> dict[str, EntryRef]:
        found: dict[str, EntryRef] = {}
        for chunk in _chunks(decision_numbers):
            result = await self.session.execute(
                select(
                    BlacklistEntry.decision_number, BlacklistEntry.id, BlacklistEntry.listed_on
                ).where(BlacklistEntry.decision_number.in_(chunk))
            )
            found.update(
                (number, EntryRef(entry_id, listed_on)) for number, entry_id, listed_on in result
            )
        return found

    async def blacklist_removals(self, entry_ids: Collection[int]) -> dict[int, dict[str, Any]]:
        """The stored removal of each entry that has one, as the fields an import compares."""
        columns = [getattr(BlacklistRemoval, name) for name in REMOVAL_FIELDS]
        found: dict[int, dict[str, Any]] = {}
        for chunk in _chunks(entry_ids):
            result = await self.session.execute(
                select(BlacklistRemoval.entry_id, *columns).where(
                    BlacklistRemoval.entry_id.in_(chunk)
                )
            )
            for entry_id, *values in result:
                found[entry_id] = dict(zip(REMOVAL_FIELDS, values, strict=True))
        return found

    async def products_by_gtin(self, gtins: Collection[str]) -> dict[str, ProductRef]:
        found: dict[str, ProductRef] = {}
        for chunk in _chunks(gtins):
            for product in await self._products(Product.gtin.in_(chunk)):
                assert product.gtin is not None
                found[product.gtin] = product
        return found

    async def products_by_natural_key(
        self, keys: Collection[tuple[int, str, str, str]]
    ) -> dict[tuple[int, str, str, str], ProductRef]:
        """Products by (enterprise id, name, brand, model)."""
        found: dict[tuple[int, str, str, str], ProductRef] = {}
        natural = tuple_(Product.enterprise_id, Product.name, Product.brand, Product.model)
        for chunk in _chunks(keys):
            for product in await self._products(natural.in_(chunk)):
                found[(product.enterprise_id, product.name, product.brand, product.model)] = product
        return found

    async def _products(self, condition: ColumnElement[bool]) -> list[ProductRef]:
        result = await self.session.execute(
            select(
                Product.id,
                Product.enterprise_id,
                Product.gtin,
                Product.name,
                Product.brand,
                Product.model,
            ).where(condition)
        )
        return [ProductRef(*row) for row in result]

    async def failed_items(
        self, spot_check_ids: Collection[int]
    ) -> dict[int, list[tuple[str, ...]]]:
        """The stored failed items of each spot check, in position order."""
        found: dict[int, list[tuple[str, ...]]] = {}
        for chunk in _chunks(spot_check_ids):
            result = await self.session.execute(
                select(
                    FailedItem.spot_check_id,
                    FailedItem.item,
                    FailedItem.standard,
                    FailedItem.required,
                    FailedItem.measured,
                )
                .where(FailedItem.spot_check_id.in_(chunk))
                .order_by(FailedItem.spot_check_id, FailedItem.position)
            )
            for spot_check_id, *item in result:
                found.setdefault(spot_check_id, []).append(tuple(item))
        return found

    async def links(
        self, table: Table, other: str, warning_ids: Collection[int]
    ) -> dict[int, set[int]]:
        """The ids each warning links to through ``table`` (column ``other``)."""
        found: dict[int, set[int]] = {}
        for chunk in _chunks(warning_ids):
            result = await self.session.execute(
                select(table.c.warning_id, table.c[other]).where(table.c.warning_id.in_(chunk))
            )
            for warning_id, other_id in result:
                found.setdefault(warning_id, set()).add(other_id)
        return found

    # Writes --------------------------------------------------------------------------------

    async def upsert(
        self,
        table: Table,
        rows: Sequence[dict[str, Any]],
        key: Sequence[str],
        *,
        returning: str = "id",
    ) -> list[Any]:
        """Insert rows, or update the stored row with the same ``key`` where a value differs.

        Returns ``returning`` of the rows inserted or changed; an unchanged row is not touched,
        so its ``updated_at`` stays. All rows carry the same columns.
        """
        return await self._upsert(table, rows, key, returning)

    async def upsert_products(
        self, rows: Sequence[dict[str, Any]], key: Sequence[str]
    ) -> list[int]:
        """Products by either of their unique keys; a row without a GTIN keeps the stored one."""
        table = table_of(Product)

        def gtin(excluded: ReadOnlyColumnCollection[str, Any]) -> dict[str, ColumnElement[Any]]:
            return {"gtin": func.coalesce(excluded.gtin, table.c.gtin)}

        return await self._upsert(table, rows, key, "id", gtin)

    async def upsert_licences(self, rows: Sequence[dict[str, Any]]) -> list[int]:
        """Licences by number; one with status events keeps the status its latest event set.

        ``refresh_statuses`` keeps that status after each event import; a licence file exported
        earlier than the events must not undo it, nor flip it back and forth on every re-run.
        """
        table = table_of(Licence)
        events = table_of(LicenceStatusEvent)
        has_events = exists().where(events.c.licence_id == table.c.id).correlate(table)

        def status(excluded: ReadOnlyColumnCollection[str, Any]) -> dict[str, ColumnElement[Any]]:
            return {"status": case((has_events, table.c.status), else_=excluded.status)}

        return await self._upsert(table, rows, ("number",), "id", status)

    async def _upsert(
        self,
        table: Table,
        rows: Sequence[dict[str, Any]],
        key: Sequence[str],
        returning: str,
        derive: _Derive | None = None,
    ) -> list[Any]:
        if not rows:
            return []
        self._stamp(table, rows)
        columns = tuple(rows[0])
        rule = derive.__name__ if derive is not None else ""
        cache_key = (table.name, columns, tuple(key), returning, rule)
        statement = self._upserts.get(cache_key)
        if statement is None:
            statement = self._upsert_statement(table, columns, key, returning, derive)
            self._upserts[cache_key] = statement
        result = await self.session.execute(statement, list(rows))
        return list(result.scalars())

    def _stamp(self, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        if "updated_at" in table.c:
            for row in rows:
                row["created_at"] = row["updated_at"] = self.now

    def _upsert_statement(
        self,
        table: Table,
        columns: Sequence[str],
        key: Sequence[str],
        returning: str,
        derive: _Derive | None,
    ) -> Any:
        statement = self._insert(table)
        excluded = statement.excluded
        new_values: dict[str, ColumnElement[Any]] = {
            name: excluded[name] for name in columns if name not in key and name not in _STAMPS
        }
        if derive is not None:
            new_values.update(derive(excluded))
        differs = or_(
            *(table.c[name].is_distinct_from(value) for name, value in new_values.items())
        )
        if "updated_at" in columns:
            new_values["updated_at"] = excluded["updated_at"]
        index = [table.c[name] for name in key]
        upsert = statement.on_conflict_do_update(
            index_elements=index, set_=new_values, where=differs
        )
        return upsert.returning(table.c[returning])

    def _insert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        """The dialect's INSERT, which knows ON CONFLICT."""
        if self.dialect == "postgresql":
            return postgresql.insert(table)
        if self.dialect == "sqlite":
            return sqlite.insert(table)
        raise NotImplementedError(f"imports support PostgreSQL and SQLite, not {self.dialect}")

    async def insert_new(
        self, table: Table, rows: Sequence[dict[str, Any]], key: Sequence[str]
    ) -> list[int]:
        """Insert the rows whose ``key`` is not stored yet; ids of the inserted ones."""
        if not rows:
            return []
        self._stamp(table, rows)
        index = [table.c[name] for name in key]
        statement = self._insert(table).on_conflict_do_nothing(index_elements=index)
        result = await self.session.execute(statement.returning(table.c.id), list(rows))
        return list(result.scalars())

    async def replace_children(
        self, table: Table, parent: str, children: Mapping[int, Sequence[dict[str, Any]]]
    ) -> None:
        """Make ``children`` the only rows of ``table`` under each parent id given."""
        if not children:
            return
        for chunk in _chunks(children):
            await self.session.execute(delete(table).where(table.c[parent].in_(chunk)))
        rows = [row for group in children.values() for row in group]
        if rows:
            await self.session.execute(insert(table), rows)

    async def touch(self, table: Table, ids: Collection[int]) -> None:
        """Mark rows changed whose children changed, so change feeds see them."""
        for chunk in _chunks(ids):
            await self.session.execute(
                update(table).where(table.c.id.in_(chunk)).values(updated_at=self.now)
            )

    async def refresh_current_grades(self, enterprise_ids: Collection[int]) -> None:
        for chunk in _chunks(enterprise_ids):
            await refresh_current_grades(self.session, chunk)

    async def refresh_licence_statuses(self, licence_ids: Collection[int]) -> None:
        for chunk in _chunks(licence_ids):
            await refresh_statuses(self.session, chunk)
