"""Where each compilable GraphQL type lives in SQL, and the row rules its repository applies.

A ``Relation`` is the SQL form of one object type: its table, the columns behind its plain
fields (found by name on the model, plus the renames its ``from_row`` makes), and the fields
that need SQL of their own: links to other objects, connections, computed values.

The row rules and the filters are the repositories' own SQLAlchemy expressions, called over
the compiler's aliases and rendered into its statement (``render.sql_text``), at the instant
of the request (``hub.kit.time.Instant``: on PostgreSQL the transaction's own timestamp, on
SQLite the request's, bound as a parameter):

- ``hub.kit.repository.published``: below the internal tier, a record exists only once its
  ``published_at`` has passed;
- ``hub.blacklist.repository.in_force``: a listing is in force while published, listed, within
  its publicity period and not removed; ``listed`` (an enterprise has one) is ``blacklisted``;
- the filters' meanings: ``hub.enterprise.repository.conditions``,
  ``hub.blacklist.repository.conditions``;
- the sort keys of each connection are the repositories' ``KEYS``, newest first.

The root fields that read the database are declared here too: lookups by a natural key
(``LOOKUPS``) and lists (``LISTS``), each filter argument meaning what its repository's
``conditions`` say (``Filtering``), read from the request by the argument's GraphQL type into
the repository's filter fields (``schema.compiled.compiler``).

``tests/schema/test_compiled.py`` runs every compilable document both ways, compiled and
through the resolvers, on data that exercises each rule, and requires the same answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from sqlalchemy import ColumnElement

from hub.blacklist.models import BlacklistEntry
from hub.blacklist.repository import (
    BlacklistFilter,
    BlacklistRepository,
    in_force,
    listed,
    removal,
)
from hub.blacklist.repository import conditions as blacklist_conditions
from hub.credit.models import CreditEvaluation
from hub.credit.repository import CreditRepository
from hub.db import Base
from hub.enterprise.models import Enterprise, Industry, Region
from hub.enterprise.repository import SORT_KEYS, EnterpriseFilter, EnterpriseSort
from hub.enterprise.repository import conditions as enterprise_conditions
from hub.kit.codes import parse_gtin, parse_licence_number, parse_uscc
from hub.kit.repository import published
from hub.kit.time import Instant
from hub.licence.models import Licence, LicenceStatusEvent
from hub.licence.repository import LicenceFilter, LicenceRepository
from hub.licence.repository import conditions as licence_conditions
from hub.quality.models import FailedItem, Product, SpotCheck
from hub.quality.repository import (
    ProductFilter,
    ProductRepository,
    SpotCheckFilter,
    SpotCheckRepository,
    product_conditions,
    spot_check_conditions,
)
from hub.recall.models import Recall
from hub.recall.repository import RecallFilter, RecallRepository
from hub.recall.repository import conditions as recall_conditions
from hub.warning.models import ConsumerWarning, warning_product, warning_recall
from hub.warning.repository import WarningFilter, WarningRepository
from hub.warning.repository import conditions as warning_conditions
from search.documents import Kind

Rule = Callable[[Any, Instant], ColumnElement[Any]]
"""An expression over a row's columns (an alias's ``c``) at an instant."""


@dataclass(frozen=True, slots=True)
class Filtering:
    """What a relation's filter arguments mean: its repository's filter type, whose fields the
    arguments set (by their Python names), and the repository's ``conditions`` for it."""

    type: type[Any]
    conditions: Callable[[Any, Any, Instant], list[ColumnElement[bool]]]

    @property
    def names(self) -> frozenset[str]:
        return frozenset(f.name for f in fields(self.type))

    def of(self, row: Any, values: Mapping[str, Any], instant: Instant) -> list[Any]:
        return self.conditions(row, self.type(**values), instant)


def _removal(column: str) -> Rule:
    return lambda row, _instant: removal(row, column)


def _timeless(
    conditions: Callable[[Any, Any], list[ColumnElement[bool]]],
) -> Callable[[Any, Any, Instant], list[ColumnElement[bool]]]:
    return lambda row, filter, _instant: conditions(row, filter)


@dataclass(frozen=True, slots=True)
class ObjectLink:
    """A field holding one object of ``target``: the row whose ``key`` equals ``column``."""

    target: str
    column: str
    key: str = "id"


@dataclass(frozen=True, slots=True)
class ConnectionLink:
    """A connection of ``target`` rows whose ``parent`` column holds the source row's id; its
    other arguments set fields of the target's ``Filtering``."""

    target: str
    parent: str


@dataclass(frozen=True, slots=True)
class Through:
    """A table linking two others: its ``source`` column holds the source row's id, its
    ``target`` column the listed row's."""

    table: str
    source: str
    target: str


@dataclass(frozen=True, slots=True)
class ListLink:
    """A list of ``target`` rows (no pages) whose ``parent`` column holds the source row's id
    (or linked to it ``through`` a table), in the order of ``keys`` (its repository's), each
    descending or not."""

    target: str
    parent: str
    keys: tuple[str, ...]
    descending: bool = False
    through: Through | None = None


@dataclass(frozen=True, slots=True)
class Relation:
    type_name: str
    model: type[Base]
    renames: Mapping[str, str] = field(default_factory=dict)
    """Python field name of the GraphQL type -> column, where they differ."""
    published: bool = True
    """Whether the published rule hides draft rows below the internal tier."""
    visible: Rule | None = None
    """The row rule below the internal tier, where it is more than ``published``."""
    filter: Filtering | None = None
    """What the filter arguments of a list of these rows mean."""
    keys: tuple[str, ...] = ("id",)
    """Sort key of the relation's connections, descending; the last column is unique."""
    computed: Mapping[str, Rule] = field(default_factory=dict)
    objects: Mapping[str, ObjectLink] = field(default_factory=dict)
    connections: Mapping[str, ConnectionLink] = field(default_factory=dict)
    lists: Mapping[str, ListLink] = field(default_factory=dict)

    @property
    def table(self) -> str:
        return str(self.model.__tablename__)

    def column(self, python_name: str) -> str | None:
        name = self.renames.get(python_name, python_name)
        return name if name in self.model.__table__.columns else None

    def rule(self, row: Any, instant: Instant, sees_unpublished: bool) -> ColumnElement[Any] | None:
        """The condition a row must meet for the caller to see it; None: every row."""
        if sees_unpublished:
            return None
        if self.visible is not None:
            return self.visible(row, instant)
        return published(row, instant) if self.published else None


def _names(keys: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple(str(key.key) for key in keys)


def _enterprise() -> ObjectLink:
    return ObjectLink("Enterprise", "enterprise_id")


RELATIONS: Mapping[str, Relation] = {
    relation.type_name: relation
    for relation in (
        Relation(
            "Enterprise",
            Enterprise,
            keys=_names(SORT_KEYS[EnterpriseSort.NEWEST][0]),
            computed={"blacklisted": listed},
            filter=Filtering(EnterpriseFilter, enterprise_conditions),
            objects={
                "region": ObjectLink("Region", "region_code", "code"),
                "industry": ObjectLink("Industry", "industry_code", "code"),
            },
            connections={
                "licences": ConnectionLink("Licence", "enterprise_id"),
                "spotChecks": ConnectionLink("SpotCheck", "enterprise_id"),
                "recalls": ConnectionLink("Recall", "enterprise_id"),
                "creditHistory": ConnectionLink("CreditEvaluation", "enterprise_id"),
                "products": ConnectionLink("Product", "enterprise_id"),
            },
            lists={
                "blacklistEntries": ListLink(
                    "BlacklistEntry",
                    "enterprise_id",
                    _names(BlacklistRepository.KEYS),
                    descending=True,
                ),
            },
        ),
        Relation("Region", Region, published=False),
        Relation("Industry", Industry, published=False),
        Relation(
            "Licence",
            Licence,
            keys=_names(LicenceRepository.KEYS),
            filter=Filtering(LicenceFilter, _timeless(licence_conditions)),
            objects={"enterprise": _enterprise()},
            lists={
                "history": ListLink(
                    "LicenceStatusChange", "licence_id", _names(LicenceRepository.HISTORY_KEYS)
                )
            },
        ),
        Relation("LicenceStatusChange", LicenceStatusEvent, published=False),
        Relation(
            "SpotCheck",
            SpotCheck,
            renames={"sampled_at": "sampled_on"},
            keys=_names(SpotCheckRepository.KEYS),
            filter=Filtering(SpotCheckFilter, _timeless(spot_check_conditions)),
            objects={
                "enterprise": _enterprise(),
                "product": ObjectLink("Product", "product_id"),
                "region": ObjectLink("Region", "region_code", "code"),
            },
            lists={
                "failedItems": ListLink(
                    "FailedItem", "spot_check_id", _names(SpotCheckRepository.FAILED_ITEM_KEYS)
                )
            },
        ),
        Relation("FailedItem", FailedItem, published=False),
        Relation(
            "Product",
            Product,
            keys=_names(ProductRepository.KEYS),
            filter=Filtering(ProductFilter, _timeless(product_conditions)),
            objects={"enterprise": _enterprise()},
            connections={
                "spotChecks": ConnectionLink("SpotCheck", "product_id"),
                "recalls": ConnectionLink("Recall", "product_id"),
            },
        ),
        Relation(
            "Recall",
            Recall,
            keys=_names(RecallRepository.KEYS),
            filter=Filtering(RecallFilter, _timeless(recall_conditions)),
            objects={"enterprise": _enterprise(), "product": ObjectLink("Product", "product_id")},
        ),
        Relation(
            "ConsumerWarning",
            ConsumerWarning,
            keys=_names(WarningRepository.KEYS),
            filter=Filtering(WarningFilter, _timeless(warning_conditions)),
            lists={
                "relatedRecalls": ListLink(
                    "Recall",
                    "id",
                    _names(RecallRepository.KEYS),
                    descending=True,
                    through=Through(str(warning_recall.name), "warning_id", "recall_id"),
                ),
                "relatedProducts": ListLink(
                    "Product",
                    "id",
                    _names(ProductRepository.KEYS),
                    through=Through(str(warning_product.name), "warning_id", "product_id"),
                ),
            },
        ),
        Relation(
            "CreditEvaluation",
            CreditEvaluation,
            keys=_names(CreditRepository.KEYS),
        ),
        Relation(
            "BlacklistEntry",
            BlacklistEntry,
            renames={"listed_at": "listed_on"},
            visible=in_force,
            filter=Filtering(BlacklistFilter, _timeless(blacklist_conditions)),
            keys=_names(BlacklistRepository.KEYS),
            computed={
                "removedAt": _removal("removed_on"),
                "removalReason": _removal("reason"),
            },
            objects={"enterprise": _enterprise()},
        ),
    )
}


@dataclass(frozen=True, slots=True)
class Lookup:
    """A root field answering the one row of ``target`` whose ``column`` equals its
    ``argument``, read by ``parse`` (the resolver's own parser, which refuses what it must)."""

    target: str
    argument: str
    column: str
    parse: Callable[[str], str]


LOOKUPS: Mapping[str, Lookup] = {
    "enterprise": Lookup("Enterprise", "uscc", "uscc", parse_uscc),
    "licence": Lookup("Licence", "number", "number", parse_licence_number),
    "product": Lookup("Product", "gtin", "gtin", parse_gtin),
}

LISTS: Mapping[str, str] = {
    "enterprises": "Enterprise",
    "blacklist": "BlacklistEntry",
    "licences": "Licence",
    "spotChecks": "SpotCheck",
    "products": "Product",
    "recalls": "Recall",
    "consumerWarnings": "ConsumerWarning",
}
"""Root connections and the relation they list; ``filter`` sets the relation's
``Filtering``, ``first`` and ``after`` page it (and ``order`` sorts ``enterprises``)."""


@dataclass(frozen=True, slots=True)
class Search:
    """A root field of search: the search backend (``search.service``) finds its hits, of
    ``kind``, and the compiled statement builds each hit's ``target`` object by its id, under
    the relation's row rule (``schema.compiled.search``)."""

    kind: Kind
    target: str


SEARCHES: Mapping[str, Search] = {
    "searchEnterprises": Search(Kind.ENTERPRISE, "Enterprise"),
    "searchRecalls": Search(Kind.RECALL, "Recall"),
    "searchConsumerWarnings": Search(Kind.WARNING, "ConsumerWarning"),
}

FACET_NAMES: Mapping[str, str] = {"regions": "Region", "industries": "Industry"}
"""Facets whose values are codes of a relation's rows, and that relation: a facet's ``name``
is its row's, read by the code (as ``EnterpriseRepository.regions`` and ``industries`` read
them for the resolvers)."""

_SUPPRESSED = (
    "aggregates whose small cells are withheld with complementary cells, an iterative rule "
    "written once in hub.kit.suppression"
)
_PERSONAL = (
    "personal data: every read is audited in the reading transaction (scope complaints:read)"
)

RESOLVER_ONLY: Mapping[str, str] = {
    "Query.statistics": _SUPPRESSED,
    "Query.complaintStatistics": _SUPPRESSED,
    "Query.complaintCounts": "complaint counts behind a scope (complaints:read), exact for "
    "callers who may read the records",
    "Query.complaints": _PERSONAL,
    "Enterprise.complaints": _PERSONAL,
    "Product.complaints": _PERSONAL,
    "Enterprise.legalRepresentativeIdNumber": _PERSONAL,
    "Enterprise.legalRepresentativePhone": _PERSONAL,
}
"""The fields of the tier schemas that have no SQL form, and why: a document with any of them
goes whole to the resolvers. ``tests/schema/test_sql_forms.py`` holds every other field to a
SQL form, and each of these to none."""
