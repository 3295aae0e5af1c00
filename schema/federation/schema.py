"""Subgraph schemas: the composed graph's types, cut along ``plan`` and marked for a router.

A subgraph schema is a tier schema (``TierSchema``: hidden fields do not exist) that keeps, on
the root ``Query`` and on entities, only the fields its subgraph serves (``plan.owner``). It
swaps every reference to a Node type for that type's entity form (``entities.entity``) and adds
the directives a router reads: ``@key`` (on the entity forms), ``@shareable``, the
authorization directives of each field's access declaration and the cost directives of the
limits' cost rule (``directives``).

Which value types several subgraphs share is only known once every subgraph's types are: the
schemas are therefore built twice per tier, once to learn the types of each, once for real.
Building one takes milliseconds and happens once per process and tier.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from typing import Any

import strawberry
from graphql import GraphQLObjectType, GraphQLSchema
from strawberry.annotation import StrawberryAnnotation
from strawberry.federation.schema_directives import Shareable
from strawberry.types.base import (
    StrawberryList,
    StrawberryObjectDefinition,
    StrawberryOptional,
    get_object_definition,
)
from strawberry.types.field import StrawberryField
from strawberry.types.lazy_type import LazyType

from hub.auth.principal import Tier
from hub.limits import TierLimits
from schema.access import access_of
from schema.build import Query, TierSchema, build_schema
from schema.federation import Subgraph, plan
from schema.federation.directives import authorization, cost
from schema.federation.entities import entity
from schema.node import Node

#: The Federation spec the subgraphs link: the first with the cost directives (``@cost``,
#: ``@listSize``); ``@authenticated`` and ``@requiresScopes`` came in 2.5.
FEDERATION_VERSION = "2.9"

Owner = Callable[[StrawberryField], Subgraph | None]


class SubgraphSchema(TierSchema, strawberry.federation.Schema):
    """The schema one subgraph serves to callers of one tier."""

    def __init__(
        self,
        subgraph: Subgraph,
        tier: Tier,
        *,
        query: type = Query,
        types: Sequence[type] = (),
        entities: Mapping[type, type] | None = None,
        shared: frozenset[str] = frozenset(),
        owner: Owner = plan.owner,
        extensions: Iterable[Any] = (),
        production: bool = False,
        costed: GraphQLSchema | None = None,
    ) -> None:
        self.subgraph = subgraph
        self.owner = owner
        # The composed graph's schema: the cost rule reads its GraphQL types, which the
        # subgraph's own are not yet while they are being built.
        self.costed = costed
        self.entity_forms = dict(entities or {})
        self.shared_types = shared
        self._forms = frozenset(self.entity_forms.values())
        # Directives attached to fields here are invisible to Strawberry's collector, which
        # reads the type definitions; the @link import list must still name them.
        self._attached: list[object] = []
        super().__init__(
            tier,
            production=production,
            query=query,
            types=list(types),
            extensions=list(extensions),
            federation_version=FEDERATION_VERSION,
        )

    @property
    def schema_directives_in_use(self) -> list[object]:
        return [*super().schema_directives_in_use, *self._attached]

    def get_fields(self, type_definition: StrawberryObjectDefinition) -> list[StrawberryField]:
        fields = super().get_fields(type_definition)
        if type_definition.is_input:
            return fields
        name = self.config.name_converter.from_type(type_definition)
        is_entity = type_definition.origin in self._forms
        keys = set(plan.key_of(name).split()) if is_entity else set()
        cut = is_entity or name == "Query"
        shareable = not type_definition.is_interface and not cut and name in self.shared_types
        costed = self.costed.type_map.get(name) if self.costed is not None else None
        if type_definition.is_interface or not isinstance(costed, GraphQLObjectType):
            costed = None
        kept = []
        for field in fields:
            serving = self.owner(field)
            is_key = field.python_name in keys
            if cut and serving is not None and serving is not self.subgraph and not is_key:
                continue
            directives: list[object] = []
            if shareable or (is_entity and serving is None and not is_key):
                directives.append(Shareable())
            access = access_of(field)
            if access is not None:
                directives += authorization(access)
            if costed is not None:
                definition = costed.fields.get(self.config.name_converter.get_graphql_name(field))
                if definition is not None:
                    directives += cost(definition, costed)
            kept.append(self._adapt(field, directives))
        return kept

    def _adapt(self, field: StrawberryField, directives: list[object]) -> StrawberryField:
        """``field`` with its Node types swapped for entity forms and ``directives`` added."""
        retyped, changed = self._retype(field.type)
        if not changed and not directives:
            return field
        adapted = copy.copy(field)
        if changed:
            adapted.type_annotation = StrawberryAnnotation(retyped)
        adapted.directives = [*field.directives, *directives]
        self._attached += directives
        return adapted

    def _retype(self, type_: Any) -> tuple[Any, bool]:
        if isinstance(type_, LazyType):
            type_ = type_.resolve_type()
        if isinstance(type_, StrawberryOptional | StrawberryList):
            inner, changed = self._retype(type_.of_type)
            if not changed:
                return type_, False
            return type(type_)(inner), True
        form = self.entity_forms.get(type_) if isinstance(type_, type) else None
        return (form, True) if form is not None else (type_, False)


@cache
def entity_forms(tier: Tier) -> dict[type, type]:
    """The entity form of every Node type of the composed graph of ``tier``."""
    forms: dict[type, type] = {}
    for concrete in build_schema(tier).schema_converter.type_map.values():
        definition = concrete.definition
        if (
            isinstance(definition, StrawberryObjectDefinition)
            and not definition.is_interface
            and isinstance(definition.origin, type)
            and issubclass(definition.origin, Node)
        ):
            forms[definition.origin] = entity(definition.origin)
    return forms


def _name(cls: type) -> str:
    return get_object_definition(cls, strict=True).name


@cache
def _object_types(subgraph: Subgraph, tier: Tier) -> frozenset[str]:
    """The object types of a subgraph, from a first build that marks nothing shareable."""
    forms = entity_forms(tier)
    node_types = list(forms.values()) if subgraph is plan.NODE_SUBGRAPH else []
    schema = SubgraphSchema(subgraph, tier, types=node_types, entities=forms)
    return frozenset(
        name
        for name, named in schema._schema.type_map.items()
        if isinstance(named, GraphQLObjectType)
        and not name.startswith("_")
        and named is not schema._schema.query_type
    )


@cache
def shared_value_types(tier: Tier) -> frozenset[str]:
    """Value types that more than one subgraph of ``tier`` has: each must mark them shareable."""
    counts = Counter(name for subgraph in Subgraph for name in _object_types(subgraph, tier))
    entities = {_name(form) for form in entity_forms(tier).values()}
    return frozenset(name for name, n in counts.items() if n > 1 and name not in entities)


@cache
def build_subgraph(
    subgraph: Subgraph, tier: Tier, *, production: bool = False, limits: TierLimits | None = None
) -> SubgraphSchema:
    """The schema ``subgraph`` serves to callers of ``tier``, in the mode of ``build_schema``.

    It runs the extensions of the composed schema of the same tier, mode and limits: sessions,
    error codes, caches, production mode and query limits alike.
    """
    composed = build_schema(tier, production=production, limits=limits)
    forms = entity_forms(tier)
    present = _object_types(subgraph, tier)
    return SubgraphSchema(
        subgraph,
        tier,
        types=[form for form in forms.values() if _name(form) in present],
        entities=forms,
        shared=shared_value_types(tier),
        extensions=composed.extensions,
        production=composed.production,
        costed=composed._schema,
    )
