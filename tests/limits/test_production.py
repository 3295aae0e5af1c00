"""Probes of the kind GraphQL security scanners send, against the public endpoint of the app in
production mode, each answered with a 4xx or a coded GraphQL error in JSON, never a 5xx: twelve
of our own, then graphql-cop's, exactly as it sends them.

GET queries are allowed on purpose: public reads over GET can be cached by browsers and
proxies, and a GET can never run a mutation (405). Form-encoded and other non-JSON POSTs are
what a foreign page can make a browser send without a CORS preflight, so they are refused with
415.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.app import create_app
from hub.config import Settings
from hub.db import HubSession
from tests.fixtures.limits import bearer, hub_client

PRODUCTION = Settings(env="production")


@pytest.fixture
async def hub(sessionmaker: async_sessionmaker[HubSession]) -> AsyncIterator[httpx.AsyncClient]:
    """The app exactly as ``create_app`` makes it for production."""
    app = create_app(PRODUCTION, sessionmaker=sessionmaker)
    async with hub_client(PRODUCTION, sessionmaker, app=app) as client:
        yield client


def checked(response: httpx.Response) -> httpx.Response:
    """What every probe's answer has in common: no 5xx, nothing internal, the rate headers."""
    assert response.status_code < 500, response.text
    assert "Traceback" not in response.text
    assert response.headers["x-ratelimit-limit"] == "120"  # the public budget
    return response


async def post(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"query": query}
    if variables:
        body["variables"] = variables
    response = checked(await client.post("/graphql", json=body))
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


def codes(result: dict[str, Any]) -> list[str]:
    assert result["data"] is None, result
    return [error["extensions"]["code"] for error in result["errors"]]


# 1
async def test_introspection_of_the_whole_schema_is_refused(hub: httpx.AsyncClient) -> None:
    result = await post(hub, "{ __schema { types { name } } }")
    assert codes(result) == ["GRAPHQL_VALIDATION_FAILED"]
    assert result["errors"][0]["message"] == (
        "Introspection of the whole schema is disabled for the public; the public schema is "
        "published at /api/public.graphql."
    )


async def test_one_public_type_can_be_looked_up(hub: httpx.AsyncClient) -> None:
    # One named type of the published public SDL, as graphql-http's audit asks for it;
    # an internal type does not exist here, so it is null, as an unknown name is.
    query = "query T($name: String!) { __type(name: $name) { name } }"
    for name, found in (("Enterprise", {"name": "Enterprise"}), ("Complaint", None)):
        response = await hub.post("/graphql", json={"query": query, "variables": {"name": name}})
        assert response.json() == {"data": {"__type": found}}


async def test_typename_still_works(hub: httpx.AsyncClient) -> None:
    assert await post(hub, "{ __typename }") == {"data": {"__typename": "Query"}}


async def test_partners_keep_introspection(sessionmaker: async_sessionmaker[HubSession]) -> None:
    async with hub_client(PRODUCTION, sessionmaker) as client:
        response = await client.post(
            "/graphql",
            json={"query": '{ __type(name: "Query") { name } }'},
            headers=bearer("partner-a"),
        )
    assert response.json() == {"data": {"__type": {"name": "Query"}}}


# 2
async def test_no_graphiql_page(hub: httpx.AsyncClient) -> None:
    response = checked(await hub.get("/graphql", headers={"accept": "text/html"}))
    assert response.status_code == 404
    assert "graphiql" not in response.text.lower()


# 3
@pytest.mark.parametrize(
    ("query", "variables", "message"),
    [
        (
            "{ enterprises { nodes { nam } } }",
            {},
            "Cannot query field 'nam' on type 'Enterprise'.",
        ),
        (
            "{ enterprises(frist: 1) { totalCount } }",
            {},
            "Unknown argument 'frist' on field 'Query.enterprises'.",
        ),
        (
            "query($x: EnterpriseFiltr) { enterprises(filter: $x) { totalCount } }",
            {},
            "Unknown type 'EnterpriseFiltr'.",
        ),
        (
            "{ enterprises(filter: { creditGrade: AA }) { totalCount } }",
            {},
            "Invalid value for 'filter.creditGrade': Value 'AA' does not exist in 'CreditGrade' "
            "enum.",
        ),
        (
            "query($f: EnterpriseFilterInput) { enterprises(filter: $f) { totalCount } }",
            {"f": {"regoinCode": "440000"}},
            "Variable '$f' has invalid value: Expected value of type 'EnterpriseFilterInput' not "
            "to include unknown field 'regoinCode'. Found: {'regoinCode': '440000'}.",
        ),
        (
            "{ enterprises { nodes { region } } }",
            {},
            "Field 'region' of type 'Region' must have a selection of subfields.",
        ),
    ],
)
async def test_no_suggestions(
    hub: httpx.AsyncClient, query: str, variables: dict[str, Any], message: str
) -> None:
    result = await post(hub, query, **variables)
    assert [error["message"] for error in result["errors"]] == [message]


async def test_development_still_suggests(client: httpx.AsyncClient) -> None:
    # The same probe in development, so the test above cannot pass for want of a suggestion.
    response = await client.post("/graphql", json={"query": "{ enterprises { nodes { nam } } }"})
    assert response.json()["errors"][0]["message"].endswith("Did you mean 'name'?")


# 4
async def test_get_queries_are_answered(hub: httpx.AsyncClient) -> None:
    response = checked(
        await hub.get("/graphql", params={"query": "{ enterprises { totalCount } }"})
    )
    assert response.json() == {"data": {"enterprises": {"totalCount": 0}}}


# 5
@pytest.mark.parametrize("token", [None, "partner-a", "internal"])
async def test_get_mutations_are_refused_before_validation(
    sessionmaker: async_sessionmaker[HubSession], token: str | None
) -> None:
    mutation = 'mutation { enterpriseDelete(uscc: "91110000600037341L") }'
    async with hub_client(PRODUCTION, sessionmaker) as client:
        headers = bearer(token) if token else None
        over_get = await client.get("/graphql", params={"query": mutation}, headers=headers)
        over_post = await client.post("/graphql", json={"query": mutation}, headers=headers)
    # GET is refused for being a mutation: it never reaches validation, let alone execution
    assert (over_get.status_code, over_get.headers["allow"]) == (405, "POST")
    assert over_get.json() == {
        "errors": [
            {
                "message": "A mutation must be sent by POST; GET serves queries only.",
                "extensions": {"code": "METHOD_NOT_ALLOWED"},
            }
        ]
    }
    # the same document over POST is validated, and fails for want of a Mutation type
    assert over_post.json()["errors"][0]["message"] == (
        "The mutation operation is not supported by the schema."
    )


# 6
@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"query=%7B+__typename+%7D", "application/x-www-form-urlencoded"),
        (b'--b\r\nContent-Disposition: form-data; name="query"\r\n\r\n{ __typename }\r\n--b--',
         "multipart/form-data; boundary=b"),
        (b'{"query": "{ __typename }"}', "text/plain"),
        (b'{"query": "{ __typename }"}', ""),
    ],
)  # fmt: skip
async def test_non_json_posts_are_refused_with_415(
    hub: httpx.AsyncClient, content: bytes, content_type: str
) -> None:
    response = checked(
        await hub.post("/graphql", content=content, headers={"content-type": content_type})
    )
    assert response.status_code == 415
    assert response.headers["accept-post"] == "application/json"
    assert response.json()["errors"][0]["extensions"] == {"code": "UNSUPPORTED_MEDIA_TYPE"}


async def test_json_with_a_charset_is_json(hub: httpx.AsyncClient) -> None:
    response = checked(
        await hub.post(
            "/graphql",
            content=b'{"query": "{ __typename }"}',
            headers={"content-type": "application/json; charset=utf-8"},
        )
    )
    assert response.json() == {"data": {"__typename": "Query"}}


# 7
async def test_batches_are_refused(hub: httpx.AsyncClient) -> None:
    batch = [{"query": "{ __typename }"}] * 50
    response = checked(await hub.post("/graphql", json=batch))
    assert (response.status_code, response.json()) == (
        400,
        {
            "errors": [
                {
                    "message": "Batches are not supported: send one operation per request.",
                    "extensions": {"code": "BAD_REQUEST"},
                }
            ]
        },
    )


# 8
async def test_alias_overloading(hub: httpx.AsyncClient) -> None:
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(500)) + " }"
    result = await post(hub, query)
    assert result["errors"][0]["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "aliases": 500,
        "maxAliases": 20,
    }
    assert codes(result) == ["QUERY_TOO_COMPLEX"]


# 9
async def test_directive_overloading(hub: httpx.AsyncClient) -> None:
    # given: 250 uses of one directive on one field, each also a validation error of its own
    query = "{ __typename " + "@include(if: true) " * 250 + "}"
    result = await post(hub, query)
    # then: one error, not 250
    assert result["errors"] == [
        {
            "message": "The query uses 250 directives; the limit is 20.",
            "locations": [{"line": 1, "column": 1}],
            "extensions": {"code": "QUERY_TOO_COMPLEX", "directives": 250, "maxDirectives": 20},
        }
    ]


# 10
async def test_deep_nesting(hub: httpx.AsyncClient) -> None:
    # a valid query 15 fields deep: refused for its depth before anything runs
    inner = "name"
    for _ in range(4):
        inner = f"licences(first: 1) {{ nodes {{ enterprise {{ {inner} }} }} }}"
    deep = f"{{ enterprises(first: 1) {{ nodes {{ {inner} }} }} }}"
    result = await post(hub, deep)
    assert codes(result) == ["QUERY_TOO_COMPLEX"]
    assert result["errors"][0]["extensions"]["depth"] == 15

    # 150 levels of unknown fields: the depth is the error, not 150 unknown fields
    result = await post(hub, "{ a " * 150 + "}" * 150)
    assert result["errors"][0]["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "depth": 150,
        "maxDepth": 10,
    }
    assert codes(result) == ["QUERY_TOO_COMPLEX"]

    # a thousand levels: the parser stops at its nesting limit (200), well before the stack's
    result = await post(hub, "{ a " * 1000 + "}" * 1000)
    assert result["errors"] == [
        {
            "message": "The document nests too deeply to be parsed; the limit is 10.",
            "locations": [{"line": 1, "column": 801}],  # the 201st "{"
            "extensions": {"code": "QUERY_TOO_COMPLEX", "maxDepth": 10},
        }
    ]

    # and a document too big to read stops at the token limit, however shallow
    result = await post(hub, "{ " + "a " * 5000 + "}")
    assert result["errors"][0]["extensions"] == {"code": "QUERY_TOO_COMPLEX", "maxTokens": 2000}


# 11
async def test_circular_fragments(hub: httpx.AsyncClient) -> None:
    cycle = "{ ...A } fragment A on Query { ...B } fragment B on Query { __typename ...A }"
    result = await post(hub, cycle)
    assert result["errors"] == [
        {
            "message": "Cannot spread fragment 'A' within itself via 'B'.",
            "locations": [{"line": 1, "column": 32}, {"line": 1, "column": 72}],
            "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
        }
    ]

    # a ring of 150 fragments fails the same way, without a recursion error
    ring = " ".join(f"fragment F{i} on Query {{ ...F{(i + 1) % 150} }}" for i in range(150))
    result = await post(hub, "{ ...F0 } " + ring)
    assert codes(result) == ["GRAPHQL_VALIDATION_FAILED"]
    assert result["errors"][0]["message"].startswith("Cannot spread fragment 'F0' within itself")

    # a ring of 240 (1,924 tokens) nests deeper than graphql-core validates: it stops
    ring = " ".join(f"fragment F{i} on Query {{ ...F{(i + 1) % 240} }}" for i in range(240))
    result = await post(hub, "{ ...F0 } " + ring)
    assert result["errors"] == [
        {"message": "Validation aborted.", "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}
    ]


# 12
async def test_huge_first(hub: httpx.AsyncClient) -> None:
    result = await post(hub, "{ enterprises(first: 1000000) { totalCount } }")
    assert result["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "argument": "first",
        "reason": "must be between 0 and 100, got 1000000",
    }
    assert codes(result) == ["BAD_USER_INPUT"]


# graphql-cop's probes, as it sends them: a POST of {"query": ..., "operationName": "cop"}.


async def cop(client: httpx.AsyncClient, query: str) -> httpx.Response:
    return checked(await client.post("/graphql", json={"query": query, "operationName": "cop"}))


async def test_cop_alias_overloading(hub: httpx.AsyncClient) -> None:
    aliases = "".join(f"alias{i}:__typename \n" for i in range(101))
    result = (await cop(hub, "query cop { " + aliases + " }")).json()
    assert result == {
        "data": None,
        "errors": [
            {
                "message": "The query uses 101 aliases; the limit is 20.",
                "locations": [{"line": 1, "column": 1}],
                "extensions": {"code": "QUERY_TOO_COMPLEX", "aliases": 101, "maxAliases": 20},
            }
        ],
    }


async def test_cop_batch_query(hub: httpx.AsyncClient) -> None:
    batch = [{"query": "query cop { __typename }"}] * 10
    response = checked(await hub.post("/graphql", json=batch))
    assert response.status_code == 400
    assert list(response.json()) == ["errors"]  # not a list of ten answers


async def test_cop_field_suggestions(hub: httpx.AsyncClient) -> None:
    result = (await cop(hub, "query cop { __schema { directive } }")).json()
    assert "Did you mean" not in orjson.dumps(result).decode()
    assert codes(result) == ["GRAPHQL_VALIDATION_FAILED"] * len(result["errors"])


async def test_cop_directive_overloading(hub: httpx.AsyncClient) -> None:
    result = (await cop(hub, "query cop { __typename @aa@aa@aa@aa@aa@aa@aa@aa@aa@aa }")).json()
    # one error, however many times the unknown directive is repeated (graphql-cop: 10)
    assert result == {
        "data": None,
        "errors": [
            {
                "message": "Unknown directive '@aa'.",
                "locations": [{"line": 1, "column": 24}],
                "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
            }
        ],
    }


async def test_repeated_known_directives_are_one_error(hub: httpx.AsyncClient) -> None:
    result = await post(hub, "{ __typename @skip(if: false) @skip(if: false) @skip(if: false) }")
    assert result["errors"] == [
        {
            "message": "The directive '@skip' can only be used once at this location.",
            "locations": [{"line": 1, "column": 14}, {"line": 1, "column": 31}],
            "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
        }
    ]


async def test_cop_circular_introspection(hub: httpx.AsyncClient) -> None:
    query = (
        "query cop { __schema { types { fields { type { fields { type { fields { type { "
        "fields { type { name } } } } } } } } } } }"
    )
    result = (await cop(hub, query)).json()
    assert set(codes(result)) == {"GRAPHQL_VALIDATION_FAILED"}


async def test_cop_introspection(hub: httpx.AsyncClient) -> None:
    result = (await cop(hub, "query cop { __schema { types { name fields { name } } } }")).json()
    assert set(codes(result)) == {"GRAPHQL_VALIDATION_FAILED"}


async def test_cop_graphiql(hub: httpx.AsyncClient) -> None:
    response = checked(await hub.get("/graphql", headers={"accept": "text/html"}))
    assert response.status_code == 404
    for word in ("graphiql.min.css", "GraphQL Playground", "GraphiQL", "graphql-playground"):
        assert word not in response.text


async def test_cop_get_method_support_is_deliberate(hub: httpx.AsyncClient) -> None:
    response = checked(await hub.get("/graphql", params={"query": "query cop {__typename}"}))
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_cop_get_based_mutation(hub: httpx.AsyncClient) -> None:
    response = checked(await hub.get("/graphql", params={"query": "mutation cop {__typename}"}))
    assert (response.status_code, response.headers["allow"]) == (405, "POST")
    assert "data" not in response.json()


async def test_cop_post_based_csrf(hub: httpx.AsyncClient) -> None:
    response = checked(await hub.post("/graphql", data={"query": "query cop { __typename }"}))
    assert response.status_code == 415
    assert "data" not in response.json()


async def test_cop_trace_mode(hub: httpx.AsyncClient) -> None:
    response = await cop(hub, "query cop { __typename }")
    assert response.json() == {"data": {"__typename": "Query"}}  # no extensions, no tracing


async def test_cop_unhandled_errors(hub: httpx.AsyncClient) -> None:
    result = (await cop(hub, "qwerty cop { abc }")).json()
    assert result == {
        "data": None,
        "errors": [
            {
                "message": "Syntax Error: Unexpected Name 'qwerty'.",
                "locations": [{"line": 1, "column": 1}],
                "extensions": {"code": "GRAPHQL_PARSE_FAILED"},
            }
        ],
    }


async def test_cop_field_duplication(hub: httpx.AsyncClient) -> None:
    # 500 copies of a field are merged into one and cost what one costs: `__typename` nothing,
    # bounded by the token limit like any document; a real field's copies count toward the cost
    result = (await cop(hub, "query cop { " + "__typename \n" * 500 + "} ")).json()
    assert result == {"data": {"__typename": "Query"}}
    copies = "{ enterprises(first: 100) { nodes { " + "name " * 500 + "} } }"
    result = await post(hub, copies)
    assert result["errors"][0]["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "cost": 50101,
        "maxCost": 50000,
    }
