"""Access declarations reach the subgraph SDL as @authenticated and @requiresScopes.

A small schema of its own pins the mapping for every kind of declaration; the real subgraphs
must show the same on their partner fields, and lack those fields below the partner tier.
"""

from __future__ import annotations

import graphql
import pytest
import strawberry

from hub.auth.principal import Tier
from schema.access import field, resolver
from schema.federation import Subgraph
from schema.federation.schema import SubgraphSchema, build_subgraph
from tests.federation.peers import compose


@strawberry.type(description="A record with one field of each kind of access.")
class Record:
    anyone: str = field(description="For everyone.")
    scoped_public: str = field(description="Public tier, one scope.", scopes=["a:read"])
    partner: str = field(description="Partners.", tier=Tier.PARTNER)
    scoped: str = field(description="Partners with a scope.", tier=Tier.PARTNER, scopes=["b:read"])
    two_scopes: str = field(
        description="Partners with two scopes.", tier=Tier.PARTNER, scopes=["z:read", "b:read"]
    )
    internal: str = field(description="Internal callers.", tier=Tier.INTERNAL)


@strawberry.type(name="Query", description="The root of the test schema.")
class RecordQuery:
    @resolver(description="The record.")
    def record(self) -> Record:
        raise NotImplementedError


def records_schema(tier: Tier) -> SubgraphSchema:
    return SubgraphSchema(Subgraph.CREDIT, tier, query=RecordQuery, owner=lambda _: None)


def directives(sdl: str, type_name: str) -> dict[str, list[str]]:
    """Each field of ``type_name`` with the directives applied to it, as printed."""
    document = graphql.parse(sdl)
    (record,) = (
        d
        for d in document.definitions
        if isinstance(d, graphql.ObjectTypeDefinitionNode) and d.name.value == type_name
    )
    return {
        f.name.value: [graphql.print_ast(d) for d in f.directives or ()]
        for f in record.fields or ()
    }


def link_imports(sdl: str) -> list[str]:
    document = graphql.parse(sdl)
    (schema,) = (d for d in document.definitions if isinstance(d, graphql.SchemaDefinitionNode))
    (link,) = (d for d in schema.directives or () if d.name.value == "link")
    (imports,) = (a.value for a in link.arguments or () if a.name.value == "import")
    assert isinstance(imports, graphql.ListValueNode)
    return [v.value for v in imports.values if isinstance(v, graphql.StringValueNode)]


AUTHENTICATED = "@authenticated"


def scopes(*names: str) -> str:
    return "@requiresScopes(scopes: [[" + ", ".join(f'"{n}"' for n in names) + "]])"


@pytest.mark.parametrize(
    ("tier", "expected"),
    [
        (Tier.PUBLIC, {"anyone": [], "scopedPublic": [scopes("a:read")]}),
        (
            Tier.PARTNER,
            {
                "anyone": [],
                "scopedPublic": [scopes("a:read")],
                "partner": [AUTHENTICATED],
                "scoped": [AUTHENTICATED, scopes("b:read")],
                "twoScopes": [AUTHENTICATED, scopes("b:read", "z:read")],
            },
        ),
        (
            Tier.INTERNAL,
            {
                "anyone": [],
                "scopedPublic": [scopes("a:read")],
                "partner": [AUTHENTICATED],
                "scoped": [AUTHENTICATED, scopes("b:read")],
                "twoScopes": [AUTHENTICATED, scopes("b:read", "z:read")],
                "internal": [AUTHENTICATED],
            },
        ),
    ],
    ids=lambda value: value.label if isinstance(value, Tier) else "",
)
def test_tiers_and_scopes_become_directives(tier: Tier, expected: dict[str, list[str]]) -> None:
    sdl = records_schema(tier).as_str()
    assert directives(sdl, "Record") == expected
    imported = set(link_imports(sdl))
    assert "@requiresScopes" in imported
    assert ("@authenticated" in imported) is (tier is not Tier.PUBLIC)


def test_a_router_composes_them_into_the_supergraph() -> None:
    sdl = records_schema(Tier.PARTNER).as_str()
    composition = compose([{"name": "records", "url": "http://records.test/graphql", "sdl": sdl}])
    assert composition.errors == []
    assert composition.supergraph_sdl is not None
    fields = [line.strip() for line in composition.supergraph_sdl.splitlines()]
    assert f"partner: String! {AUTHENTICATED}" in fields
    assert f"scoped: String! {AUTHENTICATED} {scopes('b:read')}" in fields
    assert f"scopedPublic: String! {scopes('a:read')}" in fields


COST = "@cost(weight: 1)"  # every leaf field's, beside the access directives (test_limits.py)
PAGE = (
    '@listSize(assumedSize: 20, slicingArguments: ["first"], sizedFields: ["edges", "nodes"], '
    "requireOneSlicingArgument: false)"
)


def test_the_partner_subgraphs_mark_their_partner_fields() -> None:
    credit = directives(build_subgraph(Subgraph.CREDIT, Tier.PARTNER).as_str(), "Enterprise")
    assert credit["legalRepresentativeIdNumber"] == [AUTHENTICATED, scopes("personal:read"), COST]
    assert credit["legalRepresentativePhone"] == [AUTHENTICATED, scopes("personal:read"), COST]
    assert credit["name"] == [COST]
    quality = directives(build_subgraph(Subgraph.QUALITY, Tier.PARTNER).as_str(), "Product")
    assert quality["complaints"] == [AUTHENTICATED, scopes("complaints:read"), PAGE]


def test_the_public_subgraphs_have_no_partner_fields() -> None:
    credit = directives(build_subgraph(Subgraph.CREDIT, Tier.PUBLIC).as_str(), "Enterprise")
    assert "legalRepresentativeIdNumber" not in credit
    assert "name" in credit
    quality = directives(build_subgraph(Subgraph.QUALITY, Tier.PUBLIC).as_str(), "Product")
    assert "complaints" not in quality
    assert "name" in quality
