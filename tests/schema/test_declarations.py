"""The schema documents itself, and every field declares who may see it."""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
)
from strawberry.types.base import StrawberryObjectDefinition

from hub.auth.principal import Tier
from schema.access import access_of
from schema.build import build_schema


def test_every_field_declares_its_tier() -> None:
    schema = build_schema(Tier.INTERNAL)
    undeclared = []
    checked = 0
    for name, concrete in schema.schema_converter.type_map.items():
        definition = concrete.definition
        if not isinstance(definition, StrawberryObjectDefinition):
            continue
        exposed = getattr(schema._schema.get_type(name), "fields", {})
        for field in definition.fields:
            if schema.config.name_converter.get_graphql_name(field) not in exposed:
                continue  # a Private attribute, not a GraphQL field
            checked += 1
            if access_of(field) is None:
                undeclared.append(f"{name}.{field.python_name}")
    assert undeclared == []
    assert checked > 150


def test_every_type_field_argument_and_value_is_described() -> None:
    schema = build_schema(Tier.INTERNAL)._schema
    missing = []
    for name, named in schema.type_map.items():
        if name.startswith("__"):
            continue
        if not named.description:
            missing.append(name)
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in named.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                missing += [
                    f"{name}.{field_name}({arg_name})"
                    for arg_name, arg in field.args.items()
                    if not arg.description
                ]
        if isinstance(named, GraphQLInputObjectType):
            missing += [f"{name}.{f}" for f, v in named.fields.items() if not v.description]
        if isinstance(named, GraphQLEnumType):
            missing += [f"{name}.{v}" for v, value in named.values.items() if not value.description]
    assert missing == []


def test_connections_take_first_and_after() -> None:
    schema = build_schema(Tier.PUBLIC)._schema
    for name, named in schema.type_map.items():
        if not isinstance(named, GraphQLObjectType):
            continue
        for field_name, field in named.fields.items():
            type_name = str(field.type).rstrip("!")
            if type_name.endswith("Connection"):
                assert {"first", "after"} <= set(field.args), f"{name}.{field_name}"
