"""Every HTTP request gets an id; every /graphql request says which plan answered it.

``Observed`` is the app's outermost middleware. It takes the caller's ``X-Request-Id`` when it
is safe to repeat (at most 64 characters, what an audit record keeps, of ``A-Z a-z 0-9 . _ :
-``; anything else is replaced, never echoed), or makes one, and returns it in
``X-Request-Id`` on every response; logs and ``Context.request_id`` read the same id
(``hub.observability.logs``).

On /graphql it adds ``X-Hub-Plan``, from what the endpoint noted on the request's
``Observation`` (``note``) while it answered:

- ``compiled``: one compiled SQL statement made the answer (schema.compiled);
- ``resolvers``: Strawberry ran the document (its request errors included);
- ``none``: no document was asked for (the GraphiQL page, or its 404 in production);
- ``refused``: answered before any plan: credentials refused or not checkable, over the rate
  budget, a request that could not be read (400, 405, 406, 413, 414, 415), a failure.

and counts the request in ``hub_graphql_requests_total`` and its latency histogram.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.observability.logs import request_id
from hub.observability.metrics import observe_graphql

COMPILED = "compiled"
RESOLVERS = "resolvers"
NO_PLAN = "none"
REFUSED = "refused"

REQUEST_ID_HEADER = "X-Request-Id"
PLAN_HEADER = "X-Hub-Plan"

_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_STATE = "hub.observation"


@dataclass(slots=True)
class Observation:
    """What the hub learns about a request while answering it, for its headers and metrics."""

    request_id: str
    tier: str = "unknown"
    plan: str = REFUSED
    operation: str | None = None


def note(scope: Scope) -> Observation:
    """The request's observation, to note its tier, plan and operation on.

    Without ``Observed`` around the app (a test that drives an endpoint alone) notes go to a
    throwaway observation.
    """
    found: Observation | None = scope.get("state", {}).get(_STATE)
    return found if found is not None else Observation(uuid.uuid4().hex)


def request_id_of(header: bytes | None) -> str:
    """The caller's id when it is safe to log and repeat, else a new one."""
    if header is not None:
        text = header.decode("latin-1")
        if _SAFE_ID.fullmatch(text):
            return text
    return uuid.uuid4().hex


class Observed:
    """ASGI middleware: request ids on every response, plans and metrics on /graphql."""

    def __init__(self, app: ASGIApp, graphql_path: str = "/graphql") -> None:
        self.app = app
        self.graphql_path = graphql_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = next((v for k, v in scope["headers"] if k == b"x-request-id"), None)
        observation = Observation(request_id_of(header))
        scope.setdefault("state", {})[_STATE] = observation
        graphql = scope["path"] == self.graphql_path
        status = 500
        started = time.perf_counter()

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = observation.request_id
                if graphql:
                    headers[PLAN_HEADER] = observation.plan
            await send(message)

        token = request_id.set(observation.request_id)
        try:
            await self.app(scope, receive, observed)
        finally:
            request_id.reset(token)
            if graphql:
                observe_graphql(
                    observation.tier,
                    observation.plan,
                    status,
                    observation.operation,
                    time.perf_counter() - started,
                )
