"""The compiled path of ``/graphql``: one statement, its JSON text the answer, no resolvers.

``GraphQLEndpoint`` offers each authenticated, admitted request (a POST, or a GET with a
``query`` parameter) to ``CompiledReads.serve`` first.
If the document compiles for the caller's tier and the request's variables bind, the answer
is PostgreSQL's JSON text inside ``{"data": ...}``; otherwise the request goes on to
Strawberry with its body replayed, exactly as if this path did not exist. Only PostgreSQL has
it (SQLite lacks the JSON aggregates' ordering), only the full tier schemas (not federation
subgraphs), and ``HUB_COMPILE_QUERIES=false`` turns it off.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import parse_qs

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from starlette.types import Message, Receive, Scope, Send

from hub.auth.principal import Tier
from hub.limits import Limits
from schema.compiled.compiler import FallbackError
from schema.compiled.plan import CompiledQueries

log = logging.getLogger("hub.compiled")

_HEADERS = [(b"content-type", b"application/json")]


class CompiledReads:
    def __init__(
        self,
        bind: AsyncEngine | AsyncConnection,
        schemas: dict[Tier, Any],
        limits: Limits,
        *,
        concurrency: int = 20,
    ) -> None:
        self.bind = bind
        # Requests beyond ``concurrency`` queue here, first come first served. Left to the
        # pool's queue instead, a waiting request can be overtaken again and again by newer
        # ones (SQLAlchemy's asyncio queue lets a newcomer take a connection that was being
        # handed to a waiter), and the slowest requests grow without bound.
        self.gate = asyncio.Semaphore(concurrency)
        self.tiers = {
            tier: CompiledQueries(
                schema._schema, limits.of(tier), sees_unpublished=tier >= Tier.INTERNAL
            )
            for tier, schema in schemas.items()
        }

    async def serve(self, tier: Tier, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """Answer the request and return None, or return how to read its body once more."""
        if scope["method"] == "GET":
            replay = receive
            payload = _query_string(scope)
        else:
            body = await _read_body(receive)
            replay = _replay(body, receive)
            payload = _json(body)
        if payload is None:
            return replay
        variables = payload.get("variables")
        answer = await self.answer(
            tier,
            payload.get("query"),
            {} if variables is None else variables,
            payload.get("operationName"),
        )
        if answer is None:
            return replay
        headers = [*_HEADERS, (b"content-length", str(len(answer)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})
        return None

    async def answer(
        self, tier: Tier, query: Any, variables: Any, operation_name: Any = None
    ) -> bytes | None:
        """The response body of a compiled read, or None if the resolvers must answer."""
        if not isinstance(query, str) or not isinstance(variables, dict):
            return None
        if operation_name is not None and not isinstance(operation_name, str):
            return None
        plan = self.tiers[tier].plan(query, operation_name)
        if plan is None:
            return None
        try:
            sql, params = plan.bind(variables)
        except FallbackError:
            return None
        try:
            text = await self.fetch(sql, params)
        except Exception:
            # The resolvers run the request again and report the failure as they always do.
            log.warning("compiled read failed; the resolvers answer", exc_info=True)
            return None
        return b'{"data":' + text.encode() + b"}"

    async def fetch(self, sql: str, params: list[Any]) -> str:
        bind = self.bind
        async with self.gate:
            if isinstance(bind, AsyncConnection):  # a test's connection, inside its transaction
                return await _fetch(bind, sql, params)
            async with bind.connect() as connection:
                return await _fetch(connection, sql, params)


async def _fetch(connection: AsyncConnection, sql: str, params: list[Any]) -> str:
    raw = await connection.get_raw_connection()
    text = await raw.driver_connection.fetchval(sql, *params)  # type: ignore[union-attr]
    assert isinstance(text, str)
    return text


def _json(body: bytes) -> dict[str, Any] | None:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return payload if isinstance(payload, dict) else None


def _query_string(scope: Scope) -> dict[str, Any] | None:
    """``?query=...&variables=...&operationName=...``: a read sent by GET, cacheable by URL."""
    found = parse_qs(scope.get("query_string", b"").decode("utf-8", "replace"))
    if any(len(values) != 1 for values in found.values()) or "query" not in found:
        return None
    payload: dict[str, Any] = {k: v[0] for k, v in found.items()}
    if "variables" in payload:
        try:
            payload["variables"] = orjson.loads(payload["variables"])
        except orjson.JSONDecodeError:
            return None
    return payload


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
