"""GraphQL over HTTP: the one reading of a /graphql request, and the status of its answer.

``read_request`` checks what HTTP carries before any GraphQL runs, in this order, and raises
``RequestError`` (a JSON answer with ``extensions.code``) at the first thing wrong:

- the method: GET or POST (405 ``METHOD_NOT_ALLOWED``);
- the media type of the answer, from ``Accept``: ``application/graphql-response+json`` or
  ``application/json`` (406 ``NOT_ACCEPTABLE`` when neither is acceptable);
- a GET: the length of its URL (414 ``URI_TOO_LONG``) and its parameters, strictly UTF-8;
- a POST: ``Content-Type: application/json`` (415 ``UNSUPPORTED_MEDIA_TYPE``, which also
  shuts out the forms a foreign page can make a browser send) and its body, read in chunks
  and no further than the tier's ``max_body_bytes`` (413 ``PAYLOAD_TOO_LARGE``, at once when
  ``Content-Length`` says so), then one JSON object: not a batch (400 ``BAD_REQUEST``);
- the parameters: ``query`` a string no longer than ``max_query_length`` (413),
  ``operationName`` a string, ``variables`` and ``extensions`` objects nested no deeper than
  ``max_variables_depth`` (400 ``BAD_USER_INPUT``), each of them may be null.

The compiled path and Strawberry's view both run the ``GraphQLRequest`` it returns, so a
request means the same on both. The limits are the caller's tier's: the token is checked
first (cheaply), and a caller without one gets the public limits.

A GraphQL result is then answered as https://graphql.github.io/graphql-over-http/draft/ says
for its media type (``answer``): with ``application/json`` always 200; with
``application/graphql-response+json`` a request error (nothing executed: parse, validation,
operation choice, variables, limits) is 400 and has no ``data``.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from hub.limits import TierLimits

JSON: Final = "application/json"
GRAPHQL_RESPONSE: Final = "application/graphql-response+json"

BAD_REQUEST: Final = "BAD_REQUEST"
BAD_USER_INPUT: Final = "BAD_USER_INPUT"
METHOD_NOT_ALLOWED: Final = "METHOD_NOT_ALLOWED"
NOT_ACCEPTABLE: Final = "NOT_ACCEPTABLE"
PAYLOAD_TOO_LARGE: Final = "PAYLOAD_TOO_LARGE"
UNSUPPORTED_MEDIA_TYPE: Final = "UNSUPPORTED_MEDIA_TYPE"
URI_TOO_LONG: Final = "URI_TOO_LONG"

_PARAMETERS = ("query", "operationName", "variables", "extensions")
_STATE = "graphql_request"


class RequestError(Exception):
    """A request refused before any GraphQL runs; ``response`` is its JSON answer."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        media_type: str = JSON,
        headers: Mapping[str, str] | None = None,
        **extensions: int,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.media_type = media_type
        self.headers = dict(headers or {})
        self.extensions = extensions

    def response(self) -> Response:
        error = {"message": self.message, "extensions": {"code": self.code, **self.extensions}}
        return Response(
            orjson.dumps({"errors": [error]}),
            status_code=self.status,
            media_type=self.media_type,
            headers=self.headers,
        )


@dataclass(frozen=True, slots=True)
class GraphQLRequest:
    """A GraphQL request as read from HTTP; ``media_type`` is the one its answer has."""

    method: str
    query: str
    operation_name: str | None
    variables: dict[str, Any] | None
    extensions: dict[str, Any] | None
    media_type: str


@dataclass(frozen=True, slots=True)
class PageRequest:
    """A browser's GET without a query: GraphiQL in development, 404 in production."""

    media_type: str = JSON


def remember(scope: Scope, request: GraphQLRequest | PageRequest) -> None:
    scope.setdefault("state", {})[_STATE] = request


def request_of(scope: Scope) -> GraphQLRequest | PageRequest:
    """What ``read_request`` made of the request of ``scope``, kept by ``remember``."""
    found: GraphQLRequest | PageRequest = scope["state"][_STATE]
    return found


async def read_request(request: Request, limits: TierLimits) -> GraphQLRequest | PageRequest:
    """The GraphQL request that ``request`` carries; RequestError if there is none."""
    method = request.method
    if method not in ("GET", "POST"):
        raise RequestError(
            405,
            METHOD_NOT_ALLOWED,
            "GraphQL is served by GET (queries) and POST.",
            headers={"Allow": "GET, POST"},
        )
    if method == "GET":
        parameters = _query_parameters(request, limits)
        accept = request.headers.get("accept", "")
        if "query" not in parameters and "text/html" in accept:
            return PageRequest()
        media_type = _negotiate(accept)
        payload: dict[str, Any] = dict(parameters)
        for name in ("variables", "extensions"):
            if payload.get(name) == "":
                del payload[name]
            elif name in payload:
                try:
                    payload[name] = orjson.loads(payload[name])
                except orjson.JSONDecodeError as error:
                    raise _bad(f"`{name}` is not JSON: {error}.", media_type) from None
    else:
        media_type = _negotiate(request.headers.get("accept", ""))
        unsupported = unsupported_media_type(request)
        if unsupported is not None:
            raise unsupported
        payload = _json_object(await _body(request, limits, media_type), media_type)
    return _graphql_request(method, payload, limits, media_type)


def unsupported_media_type(request: Request) -> RequestError | None:
    """415 for a POST whose body is not JSON in UTF-8.

    Form-encoded, multipart and plain-text bodies are what a page on another site can make a
    browser POST without a CORS preflight: refusing them shuts cross-site request forgery
    out before any GraphQL runs.
    """
    media_type, _, parameters = request.headers.get("content-type", "").partition(";")
    charset = next(
        (
            value.strip().strip('"').lower()
            for name, _, value in (p.partition("=") for p in parameters.split(";"))
            if name.strip().lower() == "charset"
        ),
        "utf-8",
    )
    if media_type.strip().lower() == JSON and charset == "utf-8":
        return None
    return RequestError(
        415,
        UNSUPPORTED_MEDIA_TYPE,
        "A GraphQL POST must be JSON: send Content-Type: application/json.",
        headers={"Accept-Post": JSON},
    )


def answer(result: Mapping[str, Any], media_type: str) -> tuple[int, Mapping[str, Any]]:
    """The HTTP status of a GraphQL ``result`` and the body to send for it.

    A result without data whose errors have no path is a request error: nothing executed
    (field errors always have a path). With ``application/graphql-response+json`` it is
    400 and has no ``data`` entry (500 when it failed on the server's side); with
    ``application/json``, as before that media type existed, 200 and ``"data": null``.
    """
    errors = result.get("errors") or ()
    if (
        media_type != GRAPHQL_RESPONSE
        or result.get("data") is not None
        or not errors
        or any(error.get("path") is not None for error in errors)
    ):
        return 200, result
    internal = any(error.get("extensions", {}).get("code") == "INTERNAL" for error in errors)
    return (500 if internal else 400), {k: v for k, v in result.items() if k != "data"}


def _bad(message: str, media_type: str) -> RequestError:
    return RequestError(400, BAD_REQUEST, message, media_type=media_type)


def _negotiate(accept: str) -> str:
    """The answer's media type: the acceptable one of highest quality (RFC 9110).

    No Accept, or only wildcards: ``application/json``, which every client of the years
    before ``application/graphql-response+json`` expects; both named at the same quality:
    the newer one, as the spec prefers.
    """
    if not accept.strip():
        return JSON
    best: tuple[float, int, bool] = (0.0, 0, False)
    chosen = None
    for media_type in (GRAPHQL_RESPONSE, JSON):
        quality, specificity = _quality(accept, media_type)
        preferred = media_type == (GRAPHQL_RESPONSE if specificity == 2 else JSON)
        key = (quality, specificity, preferred)
        if quality > 0 and key > best:
            best, chosen = key, media_type
    if chosen is None:
        raise RequestError(
            406,
            NOT_ACCEPTABLE,
            f"The answer can be {GRAPHQL_RESPONSE} or {JSON}; Accept allows neither.",
        )
    return chosen


def _quality(accept: str, media_type: str) -> tuple[float, int]:
    """The quality ``accept`` gives ``media_type`` and how specific its matching range is."""
    kind, subtype = media_type.split("/")
    found = (0.0, -1)
    for item in accept.split(","):
        accepted, *parameters = (part.strip().lower() for part in item.split(";"))
        specificity = {f"{kind}/{subtype}": 2, f"{kind}/*": 1, "*/*": 0}.get(accepted)
        if specificity is None or specificity <= found[1]:
            continue
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip() == "q":
                try:
                    quality = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    quality = 0.0
        found = (quality, specificity)
    return found


def _query_parameters(request: Request, limits: TierLimits) -> dict[str, str]:
    scope = request.scope
    raw = scope.get("query_string", b"")
    # Without the query: httpx's test transport puts it in raw_path, servers do not.
    path = (scope.get("raw_path") or scope["path"].encode()).partition(b"?")[0]
    length = len(path) + (1 + len(raw) if raw else 0)
    if length > limits.max_url_length:
        raise RequestError(
            414,
            URI_TOO_LONG,
            f"The URL has {length} characters; the limit is {limits.max_url_length}. "
            "Send a long query by POST.",
            maxUrlLength=limits.max_url_length,
        )
    try:
        pairs = parse_qsl(raw.decode(), keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise _bad("The URL's parameters are not UTF-8.", JSON) from None
    found: dict[str, str] = {}
    for name, value in pairs:
        if name in found and name in _PARAMETERS:
            raise _bad(f"`{name}` is given more than once.", JSON)
        found[name] = value
    return found


async def _body(request: Request, limits: TierLimits, media_type: str) -> bytes:
    limit = limits.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise _bad("Content-Length is not a number.", media_type)
        if int(declared) > limit:
            raise _too_large(limit, media_type)
    chunks = []
    size = 0
    async with aclosing(request.stream()) as stream:
        async for chunk in stream:
            size += len(chunk)
            if size > limit:
                raise _too_large(limit, media_type)
            chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int, media_type: str) -> RequestError:
    return RequestError(
        413,
        PAYLOAD_TOO_LARGE,
        f"The body is larger than {limit} bytes, the limit.",
        media_type=media_type,
        maxBodyBytes=limit,
    )


def _json_object(body: bytes, media_type: str) -> dict[str, Any]:
    if not body.strip():
        raise _bad('The body is empty: send {"query": "..."}.', media_type)
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        # Invalid UTF-8 and nesting beyond orjson's 1,024 levels come here too.
        raise _bad(f"The body is not JSON: {error}.", media_type) from None
    if isinstance(payload, list):
        raise _bad("Batches are not supported: send one operation per request.", media_type)
    if not isinstance(payload, dict):
        raise _bad('The body must be a JSON object: {"query": "..."}.', media_type)
    return payload


def _graphql_request(
    method: str, payload: Mapping[str, Any], limits: TierLimits, media_type: str
) -> GraphQLRequest:
    query = payload.get("query")
    if query is None or query == "":
        raise _bad('The request has no query: send {"query": "..."}.', media_type)
    if not isinstance(query, str):
        raise _bad("`query` must be a string.", media_type)
    if len(query) > limits.max_query_length:
        raise RequestError(
            413,
            PAYLOAD_TOO_LARGE,
            f"The query has {len(query)} characters; the limit is {limits.max_query_length}.",
            media_type=media_type,
            maxQueryLength=limits.max_query_length,
        )
    operation_name = payload.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise _bad("`operationName` must be a string or null.", media_type)
    objects: dict[str, dict[str, Any] | None] = {}
    for name in ("variables", "extensions"):
        value = payload.get(name)
        if value is not None and not isinstance(value, dict):
            raise _bad(f"`{name}` must be an object or null.", media_type)
        if value is not None and _depth(value) - 1 > limits.max_variables_depth:
            raise RequestError(
                400,
                BAD_USER_INPUT,
                f"`{name}` nests objects and lists deeper than "
                f"{limits.max_variables_depth}, the limit.",
                media_type=media_type,
                maxVariablesDepth=limits.max_variables_depth,
            )
        objects[name] = value
    return GraphQLRequest(
        method=method,
        query=query,
        operation_name=operation_name,
        variables=objects["variables"],
        extensions=objects["extensions"],
        media_type=media_type,
    )


def _depth(value: object) -> int:
    """How deeply objects and lists nest in ``value``, level by level: no recursion."""
    depth = 0
    level = [value]
    while True:
        containers = [item for item in level if isinstance(item, dict | list)]
        if not containers:
            return depth
        depth += 1
        level = [
            child
            for container in containers
            for child in (container.values() if isinstance(container, dict) else container)
        ]
