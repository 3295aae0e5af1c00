"""A token's tier picks the schema on /graphql, and its scopes decide the scoped fields.

``complaints`` is a partner-tier query needing ``complaints:read``; ``complainantName`` is an
internal-tier field. Each caller below sees exactly what its token grants.
"""

from __future__ import annotations

import httpx

from hub.db import HubSession
from tests.fixtures.oauth import Credentials, access_token, graphql, oauth_client

COMPLAINTS = "{ complaints(first: 1) { totalCount } }"
COMPLAINANTS = "{ complaints(first: 1) { nodes { complainantName } } }"


async def test_the_public_has_no_complaints_field(hub: httpx.AsyncClient) -> None:
    response = await hub.post("/graphql", json={"query": COMPLAINTS})
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "complaints" in error["message"]


async def test_a_partner_token_with_the_scope_reads_partner_fields(
    hub: httpx.AsyncClient, session: HubSession
) -> None:
    # given
    ministry = await oauth_client(session, scopes=("complaints:read", "credit:read"))
    token = await access_token(hub, ministry, scope="complaints:read")

    # when
    response = await graphql(hub, token, COMPLAINTS)
    introspected = await hub.post("/oauth/introspect", data={"token": token}, auth=ministry.basic)

    # then
    assert (response.status_code, response.json()) == (
        200,
        {"data": {"complaints": {"totalCount": 0}}},
    )
    assert (introspected.json()["hub_tier"], introspected.json()["scope"]) == (
        "partner",
        "complaints:read",
    )


async def test_a_partner_token_narrowed_without_the_scope_is_forbidden_the_field(
    hub: httpx.AsyncClient, session: HubSession
) -> None:
    ministry = await oauth_client(session, scopes=("complaints:read", "credit:read"))
    token = await access_token(hub, ministry, scope="credit:read")

    response = await graphql(hub, token, COMPLAINTS)

    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert response.json()["data"] is None


async def test_a_partner_schema_has_no_internal_fields(
    hub: httpx.AsyncClient, session: HubSession
) -> None:
    ministry = await oauth_client(session, scopes=("complaints:read",))
    token = await access_token(hub, ministry)

    response = await graphql(hub, token, COMPLAINANTS)

    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "complainantName" in error["message"]


async def test_an_internal_token_reads_internal_fields(
    hub: httpx.AsyncClient, session: HubSession
) -> None:
    agency = await oauth_client(session, tier="internal", scopes=(), name="SAMR")
    token = await access_token(hub, agency)

    response = await graphql(hub, token, COMPLAINANTS)

    assert (response.status_code, response.json()) == (
        200,
        {"data": {"complaints": {"nodes": []}}},
    )


async def test_partner_credentials_cannot_open_the_internal_schema(
    hub: httpx.AsyncClient, partner: Credentials
) -> None:
    token = await access_token(hub, partner)
    response = await graphql(hub, token, COMPLAINANTS)
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
