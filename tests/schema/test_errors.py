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


@pytest.mark.parametrize(
    ("query", "variables", "message"),
    [
        (
            "query($n: Int, $unused: String) { enterprises(first: $n) { totalCount } }",
            {"n": 1},
            "Variable '$unused' is never used.",
        ),
        (
            "query { enterprises(first: $n) { totalCount } }",
            {"n": 1},
            "Variable '$n' is not defined.",
        ),
        (
            "query($n: Int) { enterprises(first: $n) { totalCount } }",
            None,
            None,
        ),
    ],
)
async def test_variables_the_document_misuses_fail_validation(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, int] | None,
    message: str | None,
) -> None:
    # the mistake is in the document, not in the caller's data: a validation failure
    if message is None:  # an optional variable left out is no mistake at all
        assert await post(client, query, variables) == {"data": {"enterprises": {"totalCount": 0}}}
        return
    got = await error(client, query, variables)
    assert (got["message"], got["extensions"]) == (
        message,
        {"code": "GRAPHQL_VALIDATION_FAILED"},
    )


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        (
            {"n": "many", "u": "91110000600037341L"},
            "Variable '$n' has invalid value: Int cannot represent non-integer value: 'many'",
        ),
        (
            {},
            "Variable '$u' has invalid value: Expected a value of non-null type 'String!' to "
            "be provided.",
        ),
        (
            {"u": None},
            "Variable '$u' has invalid value: Expected value of non-null type 'String!' not "
            "to be None.",
        ),
    ],
)
async def test_variable_values_that_do_not_coerce_are_bad_input(
    client: httpx.AsyncClient, variables: dict[str, object], message: str
) -> None:
    query = (
        "query($n: Int, $u: String!) "
        "{ enterprise(uscc: $u) { name } enterprises(first: $n) { totalCount } }"
    )
    result = await post(client, query, variables)
    assert result == {
        "data": None,
        "errors": [
            {
                "message": message,
                "locations": result["errors"][0]["locations"],
                "extensions": {"code": "BAD_USER_INPUT"},
            }
        ],
    }


async def test_a_syntax_error_is_a_parse_failure(client: httpx.AsyncClient) -> None:
    got = await error(client, "{ enterprises { ")
    assert got["extensions"] == {"code": "GRAPHQL_PARSE_FAILED"}


async def test_an_unknown_field_fails_validation(client: httpx.AsyncClient) -> None:
    got = await error(client, "{ enterprises { nodes { nam } } }")
    assert got["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
    assert got["message"] == "Cannot query field 'nam' on type 'Enterprise'. Did you mean 'name'?"


async def test_an_unexpected_failure_is_masked(
    resolvers: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given: the repository fails the way a driver does, with SQL in the message
    async def broken(*_: object) -> object:
        raise RuntimeError('relation "enterprise" does not exist: SELECT secret FROM enterprise')

    monkeypatch.setattr(EnterpriseRepository, "find", broken)

    # when (the resolvers answer, also on PostgreSQL)
    result = await post(resolvers, "{ enterprises { nodes { uscc } } }")

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


async def test_malformed_requests_are_coded_4xx_json_not_5xx(client: httpx.AsyncClient) -> None:
    bodies: list[tuple[bytes, str, int, str]] = [
        (b"{not json", "application/json", 400, "BAD_REQUEST"),
        (b'{"query": 42}', "application/json", 400, "BAD_REQUEST"),
        (b'{"variables": {}}', "application/json", 400, "BAD_REQUEST"),
        (
            b'{"query": "{ enterprises { totalCount } }", "variables": "x"}',
            "application/json",
            400,
            "BAD_REQUEST",
        ),
        (b"\xff\xfe", "application/json", 400, "BAD_REQUEST"),
        (b'"x"', "application/json", 400, "BAD_REQUEST"),
        (b"null", "application/json", 400, "BAD_REQUEST"),
        (b"query=1", "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE"),
    ]
    for body, content_type, status, code in bodies:
        response = await client.post(
            "/graphql", content=body, headers={"content-type": content_type}
        )
        assert response.status_code == status, (body, response.status_code, response.text)
        assert response.headers["content-type"] == "application/json"
        assert [e["extensions"]["code"] for e in response.json()["errors"]] == [code], body
