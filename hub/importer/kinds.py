"""The kinds of import: natural keys, references checked in the database, how a batch is stored.

A kind sees a batch at a time: it resolves the batch's references with a few look-ups, says
per row what is wrong or which column values to store, and writes the accepted rows through
the store. The runner owns reading, duplicate keys and rejects.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import Table
from sqlalchemy.orm import InstrumentedAttribute

from hub.blacklist.models import BlacklistEntry, BlacklistRemoval
from hub.credit.models import CreditEvaluation
from hub.enterprise.models import Enterprise, Industry, Region
from hub.importer.rows import (
    BlacklistEntryRow,
    BlacklistRemovalRow,
    ConsumerWarningRow,
    CreditEvaluationRow,
    EnterpriseRecordRow,
    EnterpriseRow,
    LicenceEventRow,
    LicenceRow,
    Problem,
    ProductRow,
    PublishedRow,
    RecallRow,
    RegionRow,
    Row,
    SpotCheckRow,
    parse_row,
)
from hub.importer.store import REMOVAL_FIELDS, ImportStore, ProductRef, table_of
from hub.licence.models import Licence, LicenceStatusEvent
from hub.quality.models import FailedItem, Product, SpotCheck
from hub.recall.models import Recall
from hub.warning.models import ConsumerWarning, warning_product, warning_recall

R = TypeVar("R", bound=Row)
E = TypeVar("E", bound=EnterpriseRecordRow)


@dataclass(slots=True)
class Ready:
    """A row whose references resolved: the column values to store, and what goes with them."""

    values: dict[str, Any]
    # Products: the unique key the upsert goes by, since a product has two.
    key: tuple[str, ...] = ()
    # Consumer warnings: ids of the linked rows, by link table name.
    links: dict[str, set[int]] = field(default_factory=dict)


Resolved = Ready | list[Problem]


class KnownCodes:
    """Codes of a small reference table (regions, industries), looked up once per import."""

    def __init__(self, column: InstrumentedAttribute[str]) -> None:
        self._column = column
        self._known: dict[str, bool] = {}

    async def known(self, store: ImportStore, codes: set[str]) -> set[str]:
        unseen = codes - self._known.keys()
        if unseen:
            found = await store.existing(self._column, unseen)
            self._known.update((code, code in found) for code in unseen)
        return {code for code in codes if self._known[code]}


class Kind(Generic[R]):
    """One kind of record; a fresh instance serves one import."""

    name: ClassVar[str]
    model: type[R]
    # The fields that identify a record in the file, in the rejects file's ``key`` column.
    key_fields: ClassVar[tuple[str, ...]]
    # Fields stored as they are, under the same column name.
    copied: ClassVar[tuple[str, ...]]
    # The table written and the unique key its upsert goes by.
    table: ClassVar[Table]
    conflict: ClassVar[tuple[str, ...]]

    @classmethod
    def fields(cls) -> list[str]:
        """Field names in the order a file would list them: key first, provenance last."""
        names = list(cls.model.model_fields)
        return sorted(
            names, key=lambda name: (name in PublishedRow.model_fields, name not in cls.key_fields)
        )

    @classmethod
    def required(cls) -> set[str]:
        return {name for name, info in cls.model.model_fields.items() if info.is_required()}

    def parse(self, values: dict[str, Any]) -> R | list[Problem]:
        return parse_row(self.model, values)

    def raw_key(self, values: dict[str, Any]) -> str:
        """The record's key as written, for the rejects file (the row may not have parsed)."""
        return " / ".join(str(values.get(name, "")) for name in self.key_fields)

    def keys(self, row: R) -> list[tuple[str, Hashable]]:
        """The natural keys of a row, each with the fields it is made of, for duplicates."""
        if len(self.key_fields) == 1:
            key: Hashable = getattr(row, self.key_fields[0])
        else:
            key = tuple(getattr(row, name) for name in self.key_fields)
        return [(", ".join(self.key_fields), key)]

    def copy(self, row: R, **resolved: Any) -> dict[str, Any]:
        values = {name: getattr(row, name) for name in self.copied}
        values.update(resolved)
        return values

    async def resolve(self, store: ImportStore, rows: Sequence[R]) -> list[Resolved]:
        return [Ready(self.copy(row)) for row in rows]

    async def write(self, store: ImportStore, batch: Sequence[tuple[R, Ready]]) -> int:
        """Store the accepted rows; returns how many records were new or changed."""
        rows = [ready.values for _, ready in batch]
        return len(await store.upsert(self.table, rows, self.conflict))

    async def finish(self, store: ImportStore) -> None:
        """Work that follows the last batch, inside the import's transaction."""


async def _enterprise_ids(
    store: ImportStore, rows: Sequence[EnterpriseRecordRow]
) -> dict[str, int]:
    """Ids of the enterprises the rows name."""
    return await store.ids_by(Enterprise.uscc, Enterprise.id, {row.uscc for row in rows})


def _no_enterprise(uscc: str) -> Problem:
    return Problem("uscc", f"no enterprise with USCC {uscc}")


class EnterpriseRecordKind(Kind[E]):
    """A record whose only reference is its enterprise, stored as ``enterprise_id``."""

    async def resolve(self, store: ImportStore, rows: Sequence[E]) -> list[Resolved]:
        ids = await _enterprise_ids(store, rows)
        return [
            Ready(self.copy(row, enterprise_id=ids[row.uscc]))
            if row.uscc in ids
            else [_no_enterprise(row.uscc)]
            for row in rows
        ]


class RegionImport(Kind[RegionRow]):
    name = "regions"
    model = RegionRow
    key_fields = ("code",)
    copied = ("code", "name")
    table = table_of(Region)
    conflict = ("code",)

    async def write(self, store: ImportStore, batch: Sequence[tuple[RegionRow, Ready]]) -> int:
        rows = [ready.values for _, ready in batch]
        return len(await store.upsert(self.table, rows, self.conflict, returning="code"))


class EnterpriseImport(Kind[EnterpriseRow]):
    name = "enterprises"
    model = EnterpriseRow
    key_fields = ("uscc",)
    copied = tuple(EnterpriseRow.model_fields)
    table = table_of(Enterprise)
    conflict = ("uscc",)

    def __init__(self) -> None:
        self._regions = KnownCodes(Region.code)
        self._industries = KnownCodes(Industry.code)

    async def resolve(self, store: ImportStore, rows: Sequence[EnterpriseRow]) -> list[Resolved]:
        regions = await self._regions.known(store, {row.region_code for row in rows})
        industries = await self._industries.known(store, {row.industry_code for row in rows})
        resolved: list[Resolved] = []
        for row in rows:
            problems = []
            if row.region_code not in regions:
                problems.append(Problem("region_code", f"no region with code {row.region_code}"))
            if row.industry_code not in industries:
                problems.append(
                    Problem("industry_code", f"no industry with code {row.industry_code}")
                )
            resolved.append(problems or Ready(self.copy(row)))
        return resolved


class CreditEvaluationImport(EnterpriseRecordKind[CreditEvaluationRow]):
    name = "credit-evaluations"
    model = CreditEvaluationRow
    key_fields = ("uscc", "evaluated_at", "authority")
    copied = tuple(name for name in CreditEvaluationRow.model_fields if name != "uscc")
    table = table_of(CreditEvaluation)
    conflict = ("enterprise_id", "evaluated_at", "authority")

    def __init__(self) -> None:
        self._changed: set[int] = set()

    async def write(
        self, store: ImportStore, batch: Sequence[tuple[CreditEvaluationRow, Ready]]
    ) -> int:
        rows = [ready.values for _, ready in batch]
        changed = await store.upsert(self.table, rows, self.conflict, returning="enterprise_id")
        self._changed.update(changed)
        return len(changed)

    async def finish(self, store: ImportStore) -> None:
        # Only enterprises whose evaluations changed: a re-import must not touch the others.
        await store.refresh_current_grades(self._changed)


class BlacklistEntryImport(EnterpriseRecordKind[BlacklistEntryRow]):
    name = "blacklist-entries"
    model = BlacklistEntryRow
    key_fields = ("decision_number",)
    copied = tuple(name for name in BlacklistEntryRow.model_fields if name != "uscc")
    table = table_of(BlacklistEntry)
    conflict = ("decision_number",)


class BlacklistRemovalImport(Kind[BlacklistRemovalRow]):
    """Removals are events: stored once, never edited; the same removal again is a no-op."""

    name = "blacklist-removals"
    model = BlacklistRemovalRow
    key_fields = ("decision_number",)
    copied = REMOVAL_FIELDS
    table = table_of(BlacklistRemoval)
    conflict = ("entry_id",)

    async def resolve(
        self, store: ImportStore, rows: Sequence[BlacklistRemovalRow]
    ) -> list[Resolved]:
        entries = await store.blacklist_entries({row.decision_number for row in rows})
        stored = await store.blacklist_removals({entry.id for entry in entries.values()})
        resolved: list[Resolved] = []
        for row in rows:
            entry = entries.get(row.decision_number)
            if entry is None:
                number = row.decision_number
                resolved.append([Problem("decision_number", f"no blacklist entry {number}")])
                continue
            if row.removed_on < entry.listed_on:
                listed = entry.listed_on.isoformat()
                reason = f"must not be before the entry's listed_on ({listed})"
                resolved.append([Problem("removed_on", reason)])
                continue
            values = self.copy(row)
            previous = stored.get(entry.id)
            if previous is not None and previous != values:
                differing = ", ".join(
                    name for name in REMOVAL_FIELDS if previous[name] != values[name]
                )
                reason = (
                    f"the entry already has a removal that differs in {differing}; "
                    "removals are never edited"
                )
                resolved.append([Problem("decision_number", reason)])
                continue
            values["entry_id"] = entry.id
            resolved.append(Ready(values))
        return resolved

    async def write(
        self, store: ImportStore, batch: Sequence[tuple[BlacklistRemovalRow, Ready]]
    ) -> int:
        rows = [ready.values for _, ready in batch]
        return len(await store.insert_new(self.table, rows, self.conflict))


class ProductImport(Kind[ProductRow]):
    """A product is keyed by its GTIN when it has one, and always unique by enterprise, name,
    brand and model; rows go to the upsert of the key that finds the stored product."""

    name = "products"
    model = ProductRow
    key_fields = ("gtin",)
    copied = ("gtin", "name", "brand", "model", "category", "source_agency", "published_at")
    table = table_of(Product)
    _NATURAL = ("uscc", "name", "brand", "model")

    def raw_key(self, values: dict[str, Any]) -> str:
        if values.get("gtin"):
            return str(values["gtin"])
        return " / ".join(str(values.get(name, "")) for name in self._NATURAL)

    def keys(self, row: ProductRow) -> list[tuple[str, Hashable]]:
        natural = (", ".join(self._NATURAL), (row.uscc, row.name, row.brand, row.model))
        return [("gtin", row.gtin), natural] if row.gtin else [natural]

    async def resolve(self, store: ImportStore, rows: Sequence[ProductRow]) -> list[Resolved]:
        ids = await _enterprise_ids(store, rows)
        by_gtin = await store.products_by_gtin({row.gtin for row in rows if row.gtin})
        by_natural = await store.products_by_natural_key(
            {(ids[row.uscc], row.name, row.brand, row.model) for row in rows if row.uscc in ids}
        )
        resolved: list[Resolved] = []
        for row in rows:
            enterprise_id = ids.get(row.uscc)
            if enterprise_id is None:
                resolved.append([_no_enterprise(row.uscc)])
                continue
            same_name = by_natural.get((enterprise_id, row.name, row.brand, row.model))
            found = self._route(row, by_gtin.get(row.gtin) if row.gtin else None, same_name)
            if isinstance(found, Problem):
                resolved.append([found])
            else:
                resolved.append(Ready(self.copy(row, enterprise_id=enterprise_id), key=found))
        return resolved

    @staticmethod
    def _route(
        row: ProductRow, same_gtin: ProductRef | None, same_name: ProductRef | None
    ) -> tuple[str, ...] | Problem:
        natural = ("enterprise_id", "name", "brand", "model")
        if row.gtin is None:
            return natural
        if same_gtin is not None:
            if same_name is not None and same_name.id != same_gtin.id:
                other = same_name.gtin or "none"
                reason = (
                    "another product of the enterprise has this name, brand and model "
                    f"(GTIN {other})"
                )
                return Problem("gtin", reason)
            return ("gtin",)
        if same_name is None:
            return ("gtin",)
        if same_name.gtin is None:
            # The stored product gets its GTIN.
            return natural
        return Problem(
            "gtin",
            f"the enterprise's product of this name, brand and model has GTIN {same_name.gtin}",
        )

    async def write(self, store: ImportStore, batch: Sequence[tuple[ProductRow, Ready]]) -> int:
        changed = 0
        # In order of first appearance, so ids follow the file as closely as they can.
        for key in dict.fromkeys(ready.key for _, ready in batch):
            rows = [ready.values for _, ready in batch if ready.key == key]
            changed += len(await store.upsert_products(rows, key))
        return changed


class SpotCheckImport(Kind[SpotCheckRow]):
    """A spot check and its failed items; a re-import replaces the items when they differ."""

    name = "spot-checks"
    model = SpotCheckRow
    key_fields = ("report_number",)
    copied = (
        "report_number",
        "level",
        "region_code",
        "sampled_on",
        "result",
        "inspecting_body",
        "source_agency",
        "published_at",
    )
    table = table_of(SpotCheck)
    conflict = ("report_number",)

    def __init__(self) -> None:
        self._regions = KnownCodes(Region.code)

    @staticmethod
    def _named(enterprise_id: int, row: SpotCheckRow) -> tuple[int, str, str, str]:
        # Without a GTIN the row has all three names; SpotCheckRow.problems saw to it.
        return (enterprise_id, row.product_name or "", row.brand or "", row.model or "")

    async def resolve(self, store: ImportStore, rows: Sequence[SpotCheckRow]) -> list[Resolved]:
        ids = await _enterprise_ids(store, rows)
        regions = await self._regions.known(store, {row.region_code for row in rows})
        by_gtin = await store.products_by_gtin({row.gtin for row in rows if row.gtin})
        by_natural = await store.products_by_natural_key(
            {
                self._named(ids[row.uscc], row)
                for row in rows
                if row.gtin is None and row.uscc in ids
            }
        )
        resolved: list[Resolved] = []
        for row in rows:
            problems: list[Problem] = []
            enterprise_id = ids.get(row.uscc)
            if enterprise_id is None:
                problems.append(_no_enterprise(row.uscc))
            if row.region_code not in regions:
                problems.append(Problem("region_code", f"no region with code {row.region_code}"))
            product: ProductRef | None = None
            if row.gtin is not None:
                product = by_gtin.get(row.gtin)
                if product is None:
                    problems.append(Problem("gtin", f"no product with GTIN {row.gtin}"))
                elif enterprise_id is not None and product.enterprise_id != enterprise_id:
                    problems.append(Problem("gtin", "the product belongs to another enterprise"))
            elif enterprise_id is not None:
                product = by_natural.get(self._named(enterprise_id, row))
                if product is None:
                    named = f"{row.product_name} / {row.brand} / {row.model}"
                    reason = f"the enterprise has no product {named}"
                    problems.append(Problem("product_name", reason))
            if problems or product is None or enterprise_id is None:
                resolved.append(problems)
                continue
            values = self.copy(row, enterprise_id=enterprise_id, product_id=product.id)
            resolved.append(Ready(values))
        return resolved

    async def write(self, store: ImportStore, batch: Sequence[tuple[SpotCheckRow, Ready]]) -> int:
        changed = set(
            await store.upsert(self.table, [ready.values for _, ready in batch], self.conflict)
        )
        ids = await store.ids_by(
            SpotCheck.report_number, SpotCheck.id, [row.report_number for row, _ in batch]
        )
        stored = await store.failed_items(ids.values())
        replaced: dict[int, list[dict[str, Any]]] = {}
        for row, _ in batch:
            spot_check_id = ids[row.report_number]
            items = [(i.item, i.standard, i.required, i.measured) for i in row.failed_items]
            if stored.get(spot_check_id, []) != items:
                replaced[spot_check_id] = [
                    {"spot_check_id": spot_check_id, "position": position, **item.model_dump()}
                    for position, item in enumerate(row.failed_items, start=1)
                ]
        await store.replace_children(table_of(FailedItem), "spot_check_id", replaced)
        await store.touch(self.table, replaced.keys() - changed)
        return len(changed | replaced.keys())


class LicenceImport(EnterpriseRecordKind[LicenceRow]):
    name = "licences"
    model = LicenceRow
    key_fields = ("number",)
    copied = tuple(name for name in LicenceRow.model_fields if name != "uscc")
    table = table_of(Licence)

    async def write(self, store: ImportStore, batch: Sequence[tuple[LicenceRow, Ready]]) -> int:
        rows = [ready.values for _, ready in batch]
        return len(await store.upsert_licences(rows))


class LicenceEventImport(Kind[LicenceEventRow]):
    name = "licence-events"
    model = LicenceEventRow
    key_fields = ("number", "at", "status")
    copied = ("status", "at", "reason")
    table = table_of(LicenceStatusEvent)
    conflict = ("licence_id", "at", "status")

    def __init__(self) -> None:
        self._changed: set[int] = set()

    async def resolve(self, store: ImportStore, rows: Sequence[LicenceEventRow]) -> list[Resolved]:
        ids = await store.ids_by(Licence.number, Licence.id, {row.number for row in rows})
        return [
            Ready(self.copy(row, licence_id=ids[row.number]))
            if row.number in ids
            else [Problem("number", f"no licence numbered {row.number}")]
            for row in rows
        ]

    async def write(
        self, store: ImportStore, batch: Sequence[tuple[LicenceEventRow, Ready]]
    ) -> int:
        rows = [ready.values for _, ready in batch]
        changed = await store.upsert(self.table, rows, self.conflict, returning="licence_id")
        self._changed.update(changed)
        return len(changed)

    async def finish(self, store: ImportStore) -> None:
        await store.refresh_licence_statuses(self._changed)


class RecallImport(Kind[RecallRow]):
    name = "recalls"
    model = RecallRow
    key_fields = ("notice_number",)
    copied = tuple(name for name in RecallRow.model_fields if name not in ("uscc", "gtin"))
    table = table_of(Recall)
    conflict = ("notice_number",)

    async def resolve(self, store: ImportStore, rows: Sequence[RecallRow]) -> list[Resolved]:
        ids = await _enterprise_ids(store, rows)
        products = await store.ids_by(
            Product.gtin, Product.id, {row.gtin for row in rows if row.gtin}
        )
        resolved: list[Resolved] = []
        for row in rows:
            problems: list[Problem] = []
            if row.uscc not in ids:
                problems.append(_no_enterprise(row.uscc))
            if row.gtin is not None and row.gtin not in products:
                problems.append(Problem("gtin", f"no product with GTIN {row.gtin}"))
            if problems:
                resolved.append(problems)
                continue
            product_id = products[row.gtin] if row.gtin is not None else None
            values = self.copy(row, enterprise_id=ids[row.uscc], product_id=product_id)
            resolved.append(Ready(values))
        return resolved


class ConsumerWarningImport(Kind[ConsumerWarningRow]):
    """A warning and its links to recalls and products; a re-import replaces differing links."""

    name = "consumer-warnings"
    model = ConsumerWarningRow
    key_fields = ("number",)
    copied = tuple(
        name
        for name in ConsumerWarningRow.model_fields
        if name not in ("related_recalls", "related_products")
    )
    table = table_of(ConsumerWarning)
    conflict = ("number",)
    _LINKS = ((warning_recall, "recall_id"), (warning_product, "product_id"))

    async def resolve(
        self, store: ImportStore, rows: Sequence[ConsumerWarningRow]
    ) -> list[Resolved]:
        recalls = await store.ids_by(
            Recall.notice_number,
            Recall.id,
            {number for row in rows for number in row.related_recalls},
        )
        products = await store.ids_by(
            Product.gtin, Product.id, {gtin for row in rows for gtin in row.related_products}
        )
        resolved: list[Resolved] = []
        for row in rows:
            problems: list[Problem] = []
            unknown = [number for number in row.related_recalls if number not in recalls]
            if unknown:
                reason = f"no recall notice {', '.join(unknown)}"
                problems.append(Problem("related_recalls", reason))
            unknown = [gtin for gtin in row.related_products if gtin not in products]
            if unknown:
                reason = f"no product with GTIN {', '.join(unknown)}"
                problems.append(Problem("related_products", reason))
            if problems:
                resolved.append(problems)
                continue
            links = {
                warning_recall.name: {recalls[number] for number in row.related_recalls},
                warning_product.name: {products[gtin] for gtin in row.related_products},
            }
            resolved.append(Ready(self.copy(row), links=links))
        return resolved

    async def write(
        self, store: ImportStore, batch: Sequence[tuple[ConsumerWarningRow, Ready]]
    ) -> int:
        rows = [ready.values for _, ready in batch]
        changed = set(await store.upsert(self.table, rows, self.conflict))
        ids = await store.ids_by(
            ConsumerWarning.number, ConsumerWarning.id, [row.number for row, _ in batch]
        )
        relinked: set[int] = set()
        for link_table, other in self._LINKS:
            stored = await store.links(link_table, other, ids.values())
            replaced: dict[int, list[dict[str, Any]]] = {}
            for row, ready in batch:
                warning_id = ids[row.number]
                wanted = ready.links[link_table.name]
                if stored.get(warning_id, set()) != wanted:
                    replaced[warning_id] = [
                        {"warning_id": warning_id, other: other_id} for other_id in sorted(wanted)
                    ]
            await store.replace_children(link_table, "warning_id", replaced)
            relinked.update(replaced)
        await store.touch(self.table, relinked - changed)
        return len(changed | relinked)


KINDS: dict[str, type[Kind[Any]]] = {
    kind.name: kind
    for kind in (
        RegionImport,
        EnterpriseImport,
        CreditEvaluationImport,
        BlacklistEntryImport,
        BlacklistRemovalImport,
        ProductImport,
        SpotCheckImport,
        LicenceImport,
        LicenceEventImport,
        RecallImport,
        ConsumerWarningImport,
    )
}
