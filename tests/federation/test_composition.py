"""Apollo's composition accepts the subgraphs, and the graph it composes is the hub's graph."""

from __future__ import annotations

import graphql
import pytest

from hub.auth.principal import Tier
from schema.build import build_schema
from schema.federation import Subgraph
from schema.federation.schema import build_subgraph
from tests.federation.peers import Composition, compose

TIERS = pytest.mark.parametrize("tier", list(Tier), ids=lambda tier: tier.label)


def subgraphs(tier: Tier) -> list[dict[str, str]]:
    return [
        {"name": s.value, "url": f"http://{s.value}.hub.test/graphql", "sdl": printed(s, tier)}
        for s in Subgraph
    ]


def printed(subgraph: Subgraph, tier: Tier) -> str:
    return build_subgraph(subgraph, tier).as_str()


_COMPOSED: dict[tuple[Tier, bool], Composition] = {}


def composed(tier: Tier, *, strip_authorization: bool = False) -> Composition:
    """Each composition once per session: composing takes a Node process and a second."""
    key = (tier, strip_authorization)
    if key not in _COMPOSED:
        _COMPOSED[key] = compose(subgraphs(tier), strip_authorization=strip_authorization)
    return _COMPOSED[key]


def _sorted(schema: graphql.GraphQLSchema) -> str:
    return graphql.print_schema(graphql.lexicographic_sort_schema(schema))


@TIERS
def test_the_subgraphs_compose_without_errors_or_hints(tier: Tier) -> None:
    composition = composed(tier)
    assert composition.errors == []
    # a hint is a smell: differing descriptions, a shareable field resolved inconsistently
    assert composition.hints == []


@TIERS
def test_the_supergraph_is_the_graph_the_hub_serves(tier: Tier) -> None:
    """Every type, field, argument and description, as clients of a router see them."""
    api_schema = composed(tier).api_schema
    assert api_schema is not None
    assert _sorted(graphql.build_schema(api_schema)) == _sorted(build_schema(tier)._schema)


def test_routers_learn_the_authorization_of_partner_fields() -> None:
    supergraph = composed(Tier.PARTNER).supergraph_sdl
    assert supergraph is not None
    assert '@link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY)' in (
        supergraph
    )
    assert '@link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)' in (
        supergraph
    )
    scoped = '@authenticated @requiresScopes(scopes: [["personal:read"]])'
    assert f"legalRepresentativeIdNumber: String @join__field(graph: CREDIT) {scoped}" in (
        supergraph
    )


def test_a_gateway_gets_the_supergraph_without_authorization_directives() -> None:
    composition = composed(Tier.PARTNER, strip_authorization=True)
    assert composition.errors == []
    assert composition.supergraph_sdl is not None
    assert "authenticated" not in composition.supergraph_sdl
    assert "requiresScopes" not in composition.supergraph_sdl
    # still the partner graph: the fields are there, the subgraphs enforce who gets them
    assert "legalRepresentativeIdNumber" in composition.supergraph_sdl
