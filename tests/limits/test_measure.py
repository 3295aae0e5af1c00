"""The numbers the limits compare: depth, aliases, directives and cost of real documents."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse

from hub.auth.principal import Tier
from schema.build import build_schema
from schema.limits import LIST_FACTOR, Measure, _Measurer, measure, operation_of


def measured(
    query: str, variables: dict[str, Any] | None = None, name: str | None = None
) -> Measure:
    document = parse(query)
    operation = operation_of(document, name)
    assert operation is not None
    return measure(build_schema(Tier.INTERNAL)._schema, document, operation, variables)


@pytest.mark.parametrize(
    ("query", "cost"),
    [
        ("{ __typename }", 0),
        ('{ enterprise(uscc: "91110000600037341L") { name uscc } }', 3),
        # a connection without `first` counts its default page, 20
        ("{ enterprises { totalCount } }", 1 + 20 * 1),
        ("{ enterprises(first: 10) { nodes { name } } }", 1 + 10 * (1 + 1)),
        # edges and nodes are the connection's `first` items: they multiply nothing more
        (
            "{ enterprises(first: 3) { edges { cursor node { uscc name } } "
            "pageInfo { hasNextPage } totalCount } }",
            1 + 3 * ((1 + (1 + (1 + 2))) + (1 + 1) + 1),
        ),
        # a list without `first` counts LIST_FACTOR items
        (
            "{ licences(first: 2) { nodes { number history { status } } } }",
            1 + 2 * (1 + (1 + (1 + LIST_FACTOR * 1))),
        ),
        # connections inside connections multiply
        (
            "{ enterprises(first: 5) { nodes { licences(first: 4) { nodes { number } } } } }",
            1 + 5 * (1 + (1 + 4 * (1 + 1))),
        ),
        ("{ enterprises(first: 0) { nodes { name } } }", 1),
        # beyond the page limit counts as the limit: the field refuses it with BAD_USER_INPUT
        ("{ enterprises(first: 1000000) { nodes { name } } }", 1 + 100 * 2),
        ("{ enterprises(first: null) { nodes { name } } }", 1 + 20 * 2),
        # inline fragments count in their parent; each spread of a fragment counts once
        (
            '{ node(id: "x") { id ... on Enterprise { name licences(first: 4) { totalCount } } } }',
            1 + (1 + 1 + (1 + 4 * 1)),
        ),
        (
            "{ ...F ...F } fragment F on Query { enterprises(first: 2) { nodes { name } } }",
            2 * (1 + 2 * 2),
        ),
        # introspection is bounded by the schema: no cost
        ("{ __schema { types { name fields { name args { name } } } } }", 0),
    ],
)
def test_cost(query: str, cost: int) -> None:
    assert measured(query).cost == cost


@pytest.mark.parametrize(
    ("variables", "cost"),
    [
        ({"n": 5}, 1 + 5 * 2),
        ({"n": 100}, 1 + 100 * 2),
        ({"n": 250}, 1 + 100 * 2),
        ({"n": None}, 1 + 20 * 2),
        ({}, 1 + 7 * 2),  # the variable's own default
        ({"n": "five"}, 1 + 20 * 2),  # not a number: refused at execution, counted as the default
    ],
)
def test_cost_resolves_variables(variables: dict[str, Any], cost: int) -> None:
    query = "query($n: Int = 7) { enterprises(first: $n) { nodes { name } } }"
    assert measured(query, variables).cost == cost


def test_an_undeclared_default_is_the_schemas() -> None:
    assert measured("query($n: Int) { enterprises(first: $n) { nodes { name } } }").cost == 41


def test_the_executed_operation_is_measured() -> None:
    document = """
        query Small { enterprises(first: 1) { nodes { name } } }
        query Big { enterprises(first: 100) { nodes { name } } }
    """
    assert measured(document, name="Small").cost == 3
    assert measured(document, name="Big").cost == 201
    assert operation_of(parse(document), None) is None
    assert operation_of(parse(document), "Other") is None


@pytest.mark.parametrize(
    ("query", "depth"),
    [
        ("{ __typename }", 0),
        ("{ enterprises { totalCount } }", 2),
        ("{ enterprises { nodes { region { name } } } }", 4),
        ("{ enterprises { nodes { ...R } } } fragment R on Enterprise { region { name } }", 4),
        ('{ node(id: "x") { ... on Enterprise { licences { nodes { number } } } } }', 4),
        ("{ __schema { types { fields { type { ofType { ofType { name } } } } } } }", 0),
        ("{ enterprises { nodes { __typename } } }", 2),
    ],
)
def test_depth(query: str, depth: int) -> None:
    assert measured(query).depth == depth


def test_aliases_and_directives_count_once_per_spread() -> None:
    query = """
        { a: __typename ...F @include(if: true) ...F ... on Query @skip(if: false) { ...F } }
        fragment F on Query { b: __typename c: enterprises @include(if: true) { totalCount } }
    """
    got = measured(query)
    assert (got.aliases, got.directives) == (1 + 3 * 2, 2 + 3 * 1)


def test_a_fragment_spread_a_billion_times_is_measured_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: each fragment spreads the previous one twice, 2^39 aliases in 40 definitions
    fragments = ["fragment F0 on Query { a: __typename }"] + [
        f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, 40)
    ]
    query = "{ ...F39 }\n" + "\n".join(fragments)
    walked: list[int] = []
    selections = _Measurer.selections

    def counted(self: _Measurer, *arguments: Any) -> Measure:
        walked.append(1)
        return selections(self, *arguments)

    monkeypatch.setattr(_Measurer, "selections", counted)

    # when
    got = measured(query)

    # then: every alias counted, each selection set walked once (40 fragments and the
    # operation), not once per spread (a timed bound here failed on a loaded machine)
    assert (got.aliases, len(walked)) == (2**39, 41)


def test_cycles_and_long_chains_of_fragments_do_not_recurse() -> None:
    cycle = "{ ...A } fragment A on Query { ...B a: __typename } fragment B on Query { ...A }"
    assert measured(cycle) == Measure(depth=0, aliases=1, directives=0, cost=0)

    chain = ["fragment C0 on Query { enterprises(first: 1) { totalCount } }"] + [
        f"fragment C{i} on Query {{ ...C{i - 1} }}" for i in range(1, 5000)
    ]
    got = measured("{ ...C4999 }\n" + "\n".join(chain))
    assert (got.depth, got.cost) == (2, 2)
