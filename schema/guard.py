"""HTTP checks in front of the GraphQL views: the caller's request rate and the request's form.

Every /graphql response carries the caller's budget: ``X-RateLimit-Limit`` (requests per
window), ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (seconds until the whole budget is
back). Over budget, the answer is HTTP 429 with ``Retry-After`` and a GraphQL error whose
``extensions.code`` is ``RATE_LIMITED``.

Budgets are kept per tier and per caller: the OAuth client of a partner or an internal
caller, the IP address of the public (an IPv6 caller by its /64, the block one subscriber
gets, so that rotating addresses inside it does not buy a new budget). Credentials that prove
nothing spend the public budget of their address, so guessing tokens is rate-limited too.

Behind federation routers and proxies, every request comes from a router's address. The
routers listed in ``HUB_TRUSTED_ROUTERS`` (``TrustedRouters``) are believed about the client
they forward in ``X-Forwarded-For``, and about the client operation a request belongs to
(``X-Hub-Operation-Id``): the requests of one operation, one per subgraph it touches, spend
one request of the caller's budget together (``hub.ratelimit.Batch``). From any other address
both headers are ignored: a caller cannot pick the address it is counted by, nor name an
operation to ride on.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass

import orjson
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from hub.auth.principal import Principal, Tier
from hub.limits import Limits
from hub.observability.metrics import count_admission
from hub.ratelimit import Batch, Decision, Rate, RateLimiter

RATE_LIMITED = "RATE_LIMITED"

OPERATION_HEADER = "x-hub-operation-id"
"""The header in which a trusted router names the client operation a request belongs to."""

OPERATION_REQUESTS = 10
"""Requests of one operation that spend one request: a query plan of the hub's graph has
fewer fetches; past this many, the operation pays again. If a router let its clients choose
the operation id, a client could make one request buy this many, never more."""

OPERATION_SECONDS = 10
"""How long after its first request an operation's later requests are free."""

_OPERATION_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

_ROUTER = "router"
"""Key of the request's ASGI state that holds the trusted router's address, if it came
through one."""

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedRouters:
    """ASGI middleware: a request from a trusted router is the client's that it forwards.

    The client's address comes from ``X-Forwarded-For`` (read right to left, past the trusted
    routers, as each proxy appends the address it was called from) and the scheme from
    ``X-Forwarded-Proto``, by uvicorn's own middleware; the router's address stays in the
    request's state, for the guard and for the choice of limits. One header only: a hub that
    also read ``Forwarded`` would believe whichever of the two a router passes through
    untouched from its client.
    """

    def __init__(self, app: ASGIApp, routers: Sequence[Network]) -> None:
        self.app = app
        self.routers = tuple(routers)
        self.forwarded = ProxyHeadersMiddleware(
            app,  # type: ignore[arg-type]  # uvicorn's own ASGI types, the same protocol
            trusted_hosts=[str(router) for router in self.routers],
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] in ("http", "websocket") and client and self.trusts(client[0]):
            scope.setdefault("state", {})[_ROUTER] = client[0]
            await self.forwarded(scope, receive, send)  # type: ignore[arg-type]
            return
        await self.app(scope, receive, send)

    def trusts(self, host: str) -> bool:
        if not self.routers:
            return False
        address = _address(host)
        return address is not None and any(address in router for router in self.routers)


def router_of(request: Request) -> str | None:
    """The address of the trusted router the request came through, if it did."""
    router: str | None = request.scope.get("state", {}).get(_ROUTER)
    return router


def client_address(request: Request) -> str:
    """The caller's address as budgets count it: IPv4 as is, IPv6 by its /64 network."""
    return _budget_address(request.client.host if request.client is not None else "")


# Callers come back: their addresses are parsed once (about 15 µs a request otherwise).
@functools.lru_cache(maxsize=4096)
def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


@functools.lru_cache(maxsize=4096)
def _budget_address(host: str) -> str:
    address = _address(host)
    if address is None:
        return host or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def _forwards_no_client(request: Request) -> bool:
    router = router_of(request)
    return router is not None and request.client is not None and request.client.host == router


def budget_key(request: Request, principal: Principal | None) -> str:
    """Whose budget a request spends; ``principal`` is None for credentials that failed.

    A trusted router that forwards no client (its health checks, its schema fetches) spends
    a budget of its own, at the router's rate, rather than a public caller's.
    """
    if principal is None or principal.tier is Tier.PUBLIC:
        if _forwards_no_client(request):
            return f"router:ip:{client_address(request)}"
        return f"public:ip:{client_address(request)}"
    caller = principal.client_id or principal.subject
    if caller is None:
        return f"{principal.tier.label}:ip:{client_address(request)}"
    return f"{principal.tier.label}:client:{caller}"


@dataclass(frozen=True, slots=True)
class Admission:
    """A request's rate decision: the headers for its response, the 429 if it is refused."""

    decision: Decision

    @property
    def headers(self) -> dict[str, str]:
        decision = self.decision
        headers = {
            "X-RateLimit-Limit": str(decision.limit),
            "X-RateLimit-Remaining": str(decision.remaining),
            "X-RateLimit-Reset": str(decision.reset_after),
        }
        if not decision.allowed:
            headers["Retry-After"] = str(decision.retry_after)
        return headers

    @property
    def refusal(self) -> Response | None:
        if self.decision.allowed:
            return None
        message = (
            f"Too many requests: {self.decision.limit} per window are allowed. "
            f"Retry after {self.decision.retry_after} s."
        )
        body = {"errors": [{"message": message, "extensions": {"code": RATE_LIMITED}}]}
        return Response(orjson.dumps(body), status_code=429, media_type="application/json")

    def stamp(self, send: Send) -> Send:
        """``send`` with the rate headers added to the response, whoever writes it."""
        headers = self.headers

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                for name, value in headers.items():
                    response_headers[name] = value
            await send(message)

        return stamped


def operation_of(request: Request, key: str) -> Batch | None:
    """The routed operation ``request`` belongs to, as a batch of ``key``'s budget.

    Only a trusted router names operations; the batch is the caller's, so that an id seen
    with one caller is worth nothing to another.
    """
    operation = request.headers.get(OPERATION_HEADER)
    if router_of(request) is None or operation is None or not _OPERATION_ID.fullmatch(operation):
        return None
    return Batch(f"op:{key}:{operation}", OPERATION_REQUESTS, OPERATION_SECONDS)


class Guard:
    """Counts each request against its caller's budget, each routed operation once."""

    def __init__(self, limiter: RateLimiter, limits: Limits) -> None:
        self.limiter = limiter
        self.rates = {
            tier: Rate(limits.of(tier).rate_limit, limits.of(tier).rate_window) for tier in Tier
        }
        self.router_rate = Rate(limits.router.rate_limit, limits.router.rate_window)

    async def admit(self, request: Request, principal: Principal | None) -> Admission:
        key = budget_key(request, principal)
        tier = Tier.PUBLIC if principal is None else principal.tier
        own = tier is Tier.PUBLIC and _forwards_no_client(request)
        rate = self.router_rate if own else self.rates[tier]
        decision = await self.limiter.hit(key, rate, operation_of(request, key))
        count_admission(tier.label, decision.allowed)
        return Admission(decision)
