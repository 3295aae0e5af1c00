"""Global IDs: every type comes back through node(id:) and nodes(ids:)."""

from __future__ import annotations

import base64

import httpx

from hub.db import HubSession
from hub.enterprise.models import CreditGrade
from hub.kit.time import today
from tests.fixtures.blacklist import make_entry
from tests.fixtures.common import PUBLISHED
from tests.fixtures.credit import make_evaluation
from tests.fixtures.enterprise import make_enterprise
from tests.fixtures.graphql import data
from tests.fixtures.licence import make_licence
from tests.fixtures.quality import make_product, make_spot_check
from tests.fixtures.recall import make_recall
from tests.fixtures.warning import make_warning

EVERY_TYPE = """query($u: String!) {
  enterprise(uscc: $u) { id creditHistory { nodes { id } } blacklistEntries { id }
    licences { nodes { id } } products { nodes { id } } spotChecks { nodes { id } }
    recalls { nodes { id } } }
  consumerWarnings(first: 1) { nodes { id } } }"""

AS_ANY_NODE = """query($id: ID!) { node(id: $id) { id __typename } }"""


async def test_every_id_resolves_to_its_object(
    session: HubSession, client: httpx.AsyncClient
) -> None:
    # given one object of every Node type
    firm = await make_enterprise(session)
    await make_evaluation(session, firm, CreditGrade.A, PUBLISHED)
    await make_entry(session, firm, listed_on=today(), publicity_ends_on=today())
    await make_licence(session, firm)
    product = await make_product(session, firm)
    await make_spot_check(session, product)
    await make_recall(session, firm, product)
    await make_warning(session, issued_on=today())
    found = await data(client, EVERY_TYPE, {"u": firm.uscc})
    e = found["enterprise"]
    ids = {
        "Enterprise": e["id"],
        "CreditEvaluation": e["creditHistory"]["nodes"][0]["id"],
        "BlacklistEntry": e["blacklistEntries"][0]["id"],
        "Licence": e["licences"]["nodes"][0]["id"],
        "Product": e["products"]["nodes"][0]["id"],
        "SpotCheck": e["spotChecks"]["nodes"][0]["id"],
        "Recall": e["recalls"]["nodes"][0]["id"],
        "ConsumerWarning": found["consumerWarnings"]["nodes"][0]["id"],
    }

    for type_name, global_id in ids.items():
        # when
        answer = await data(client, AS_ANY_NODE, {"id": global_id})
        # then
        assert answer == {"node": {"id": global_id, "__typename": type_name}}

    many = await data(
        client,
        "query($ids: [ID!]!) { nodes(ids: $ids) { __typename } }",
        {"ids": list(ids.values())},
    )
    assert [n["__typename"] for n in many["nodes"]] == list(ids)


async def test_an_id_of_nothing_is_null(client: httpx.AsyncClient) -> None:
    missing = base64.urlsafe_b64encode(b"Enterprise:999999999").decode().rstrip("=")
    assert await data(client, AS_ANY_NODE, {"id": missing}) == {"node": None}


async def test_node_fragments(session: HubSession, client: httpx.AsyncClient) -> None:
    firm = await make_enterprise(session, name="片段测试有限公司")
    enterprise_id = (
        await data(client, "query($u: String!) { enterprise(uscc: $u) { id } }", {"u": firm.uscc})
    )["enterprise"]["id"]
    answer = await data(
        client,
        "query($id: ID!) { node(id: $id) { id ... on Enterprise { name } } }",
        {"id": enterprise_id},
    )
    assert answer == {"node": {"id": enterprise_id, "name": "片段测试有限公司"}}
