"""The HTTP edge of /graphql: what a request may be, and how each refusal is answered.

Every refusal is JSON with ``errors[].extensions.code``; none is a 500, plain text or a
traceback. Statuses follow GraphQL over HTTP for the media type the caller accepts.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.auth.principal import Tier
from hub.config import Settings
from hub.db import HubSession
from tests.fixtures.limits import bearer, hub_client, limits

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


def refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The one error of a refusal answered with ``status``; checks what all refusals share."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == JSON
    body = response.json()
    assert list(body) == ["errors"], body
    [error] = body["errors"]
    assert error["extensions"]["code"] == code, error
    result: dict[str, Any] = error
    return result


async def post_bytes(
    client: httpx.AsyncClient, body: bytes, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await client.post(
        "/graphql", content=body, headers={"content-type": JSON, **(headers or {})}
    )


def nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


class CountedBody:
    """A request body sent in chunks, counting how many the app asked for."""

    def __init__(self, size: int, chunk: int = 65_536) -> None:
        self.size = size
        self.chunk = chunk
        self.read = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        head = b'{"query": "{ enterprise(uscc: \\"'
        tail = b'\\") { name } }"}'
        data = head + b"1" * (self.size - len(head) - len(tail)) + tail
        for start in range(0, len(data), self.chunk):
            self.read += 1
            yield data[start : start + self.chunk]


# The body


@pytest.mark.parametrize("body", [b'"x"', b"42", b"null", b"true"])
async def test_a_body_that_is_not_an_object_is_a_bad_request(
    client: httpx.AsyncClient, body: bytes
) -> None:
    error = refused(await post_bytes(client, body), 400, "BAD_REQUEST")
    assert error["message"] == 'The body must be a JSON object: {"query": "..."}.'


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"\xff\xfe{}", "The body is not JSON: "),
        (b'{"query": "{ \xff }"}', "The body is not JSON: "),
        (b"{not json", "The body is not JSON: "),
        (b"", 'The body is empty: send {"query": "..."}.'),
    ],
)
async def test_a_body_that_is_not_json_in_utf8_is_a_bad_request(
    client: httpx.AsyncClient, body: bytes, message: str
) -> None:
    error = refused(await post_bytes(client, body), 400, "BAD_REQUEST")
    assert error["message"].startswith(message)


async def test_batches_are_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json=[{"query": "{ __typename }"}] * 10)
    error = refused(response, 400, "BAD_REQUEST")
    assert error["message"] == "Batches are not supported: send one operation per request."


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({}, 'The request has no query: send {"query": "..."}.'),
        ({"query": None, "variables": {}}, 'The request has no query: send {"query": "..."}.'),
        ({"query": ""}, 'The request has no query: send {"query": "..."}.'),
        ({"query": 42}, "`query` must be a string."),
        ({"query": ["{ __typename }"]}, "`query` must be a string."),
        ({"query": "{ __typename }", "variables": "x"}, "`variables` must be an object or null."),
        ({"query": "{ __typename }", "variables": [1]}, "`variables` must be an object or null."),
        ({"query": "{ __typename }", "extensions": 0}, "`extensions` must be an object or null."),
        (
            {"query": "{ __typename }", "operationName": {"a": 1}},
            "`operationName` must be a string or null.",
        ),
    ],
)
async def test_parameters_of_the_wrong_type_are_a_bad_request(
    client: httpx.AsyncClient, payload: dict[str, Any], message: str
) -> None:
    error = refused(await client.post("/graphql", json=payload), 400, "BAD_REQUEST")
    assert error["message"] == message


async def test_null_parameters_are_absent_ones(client: httpx.AsyncClient) -> None:
    payload = {"query": "{ __typename }", "variables": None, "operationName": None}
    response = await client.post("/graphql", json={**payload, "extensions": None})
    assert (response.status_code, response.json()) == (200, {"data": {"__typename": "Query"}})


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_variables_nested_5000_deep_are_a_bad_request(
    sessionmaker: async_sessionmaker[HubSession], method: str
) -> None:
    variables = "[" * 5000 + "]" * 5000
    query = "query($v: [String]) { __typename }"
    # a URL long enough to carry them, so that their depth is what is refused
    settings = Settings(limits=limits(public={"max_url_length": 100_000}))
    async with hub_client(settings, sessionmaker) as hub:
        if method == "POST":
            body = f'{{"query": "{query}", "variables": {{"v": {variables}}}}}'.encode()
            response = await post_bytes(hub, body)
            message = "The body is not JSON: "
        else:
            params = {"query": query, "variables": '{"v": ' + variables + "}"}
            response = await hub.get("/graphql", params=params)
            message = "`variables` is not JSON: "
    assert refused(response, 400, "BAD_REQUEST")["message"].startswith(message)


@pytest.mark.parametrize("name", ["variables", "extensions"])
async def test_variables_and_extensions_nest_no_deeper_than_the_limit(
    client: httpx.AsyncClient, name: str
) -> None:
    at_limit = {"query": "{ __typename }", name: {"x": nested(10)}}
    response = await client.post("/graphql", json=at_limit)
    assert (response.status_code, response.json()) == (200, {"data": {"__typename": "Query"}})

    deeper = {"query": "{ __typename }", name: {"x": nested(11)}}
    error = refused(await client.post("/graphql", json=deeper), 400, "BAD_USER_INPUT")
    assert error == {
        "message": f"`{name}` nests objects and lists deeper than 10, the limit.",
        "extensions": {"code": "BAD_USER_INPUT", "maxVariablesDepth": 10},
    }


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=latin-1", "application/graphql", "text/plain"]
)
async def test_a_post_in_another_media_type_or_charset_is_refused_with_415(
    client: httpx.AsyncClient, content_type: str
) -> None:
    response = await client.post(
        "/graphql",
        content=b'{"query": "{ __typename }"}',
        headers={"content-type": content_type},
    )
    refused(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert response.headers["accept-post"] == JSON


# Sizes


async def test_a_body_declared_too_large_is_refused_before_it_is_read(
    client: httpx.AsyncClient,
) -> None:
    # given four of the 10 MB queries that once filled the caches, sent at once
    bodies = [CountedBody(10_000_000) for _ in range(4)]

    async def send(body: CountedBody) -> httpx.Response:
        headers = {"content-type": JSON, "content-length": str(body.size)}
        return await client.post("/graphql", content=body, headers=headers)

    responses = await asyncio.gather(*(send(body) for body in bodies))

    # then: each is refused, and not a byte of them was read
    for response in responses:
        error = refused(response, 413, "PAYLOAD_TOO_LARGE")
        assert error == {
            "message": "The body is larger than 100000 bytes, the limit.",
            "extensions": {"code": "PAYLOAD_TOO_LARGE", "maxBodyBytes": 100_000},
        }
    assert [body.read for body in bodies] == [0, 0, 0, 0]


async def test_a_body_too_large_is_read_no_further_than_the_limit(
    client: httpx.AsyncClient,
) -> None:
    # given a 10 MB body in 64 KiB chunks, with no Content-Length to tell its size
    body = CountedBody(10_000_000)
    response = await client.post("/graphql", content=body, headers={"content-type": JSON})
    refused(response, 413, "PAYLOAD_TOO_LARGE")
    # then: the second chunk passed the limit (100,000 bytes) and nothing more was read
    assert body.read == 2


async def test_a_body_at_the_limit_is_read(client: httpx.AsyncClient) -> None:
    query = '{ enterprise(uscc: "91110000600037341L") { name } }'
    padding = 100_000 - len(orjson.dumps({"query": query}))
    body = orjson.dumps({"query": query + " " * padding})
    assert len(body) == 100_000
    response = await post_bytes(client, body)
    # the query itself is too long for the public, but the body was read to see that
    assert refused(response, 413, "PAYLOAD_TOO_LARGE")["extensions"] == {
        "code": "PAYLOAD_TOO_LARGE",
        "maxQueryLength": 20_000,
    }


async def test_a_long_query_is_refused_before_it_is_parsed_by_the_tier_s_limit(
    sessionmaker: async_sessionmaker[HubSession],
) -> None:
    # a string literal is one token, whatever its length: only its length can refuse it
    query = '{ enterprise(uscc: "' + "1" * 30_000 + '") { name } }'
    async with hub_client(Settings(), sessionmaker) as hub:
        public = await hub.post("/graphql", json={"query": query})
        partner = await hub.post("/graphql", json={"query": query}, headers=bearer("partner-a"))
    assert refused(public, 413, "PAYLOAD_TOO_LARGE") == {
        "message": "The query has 30033 characters; the limit is 20000.",
        "extensions": {"code": "PAYLOAD_TOO_LARGE", "maxQueryLength": 20_000},
    }
    # a partner may send 50,000 characters: the query runs, and the USCC is refused
    assert partner.status_code == 200
    assert partner.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_long_url_is_refused_with_414(client: httpx.AsyncClient) -> None:
    query = "{ __typename " + "# comment " * 800 + "}"
    response = await client.get("/graphql", params={"query": query})
    error = refused(response, 414, "URI_TOO_LONG")
    assert error["extensions"] == {"code": "URI_TOO_LONG", "maxUrlLength": 8_000}
    assert error["message"].endswith("the limit is 8000. Send a long query by POST.")


async def test_limits_of_the_edge_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, sessionmaker: async_sessionmaker[HubSession]
) -> None:
    monkeypatch.setenv("HUB_LIMITS__PUBLIC__MAX_BODY_BYTES", "1000")
    monkeypatch.setenv("HUB_LIMITS__PUBLIC__MAX_QUERY_LENGTH", "100")
    monkeypatch.setenv("HUB_LIMITS__PUBLIC__MAX_URL_LENGTH", "200")
    monkeypatch.setenv("HUB_LIMITS__PUBLIC__MAX_VARIABLES_DEPTH", "2")
    settings = Settings()
    assert (
        settings.limits.public
        == limits(
            public={
                "max_body_bytes": 1000,
                "max_query_length": 100,
                "max_url_length": 200,
                "max_variables_depth": 2,
            }
        ).public
    )
    async with hub_client(settings, sessionmaker) as hub:
        body = await hub.post("/graphql", json={"query": "{ __typename }" + " " * 1000})
        query = await hub.post("/graphql", json={"query": "{ __typename }" + " " * 100})
        url = await hub.get("/graphql", params={"query": "{ __typename }" + " " * 200})
        deep = await hub.post(
            "/graphql", json={"query": "{ __typename }", "variables": {"x": nested(3)}}
        )
        partner = await hub.post(
            "/graphql",
            json={"query": "{ __typename }" + " " * 1000},
            headers=bearer("partner-a"),
        )
    assert refused(body, 413, "PAYLOAD_TOO_LARGE")["extensions"]["maxBodyBytes"] == 1000
    assert refused(query, 413, "PAYLOAD_TOO_LARGE")["extensions"]["maxQueryLength"] == 100
    assert refused(url, 414, "URI_TOO_LONG")["extensions"]["maxUrlLength"] == 200
    assert refused(deep, 400, "BAD_USER_INPUT")["extensions"]["maxVariablesDepth"] == 2
    assert partner.json() == {"data": {"__typename": "Query"}}


# GET


@pytest.mark.parametrize(
    ("query_string", "message"),
    [
        ("query=%FF", "The URL's parameters are not UTF-8."),
        ("query={__typename}&query={__typename}", "`query` is given more than once."),
        ("query={__typename}&variables={", "`variables` is not JSON: "),
        ("variables={}", 'The request has no query: send {"query": "..."}.'),
        ("", 'The request has no query: send {"query": "..."}.'),
    ],
)
async def test_bad_get_parameters_are_a_bad_request(
    client: httpx.AsyncClient, query_string: str, message: str
) -> None:
    response = await client.get(f"/graphql?{query_string}", headers={"accept": JSON})
    assert refused(response, 400, "BAD_REQUEST")["message"].startswith(message)


async def test_a_mutation_by_get_is_refused_with_405(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "mutation { __typename }"})
    assert response.headers["allow"] == "POST"
    assert refused(response, 405, "METHOD_NOT_ALLOWED") == {
        "message": "A mutation must be sent by POST; GET serves queries only.",
        "extensions": {"code": "METHOD_NOT_ALLOWED"},
    }


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
async def test_other_methods_are_refused_with_405_in_json(
    client: httpx.AsyncClient, method: str
) -> None:
    response = await client.request(method, "/graphql", json={"query": "{ __typename }"})
    assert response.headers["allow"] == "GET, POST"
    assert refused(response, 405, "METHOD_NOT_ALLOWED")["extensions"] == {
        "code": "METHOD_NOT_ALLOWED"
    }


async def test_get_and_post_read_a_request_alike(client: httpx.AsyncClient) -> None:
    query = "query Named($n: Int) { enterprises(first: $n) { totalCount } }"
    parameters = {"query": query, "variables": {"n": 1}, "operationName": "Named"}
    by_post = await client.post("/graphql", json=parameters)
    by_get = await client.get(
        "/graphql",
        params={**parameters, "variables": orjson.dumps(parameters["variables"]).decode()},
    )
    assert by_post.json() == by_get.json() == {"data": {"enterprises": {"totalCount": 0}}}


# Operations


async def test_several_operations_without_a_name_are_refused(client: httpx.AsyncClient) -> None:
    document = "query A { __typename } query B { enterprises { totalCount } }"
    response = await client.post("/graphql", json={"query": document})
    assert response.json() == {
        "data": None,
        "errors": [
            {
                "message": "The document has 2 operations: name the one to run with operationName.",
                "extensions": {"code": "OPERATION_RESOLUTION_FAILURE"},
            }
        ],
    }
    named = await client.post("/graphql", json={"query": document, "operationName": "B"})
    assert named.json() == {"data": {"enterprises": {"totalCount": 0}}}


@pytest.mark.parametrize(
    ("document", "name", "message"),
    [
        ("query A { __typename }", "B", "The document has no operation named 'B'."),
        ("fragment F on Query { __typename }", None, "The document has no operation to run."),
    ],
)
async def test_an_operation_that_is_not_there_is_refused(
    client: httpx.AsyncClient, document: str, name: str | None, message: str
) -> None:
    payload = {"query": document, "operationName": name}
    as_json = await client.post("/graphql", json=payload)
    assert (as_json.status_code, as_json.json()) == (
        200,
        {
            "data": None,
            "errors": [
                {"message": message, "extensions": {"code": "OPERATION_RESOLUTION_FAILURE"}}
            ],
        },
    )
    as_graphql = await client.post("/graphql", json=payload, headers={"accept": GRAPHQL_RESPONSE})
    assert (as_graphql.status_code, as_graphql.json()) == (
        400,
        {"errors": [{"message": message, "extensions": {"code": "OPERATION_RESOLUTION_FAILURE"}}]},
    )


# Media types and statuses


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        (JSON, JSON),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, {JSON};q=0.9", GRAPHQL_RESPONSE),
        (f"{JSON}, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"{JSON}, {GRAPHQL_RESPONSE};q=0.5", JSON),
        (f"{GRAPHQL_RESPONSE};q=0, */*", JSON),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", JSON),
        (f"{GRAPHQL_RESPONSE}; charset=utf-8", GRAPHQL_RESPONSE),
    ],
)
async def test_the_answer_has_the_media_type_the_caller_accepts(
    client: httpx.AsyncClient, accept: str | None, media_type: str
) -> None:
    headers = {"accept": accept} if accept is not None else {}
    for response in (
        await client.post("/graphql", json={"query": "{ __typename }"}, headers=headers),
        await client.get("/graphql", params={"query": "{ __typename }"}, headers=headers),
    ):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == media_type
        assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("accept", ["text/plain", f"{JSON};q=0", "image/*"])
async def test_an_answer_nobody_accepts_is_406(client: httpx.AsyncClient, accept: str) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"accept": accept}
    )
    assert refused(response, 406, "NOT_ACCEPTABLE")["message"] == (
        f"The answer can be {GRAPHQL_RESPONSE} or {JSON}; Accept allows neither."
    )


REQUEST_ERRORS = [
    ("{", None, "GRAPHQL_PARSE_FAILED"),
    ("{ nope }", None, "GRAPHQL_VALIDATION_FAILED"),
    ("query($id: ID!) { __typename }", {"id": None}, "GRAPHQL_VALIDATION_FAILED"),  # unused
    ("query($id: ID!) { node(id: $id) { id } }", {"id": None}, "BAD_USER_INPUT"),
    ("{ " + " ".join(f"a{i}: __typename" for i in range(30)) + " }", None, "QUERY_TOO_COMPLEX"),
]


@pytest.mark.parametrize(("query", "variables", "code"), REQUEST_ERRORS)
async def test_request_errors_by_media_type(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None, code: str
) -> None:
    payload = {"query": query, "variables": variables}
    # application/json: 200 and "data": null, as clients of the years before expect
    as_json = await client.post("/graphql", json=payload, headers={"accept": JSON})
    assert as_json.status_code == 200
    assert as_json.json()["data"] is None
    assert [e["extensions"]["code"] for e in as_json.json()["errors"]] == [code]
    # application/graphql-response+json: 400 and no data entry at all
    as_graphql = await client.post("/graphql", json=payload, headers={"accept": GRAPHQL_RESPONSE})
    assert as_graphql.status_code == 400
    assert as_graphql.headers["content-type"] == GRAPHQL_RESPONSE
    assert list(as_graphql.json()) == ["errors"]
    assert as_graphql.json()["errors"] == as_json.json()["errors"]


async def test_a_field_error_is_200_in_both_media_types(client: httpx.AsyncClient) -> None:
    for accept in (JSON, GRAPHQL_RESPONSE):
        response = await client.post(
            "/graphql",
            json={"query": '{ enterprise(uscc: "123") { name } }'},
            headers={"accept": accept},
        )
        assert response.status_code == 200
        assert response.json()["data"] == {"enterprise": None}
        assert response.json()["errors"][0]["path"] == ["enterprise"]


async def test_a_compiled_answer_has_the_accepted_media_type(
    dialect: str, client: httpx.AsyncClient
) -> None:
    query = "{ enterprises { totalCount } }"
    response = await client.post(
        "/graphql", json={"query": query}, headers={"accept": GRAPHQL_RESPONSE}
    )
    assert (response.status_code, response.headers["content-type"]) == (200, GRAPHQL_RESPONSE)
    assert response.json() == {"data": {"enterprises": {"totalCount": 0}}}
    app: Any = client._transport.app  # type: ignore[attr-defined]
    compiled = next(r.app for r in app.routes if getattr(r, "path", None) == "/graphql").compiled
    # answered by the compiled path (on SQLite as on PostgreSQL), read by the same parser
    assert compiled.tiers[Tier.PUBLIC].plans[(query, None)] is not None


# Pages and methods


async def test_a_page_request_in_production_is_a_json_404(
    sessionmaker: async_sessionmaker[HubSession],
) -> None:
    async with hub_client(Settings(env="production"), sessionmaker) as hub:
        response = await hub.get("/graphql", headers={"accept": "text/html"})
    assert refused(response, 404, "NOT_FOUND")["message"] == "Not Found"


async def test_a_get_without_a_query_for_a_program_is_a_bad_request(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/graphql", headers={"accept": "*/*"})
    refused(response, 400, "BAD_REQUEST")
