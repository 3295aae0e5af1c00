"""Where each compilable GraphQL type lives in SQL, and the row rules its repository applies.

A ``Relation`` is the SQL form of one object type: its table, the columns behind its plain
fields (found by name on the model, plus the renames its ``from_row`` makes), and the fields
that need SQL of their own: links to other objects, connections, computed values.

The row rules and the filters are the repositories' own SQLAlchemy expressions, called over
the compiler's aliases and rendered into its statement (``render.sql_text``), at the instant
of the request (``hub.kit.time.Instant``: on PostgreSQL the transaction's own timestamp):

- ``hub.kit.repository.published``: below the internal tier, a record exists only once its
  ``published_at`` has passed;
- ``hub.blacklist.repository.in_force``: a listing is in force while published, listed, within
  its publicity period and not removed; ``listed`` (an enterprise has one) is ``blacklisted``;
- the filters' meanings: ``hub.enterprise.repository.conditions``,
  ``hub.blacklist.repository.conditions``;
- the sort keys of each connection are the repositories' ``KEYS``, newest first.

``tests/schema/test_compiled.py`` runs every compilable document both ways, compiled and
through the resolvers, on data that exercises each rule, and requires the same answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement

from hub.blacklist.models import BlacklistEntry
from hub.blacklist.repository import BlacklistFilter, BlacklistRepository, in_force, listed, removal
from hub.blacklist.repository import conditions as blacklist_conditions
from hub.credit.models import CreditEvaluation
from hub.credit.repository import CreditRepository
from hub.db import Base
from hub.enterprise.models import Enterprise, Industry, Region
from hub.enterprise.repository import SORT_KEYS, EnterpriseFilter, EnterpriseSort
from hub.enterprise.repository import conditions as enterprise_conditions
from hub.kit.repository import published
from hub.kit.time import Instant
from hub.licence.models import Licence, LicenceStatus, LicenceStatusEvent
from hub.licence.repository import LicenceRepository
from hub.quality.models import CheckResult, FailedItem, Product, SpotCheck
from hub.quality.repository import ProductRepository, SpotCheckRepository
from hub.recall.models import Recall
from hub.recall.repository import RecallRepository

Rule = Callable[[Any, Instant], ColumnElement[Any]]
"""An expression over a row's columns (an alias's ``c``) at an instant."""

Conditions = Callable[[Any, Mapping[str, Any], Instant], list[ColumnElement[bool]]]
"""A filter argument's meaning over a row's columns: its repository's ``conditions``."""


def _removal(column: str) -> Rule:
    return lambda row, _instant: removal(row, column)


def _enterprise_filter(row: Any, values: Mapping[str, Any], instant: Instant) -> list[Any]:
    return enterprise_conditions(row, EnterpriseFilter(**values), instant)


def _blacklist_filter(row: Any, values: Mapping[str, Any], _instant: Instant) -> list[Any]:
    return blacklist_conditions(row, BlacklistFilter(**values))


@dataclass(frozen=True, slots=True)
class Argument:
    """An argument a compiled field accepts, and the column it filters on by equality."""

    column: str
    enum: type[Enum] | None = None


@dataclass(frozen=True, slots=True)
class ObjectLink:
    """A field holding one object of ``target``: the row whose ``key`` equals ``column``."""

    target: str
    column: str
    key: str = "id"


@dataclass(frozen=True, slots=True)
class ConnectionLink:
    """A connection of ``target`` rows whose ``parent`` column holds the source row's id."""

    target: str
    parent: str
    arguments: Mapping[str, Argument] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ListLink:
    """A list of ``target`` rows (no pages) whose ``parent`` column holds the source row's id,
    in the order of ``keys`` (its repository's), each descending or not."""

    target: str
    parent: str
    keys: tuple[str, ...]
    descending: bool = False


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
    filter: Conditions | None = None
    """What a root connection's ``filter`` argument means (its keys: the repository's filter
    fields)."""
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
            filter=_enterprise_filter,
            objects={
                "region": ObjectLink("Region", "region_code", "code"),
                "industry": ObjectLink("Industry", "industry_code", "code"),
            },
            connections={
                "licences": ConnectionLink(
                    "Licence", "enterprise_id", {"status": Argument("status", LicenceStatus)}
                ),
                "spotChecks": ConnectionLink(
                    "SpotCheck", "enterprise_id", {"result": Argument("result", CheckResult)}
                ),
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
            objects={"enterprise": _enterprise(), "product": ObjectLink("Product", "product_id")},
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
            objects={"enterprise": _enterprise()},
        ),
        Relation(
            "Recall",
            Recall,
            keys=_names(RecallRepository.KEYS),
            objects={"enterprise": _enterprise()},
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
            filter=_blacklist_filter,
            keys=_names(BlacklistRepository.KEYS),
            computed={
                "removedAt": _removal("removed_on"),
                "removalReason": _removal("reason"),
            },
            objects={"enterprise": _enterprise()},
        ),
    )
}
