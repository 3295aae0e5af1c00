"""X-Hub-Plan on every /graphql response; a document not compiled logged once at INFO with its
reason; a compiled statement that fails logged at ERROR, and the resolvers answer after it."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.app import create_app
from hub.auth.principal import Tier
from hub.config import Settings
from hub.db import HubSession, create_sessionmaker
from hub.observability.logs import RequestIdFilter
from tests.fixtures.codes import uscc
from tests.fixtures.enterprise import make_enterprise
from tests.fixtures.limits import endpoint_of, limits
from tests.observability.conftest import Hub

NAME = "query($u: String!) { enterprise(uscc: $u) { uscc name } }"
NOT_COMPILED = "query Stats { statistics { recallsByMonth { month count } } }"


async def test_every_answer_says_which_plan_answered(
    dialect: str, settings: Settings, make_hub: Hub, session: HubSession
) -> None:
    firm = await make_enterprise(session)
    await session.commit()
    limited = settings.model_copy(update={"limits": limits(public={"rate_limit": 4})})
    async with make_hub(limited) as hub:
        read = await hub.post("/graphql", json={"query": NAME, "variables": {"u": firm.uscc}})
        search = await hub.post("/graphql", json={"query": NOT_COMPILED})
        page = await hub.get("/graphql", headers={"accept": "text/html"})
        forged = await hub.post("/graphql", json={}, headers={"authorization": "Bearer a.b.c"})
        over = await hub.post("/graphql", json={"query": NAME, "variables": {"u": firm.uscc}})

    assert read.status_code == 200
    assert read.json() == {"data": {"enterprise": {"uscc": firm.uscc, "name": firm.name}}}
    assert read.headers["x-hub-plan"] == "compiled"  # on SQLite as on PostgreSQL
    assert (search.status_code, search.headers["x-hub-plan"]) == (200, "resolvers")
    assert (page.status_code, page.headers["x-hub-plan"]) == (200, "none")
    assert (over.status_code, over.headers["x-hub-plan"]) == (429, "refused")
    assert (forged.status_code, forged.headers["x-hub-plan"]) == (401, "refused")


async def test_a_request_refused_while_reading_says_refused(hub: httpx.AsyncClient) -> None:
    unsupported = await hub.post("/graphql", content=b"{}", headers={"content-type": "text/plain"})
    batch = await hub.post("/graphql", json=[{"query": "{ __typename }"}])
    put = await hub.put("/graphql", json={"query": "{ __typename }"})
    assert [(r.status_code, r.headers["x-hub-plan"]) for r in (unsupported, batch, put)] == [
        (415, "refused"),
        (400, "refused"),
        (405, "refused"),
    ]
    assert unsupported.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


async def test_a_document_not_compiled_is_logged_once_with_its_reason(
    dialect: str, hub: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hub.compiled")
    caplog.handler.addFilter(RequestIdFilter())  # as hub serve's handler has
    for _ in range(3):
        response = await hub.post(
            "/graphql", json={"query": NOT_COMPILED}, headers={"x-request-id": "plan-log-1"}
        )
        assert response.headers["x-hub-plan"] == "resolvers"
    records = [r for r in caplog.records if r.name == "hub.compiled"]
    assert len(records) == 1
    (record,) = records
    assert record.levelno == logging.INFO
    assert record.getMessage() == "not compiled, the resolvers answer: Query.statistics"
    assert record.__dict__["reason"] == "Query.statistics"
    assert record.__dict__["operation"] is None
    assert len(record.__dict__["document_sha256"]) == 16
    assert record.__dict__["request_id"] == "plan-log-1"


async def test_a_failed_compiled_statement_is_an_error_and_the_resolvers_answer(
    dialect: str,
    engine: AsyncEngine,
    tmp_path: Path,
    compiled_errors: list[logging.LogRecord],
) -> None:
    # An app on the engine itself: a failed statement must not abort a test's transaction.
    app = create_app(
        Settings(signing_key_path=tmp_path / "key.pem"), sessionmaker=create_sessionmaker(engine)
    )
    absent = uscc("440300")
    body = {"query": NAME, "variables": {"u": absent}}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub.test"
    ) as hub:
        first = await hub.post("/graphql", json=body)
        # given a compiler bug: the statement it made for this document no longer runs
        compiled = endpoint_of(app).compiled
        assert compiled is not None
        plan = compiled.tiers[Tier.PUBLIC].plans[(NAME, None)]
        plan.statements = {
            shape: (
                f"SELECT hub_no_such_function({'$1' if dialect == 'postgres' else ':p1'})",
                getters,
            )
            for shape, (_, getters) in plan.statements.items()
        }
        # when the document comes again
        second = await hub.post("/graphql", json=body)
    await endpoint_of(app).guard.limiter.aclose()
    # then the caller gets the resolvers' answer, and the failure is an ERROR
    assert first.headers["x-hub-plan"] == "compiled"
    assert second.status_code == 200
    assert second.headers["x-hub-plan"] == "resolvers"
    assert second.json() == {"data": {"enterprise": None}}
    assert [(r.levelno, r.getMessage()) for r in compiled_errors] == [
        (logging.ERROR, "compiled read failed; the resolvers answer")
    ]
    assert "hub_no_such_function" in str(compiled_errors[0].exc_info[1])  # type: ignore[index]
    compiled_errors.clear()
