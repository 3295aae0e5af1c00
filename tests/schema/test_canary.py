"""Canaries: personal data seeded with unique strings must never reach a public or partner
answer, in whole or in part, whatever a generated query asks.

The documents go over HTTP to the app as production runs it, on PostgreSQL (and again on
SQLite, which compiles its own statements) with compiled reads on, each caller with a bearer
token from the hub's token endpoint: the compiled path answers what it can, the resolvers the
rest. Two generators write them from each tier's schema: hypothesis-graphql, whose arguments
are arbitrary, and the seeded generator of tests/fixtures/generator.py, whose arguments are the
canary enterprise's own codes, so that lookups find it and the compiled path serves a share of
them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import hypothesis.strategies as st
import pytest
from graphql import StringValueNode, print_ast
from hypothesis import HealthCheck, given, settings
from hypothesis_graphql import queries

from hub.auth.principal import Tier
from hub.kit.time import today
from schema.build import build_schema
from schema.node import encode_id
from tests.fixtures.blacklist import make_entry
from tests.fixtures.complaint import make_complaint
from tests.fixtures.enterprise import make_enterprise
from tests.fixtures.generator import DocumentGenerator
from tests.fixtures.hubs import (
    hub_over_http,
    hub_settings,
    own_database,
    post_as,
    tokens_of_everyone,
)
from tests.fixtures.licence import make_licence
from tests.fixtures.principals import EVERYONE
from tests.fixtures.quality import make_product
from tests.fixtures.world import Pools

ID_NUMBER = "11018Z3Q7K9X6W1234"  # masked for partners as 1101**********1234
PHONE = "13979468251"  # masked as 139****8251
CANARIES = [
    "8Z3Q7K9X6W",  # the hidden middle of the ID number
    "7946",  # the hidden middle of the phone number
    "金丝雀",  # complainant name
    "雀巢路",  # complainant address
    "CANARY-SUMMARY",  # the complaint in the complainant's words
    "610111CANARY",  # complainant ID number
    "13600079461",  # complainant phone
]
# 750 public and 750 partner documents from hypothesis (generating them is most of the test's
# time, so it runs on one dialect: what leaks is decided by the schema, the resolvers and the
# compiled path, all there on PostgreSQL), and 300 + 300 from the seeded generator.
EXAMPLES_PER_TIER = 750
SEEDED_PER_TIER = 300
SEED = 7_946
CALLERS = ["public", "partner without scopes", "partner with scopes"]

SCALARS = {
    "Date": st.dates().map(lambda d: StringValueNode(value=d.isoformat())),
    "DateTime": st.datetimes(timezones=st.just(UTC)).map(
        lambda d: StringValueNode(value=d.isoformat())
    ),
}


def _generated(tier: Tier, count: int) -> list[str]:
    """``count`` documents valid against ``tier``'s schema, the same ones on every run."""
    found: list[str] = []
    strategy = queries(build_schema(tier)._schema, custom_scalars=SCALARS, print_ast=print_ast)

    @settings(
        max_examples=count,
        database=None,
        derandomize=True,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(document: str) -> None:
        found.append(document)

    collect()
    return found


@dataclass(frozen=True)
class Canary:
    hub: httpx.AsyncClient
    tokens: dict[str, str | None]
    pools: Pools


@pytest.fixture(params=["postgres", "sqlite"])
async def canary(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Canary]:
    """The hub on a database of its own, holding an enterprise, its product and complaints
    whose personal data are canaries."""
    async with own_database(request.param, tmp_path) as database:
        async with database.sessionmaker() as session:
            firm = await make_enterprise(
                session,
                region_code="440300",
                legal_representative_id_number=ID_NUMBER,
                legal_representative_phone=PHONE,
            )
            product = await make_product(session, firm)
            licence = await make_licence(session, firm)
            await make_entry(session, firm, today(), today())
            for n in range(12):
                await make_complaint(
                    session,
                    enterprise_id=firm.id,
                    product_id=product.id,
                    received_at=datetime(2025, 3, 1 + n, tzinfo=UTC),
                    complainant_name="金丝雀",
                    complainant_address="北京市朝阳区雀巢路9号",
                    complainant_phone="13600079461",
                    complainant_id_number="610111CANARY000001",
                    summary=f"CANARY-SUMMARY-{n}",
                )
            await session.commit()
        pools = Pools()
        pools.add("uscc", [firm.uscc])
        pools.add("number", [licence.number])
        pools.add("gtin", [product.gtin])
        pools.add("ID", [encode_id("Enterprise", firm.id), encode_id("Product", product.id)])
        pools.add("Date", ["2025-03-01", str(today())])
        pools.add("DateTime", ["2025-03-01T00:00:00+08:00"])
        pools.add("regionCode", ["440300", "440000"])
        pools.add("query", ["测试", "奶粉"])
        pools.add("first", [1, 5, 20])
        async with hub_over_http(hub_settings(tmp_path), database.sessionmaker) as hub:
            tokens = await tokens_of_everyone(hub, database.sessionmaker)
            yield Canary(hub, tokens, pools)


async def test_no_canary_reaches_public_or_partner_answers(
    canary: Canary, compiled_errors: list[logging.LogRecord]
) -> None:
    # given
    internal_view = await post_as(
        canary.hub,
        canary.tokens["internal"],
        "{ complaints(first: 1) { nodes { complainantName } } }",
    )
    assert "金丝雀" in internal_view.text  # the canaries are there

    # when
    asked = answered = compiled = 0
    for who in CALLERS:
        tier = EVERYONE[who].tier
        share = EXAMPLES_PER_TIER // 2 if tier is Tier.PARTNER else EXAMPLES_PER_TIER
        # Plain documents: the wild ones' malformed arguments are test_generated.py's.
        seeded = DocumentGenerator(
            build_schema(tier)._schema, canary.pools, seed=SEED, max_depth=5, wild_share=0.0
        )
        documents: list[tuple[str, dict[str, Any]]] = [(d, {}) for d in _generated(tier, share)]
        for _ in range(SEEDED_PER_TIER // 2 if tier is Tier.PARTNER else SEEDED_PER_TIER):
            generated = seeded.next()
            documents.append((generated.query, generated.variables))
        for document, variables in documents:
            response = await post_as(canary.hub, canary.tokens[who], document, variables)
            answer = response.json()
            text = json.dumps(answer, ensure_ascii=False)
            # then
            leaked = [c for c in CANARIES if c in text]
            assert leaked == [], (who, document, variables, leaked)
            codes = {e["extensions"]["code"] for e in answer.get("errors", [])}
            assert "INTERNAL" not in codes, (who, document, variables, answer)
            asked += 1
            answered += answer["data"] is not None
            compiled += response.headers["x-hub-plan"] == "compiled"
    # A compiled statement that failed fell back to the resolvers, whose answer was checked
    # above like any other; such failures are found and reported by test_generated.py.
    compiled_errors.clear()
    assert asked == 2 * (EXAMPLES_PER_TIER + SEEDED_PER_TIER)
    # a fair share was answered (random arguments make many documents fail as a whole)
    assert answered > asked // 4
    # and production's path served some of them
    assert compiled > 0
