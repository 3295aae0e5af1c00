"""Request ids from X-Request-Id to the response, the log lines and the audit; logs as JSON."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import re

import httpx
import pytest
from sqlalchemy import select

from hub.auth.audit import AuditRecord
from hub.db import HubSession
from hub.observability.logs import JsonFormatter, RequestIdFilter, log_config, request_id
from tests.fixtures.enterprise import make_enterprise
from tests.observability.conftest import token_of

NEW_ID = re.compile(r"[0-9a-f]{32}")


def _handler(formatter: logging.Formatter) -> tuple[logging.Handler, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(RequestIdFilter())
    return handler, stream


def test_a_record_is_one_json_line_with_time_level_logger_message_and_request_id() -> None:
    handler, stream = _handler(JsonFormatter())
    logger = logging.getLogger("hub.test.json")
    logger.addHandler(handler)
    logger.propagate = False
    token = request_id.set("req-7")
    try:
        logger.warning("数据库 %s", "unreachable", extra={"backend": "postgresql"})
        try:
            raise RuntimeError("boom\nsecond line")
        except RuntimeError:
            logger.exception("failed")
    finally:
        request_id.reset(token)
        logger.removeHandler(handler)
    logger.warning("outside any request")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert set(first) == {"time", "level", "logger", "message", "request_id", "backend"}
    assert (first["level"], first["logger"], first["message"]) == (
        "WARNING",
        "hub.test.json",
        "数据库 unreachable",
    )
    assert first["request_id"] == "req-7"
    assert first["backend"] == "postgresql"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00", first["time"])
    assert second["level"] == "ERROR"
    assert "RuntimeError: boom\nsecond line" in second["exc_info"]


def test_a_record_outside_a_request_has_a_null_request_id() -> None:
    handler, stream = _handler(JsonFormatter())
    record = logging.LogRecord("hub.relay", logging.INFO, __file__, 1, "relayed", None, None)
    handler.handle(record)
    assert json.loads(stream.getvalue())["request_id"] is None


def test_the_text_format_shows_the_request_id() -> None:
    config = log_config("text")
    handler, stream = _handler(logging.Formatter(config["formatters"]["hub"]["format"]))
    token = request_id.set("req-8")
    try:
        handler.handle(logging.LogRecord("hub", logging.INFO, __file__, 1, "hello", None, None))
    finally:
        request_id.reset(token)
    assert re.fullmatch(r"\S+ \S+ INFO hub \[req-8\] hello\n", stream.getvalue())


def test_uvicorns_loggers_go_through_the_same_handler() -> None:
    config = log_config("json", "WARNING")
    assert config["root"] == {"handlers": ["stderr"], "level": "WARNING"}
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        assert config["loggers"][name] == {"handlers": [], "propagate": True, "level": "WARNING"}
    assert config["formatters"]["hub"] == {"()": "hub.observability.logs.JsonFormatter"}


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("abc-123_x.y:z", True),
        ("A" * 64, True),
        ("A" * 65, False),
        ("with space", False),
        ("<script>", False),
        ("ünïcode", False),
    ],
)
async def test_a_safe_request_id_is_returned_and_any_other_replaced(
    hub: httpx.AsyncClient, sent: str, kept: bool
) -> None:
    for path in ("/graphql?query={__typename}", "/healthz", "/metrics", "/no-such-page"):
        response = await hub.get(path, headers={"x-request-id": sent.encode()})
        returned = response.headers["x-request-id"]
        if kept:
            assert returned == sent, path
        else:
            assert NEW_ID.fullmatch(returned), (path, returned)


async def test_every_response_gets_a_new_id_without_one(hub: httpx.AsyncClient) -> None:
    ids = [(await hub.get(path)).headers["x-request-id"] for path in ("/healthz", "/metrics")]
    assert all(NEW_ID.fullmatch(i) for i in ids)
    assert ids[0] != ids[1]


async def test_the_audit_of_a_personal_read_carries_the_request_id(
    hub: httpx.AsyncClient, session: HubSession
) -> None:
    firm = await make_enterprise(session, legal_representative_id_number="440304198507211234")
    await session.commit()
    token = await token_of(hub, session, "internal")
    query = "query($u: String!) { enterprise(uscc: $u) { legalRepresentativeIdNumber } }"

    response = await hub.post(
        "/graphql",
        json={"query": query, "variables": {"u": firm.uscc}},
        headers={"authorization": f"Bearer {token}", "x-request-id": "ticket-4711"},
    )

    assert response.json() == {
        "data": {"enterprise": {"legalRepresentativeIdNumber": "440304198507211234"}}
    }
    assert response.headers["x-request-id"] == "ticket-4711"
    audited = await session.scalars(select(AuditRecord.request_id))
    assert list(audited) == ["ticket-4711"]
