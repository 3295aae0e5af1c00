"""Bad input gets a clear BAD_USER_INPUT naming the argument; nothing internal ever leaks."""

from __future__ import annotations

import json

import httpx
import pytest

from hub.enterprise.repository import EnterpriseRepository
from tests.fixtures.graphql import error, post


@pytest.mark.parametrize(
    ("query", "argument"),
    [
        ('{ enterprise(uscc: "91110000600037341X") { name } }', "uscc"),
        ('{ enterprise(uscc: "123") { name } }', "uscc"),
        ('{ product(gtin: "6901234567893") { name } }', "gtin"),
        ('{ licence(number: "XK-1") { number } }', "number"),
        ('{ enterprises(filter: { regionCode: "44" }) { totalCount } }', "filter.regionCode"),
        ('{ blacklist(filter: { uscc: "abc" }) { totalCount } }', "filter.uscc"),
        (
            '{ blacklist(filter: { listedAfter: "2025-13-01" }) { totalCount } }',
            "filter.listedAfter",
        ),
        (
            '{ recalls(filter: { startedAfter: "yesterday" }) { totalCount } }',
            "filter.startedAfter",
        ),
        ("{ enterprises(filter: { creditGrade: E }) { totalCount } }", "filter.creditGrade"),
        ('{ enterprises(first: "ten") { totalCount } }', "first"),
        ("{ enterprises(first: -1) { totalCount } }", "first"),
        ('{ node(id: "bm9wZToxMjM") { id } }', "id"),
        ('{ nodes(ids: ["!!"]) { id } }', "ids"),
    ],
)
async def test_bad_arguments_are_named(
    client: httpx.AsyncClient, query: str, argument: str
) -> None:
    got = await error(client, query)
    assert got["extensions"]["code"] == "BAD_USER_INPUT"
    assert got["extensions"]["argument"] == argument
    assert f"'{argument}'" in got["message"]
    assert "locations" in got


async def test_a_bad_variable_is_bad_input(client: httpx.AsyncClient) -> None:
    got = await error(
        client, "query($n: Int) { enterprises(first: $n) { totalCount } }", {"n": "many"}
    )
    assert got["extensions"] == {"code": "BAD_USER_INPUT"}
    assert got["message"].startswith("Variable '$n'")


async def test_a_syntax_error_is_a_parse_failure(client: httpx.AsyncClient) -> None:
    got = await error(client, "{ enterprises { ")
    assert got["extensions"] == {"code": "GRAPHQL_PARSE_FAILED"}


async def test_an_unknown_field_fails_validation(client: httpx.AsyncClient) -> None:
    got = await error(client, "{ enterprises { nodes { nam } } }")
    assert got["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
    assert got["message"] == "Cannot query field 'nam' on type 'Enterprise'. Did you mean 'name'?"


async def test_an_unexpected_failure_is_masked(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # given: the repository fails the way a driver does, with SQL in the message
    async def broken(*_: object) -> object:
        raise RuntimeError('relation "enterprise" does not exist: SELECT secret FROM enterprise')

    monkeypatch.setattr(EnterpriseRepository, "find", broken)

    # when (blacklistEntries keeps the query on the resolvers, also on PostgreSQL)
    result = await post(client, "{ enterprises { nodes { uscc blacklistEntries { reason } } } }")

    # then: the caller learns nothing of it, the log has all of it
    assert result == {
        "data": None,
        "errors": [
            {
                "message": "Internal error. It has been logged; please try again later.",
                "locations": [{"line": 1, "column": 3}],
                "path": ["enterprises"],
                "extensions": {"code": "INTERNAL"},
            }
        ],
    }
    assert "SELECT secret" not in json.dumps(result)
    assert "SELECT secret" in caplog.text


async def test_malformed_requests_are_4xx_not_5xx(client: httpx.AsyncClient) -> None:
    bodies: list[tuple[bytes, str]] = [
        (b"{not json", "application/json"),
        (b'{"query": 42}', "application/json"),
        (b'{"variables": {}}', "application/json"),
        (b'{"query": "{ enterprises { totalCount } }", "variables": "x"}', "application/json"),
        (b"\xff\xfe", "application/json"),
        (b"query=1", "text/plain"),
    ]
    for body, content_type in bodies:
        response = await client.post(
            "/graphql", content=body, headers={"content-type": content_type}
        )
        assert 400 <= response.status_code < 500, (body, response.status_code, response.text)
        assert "Traceback" not in response.text
