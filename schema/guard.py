"""HTTP checks in front of the GraphQL views: the caller's request rate and the request's form.

Every /graphql response carries the caller's budget: ``X-RateLimit-Limit`` (requests per
window), ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (seconds until the whole budget is
back). Over budget, the answer is HTTP 429 with ``Retry-After`` and a GraphQL error whose
``extensions.code`` is ``RATE_LIMITED``.

Budgets are kept per tier and per caller: the OAuth client of a partner or an internal
caller, the IP address of the public (an IPv6 caller by its /64, the block one subscriber
gets, so that rotating addresses inside it does not buy a new budget). Credentials that prove
nothing spend the public budget of their address, so guessing tokens is rate-limited too.
Behind a reverse proxy the address is the client's only when the server trusts the proxy's
forwarding headers (uvicorn's ``--forwarded-allow-ips``).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import orjson
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Send

from hub.auth.principal import Principal, Tier
from hub.limits import Limits
from hub.ratelimit import Decision, Rate, RateLimiter

RATE_LIMITED = "RATE_LIMITED"


def client_address(request: Request) -> str:
    """The caller's address as budgets count it: IPv4 as is, IPv6 by its /64 network."""
    host = request.client.host if request.client is not None else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def budget_key(request: Request, principal: Principal | None) -> str:
    """Whose budget a request spends; ``principal`` is None for credentials that failed."""
    if principal is None or principal.tier is Tier.PUBLIC:
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


class Guard:
    """Counts each request against its caller's budget."""

    def __init__(self, limiter: RateLimiter, limits: Limits) -> None:
        self.limiter = limiter
        self.rates = {
            tier: Rate(limits.of(tier).rate_limit, limits.of(tier).rate_window) for tier in Tier
        }

    async def admit(self, request: Request, principal: Principal | None) -> Admission:
        tier = Tier.PUBLIC if principal is None else principal.tier
        decision = await self.limiter.hit(budget_key(request, principal), self.rates[tier])
        return Admission(decision)


def unsupported_media_type(request: Request) -> Response | None:
    """415 for a POST whose body is not JSON.

    Form-encoded, multipart and plain-text bodies are what a page on another site can make a
    browser POST without a CORS preflight: refusing them shuts cross-site request forgery
    out before any GraphQL runs.
    """
    if request.method != "POST":
        return None
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type == "application/json":
        return None
    message = "A GraphQL POST must be JSON: send Content-Type: application/json."
    body = {"errors": [{"message": message, "extensions": {"code": "UNSUPPORTED_MEDIA_TYPE"}}]}
    return Response(
        orjson.dumps(body),
        status_code=415,
        media_type="application/json",
        headers={"Accept-Post": "application/json"},
    )
