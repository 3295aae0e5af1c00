"""Every declared field has a subgraph; a field nobody placed stops the build, with directions."""

from __future__ import annotations

import pytest
import strawberry
from strawberry.types.base import get_object_definition
from strawberry.types.field import StrawberryField

from hub.auth.principal import Tier
from schema.access import resolver
from schema.build import Query, build_schema
from schema.federation import Subgraph, plan
from schema.federation.schema import SubgraphSchema, build_subgraph
from schema.quality.types import Product
from schema.recalls.types import Recall


@strawberry.type(name="Query", description="A root declared outside every subgraph package.")
class StrayQuery:
    @resolver(description="A field nobody placed.")
    def stray(self) -> str:
        raise NotImplementedError


def test_a_field_of_no_subgraph_package_is_refused() -> None:
    with pytest.raises(TypeError) as raised:
        SubgraphSchema(Subgraph.CREDIT, Tier.PUBLIC, query=StrayQuery)
    cause = raised.value.__cause__
    assert isinstance(cause, plan.UnplannedFieldError)
    assert str(cause) == (
        "no subgraph serves 'stray', declared in 'tests.federation.test_plan': "
        "give its package a Subgraph or list the module in schema/federation/plan.py"
    )


def _fields(cls: type) -> dict[str, StrawberryField]:
    definition = get_object_definition(cls, strict=True)
    return {f.python_name: f for f in definition.fields}


def test_fields_follow_their_package() -> None:
    root = _fields(Query)
    assert plan.owner(root["enterprise"]) is Subgraph.CREDIT
    assert plan.owner(root["licences"]) is Subgraph.LICENSING
    assert plan.owner(root["node"]) is Subgraph.CREDIT  # declared in schema.build
    product = _fields(Product)
    assert plan.owner(product["recalls"]) is Subgraph.QUALITY  # declared by quality
    assert plan.owner(_fields(Recall)["product"]) is Subgraph.RECALLS
    # the global ID goes wherever its type goes
    assert plan.owner(product["id"]) is None


@pytest.mark.parametrize("tier", list(Tier), ids=lambda tier: tier.label)
def test_each_root_field_is_served_by_exactly_one_subgraph(tier: Tier) -> None:
    served: dict[str, list[str]] = {}
    for subgraph in Subgraph:
        root = build_subgraph(subgraph, tier)._schema.query_type
        assert root is not None
        for name in root.fields:
            if not name.startswith("_"):
                served.setdefault(name, []).append(subgraph.value)
    composed = build_schema(tier)._schema.query_type
    assert composed is not None
    assert sorted(served) == sorted(composed.fields)
    assert {name: s for name, s in served.items() if len(s) != 1} == {}
