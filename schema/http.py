"""The /graphql endpoint: authenticate, read the request, answer from the caller's tier schema.

Every answer is JSON with ``errors[].extensions.code``, refusals included (schema.transport).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import orjson
from cross_web import HTTPException, StarletteRequestAdapter
from graphql import GraphQLError, Lexer, Source, TokenKind
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.background import BackgroundTask
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from hub.auth.authenticate import Authenticator
from hub.auth.errors import UnauthenticatedError
from hub.auth.principal import ANONYMOUS, Tier
from hub.config import Settings
from hub.db import RETRY_AFTER_SECONDS, DatabaseUnavailableError, HubSession
from hub.limits import TierLimits
from hub.observability.requests import COMPILED, NO_PLAN, RESOLVERS, note
from hub.portal.graphiql import graphiql_html
from hub.ratelimit import RateLimiter
from schema.build import build_schema
from schema.compiled.endpoint import CompiledReads
from schema.context import Context
from schema.federation import Subgraph
from schema.federation.schema import build_subgraph
from schema.guard import Guard, router_of
from schema.transport import (
    BAD_REQUEST,
    JSON,
    METHOD_NOT_ALLOWED,
    GraphQLRequest,
    PageRequest,
    RequestError,
    answer,
    read_request,
    remember,
    request_of,
)
from search.service import SearchService

log = logging.getLogger("hub.auth")
failures = logging.getLogger("hub.graphql")

UNAVAILABLE = DatabaseUnavailableError.code


class _ReadRequest(StarletteRequestAdapter):
    """Strawberry's view of a request that schema.transport has already read."""

    def __init__(self, request: Request) -> None:
        super().__init__(request)
        self.read = request_of(request.scope)


class TierGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view over one tier's schema, for requests schema.transport has read.

    It takes the request's parameters from that reading, never from the body again, and
    answers with the status and media type that GraphQL over HTTP gives the result.
    """

    request_adapter_class = _ReadRequest

    def __init__(
        self,
        tier: Tier,
        sessionmaker: async_sessionmaker[HubSession],
        *,
        graphiql: bool,
        subgraph: Subgraph | None = None,
        settings: Settings,
        limits: TierLimits | None = None,
    ) -> None:
        production, limits = settings.is_production, limits or settings.limits.of(tier)
        self.limits = limits
        schema = (
            build_schema(tier, production=production, limits=limits)
            if subgraph is None
            else build_subgraph(subgraph, tier, production=production, limits=limits)
        )
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql else None,
            # Cacheable reads over GET; a mutation sent by GET is refused before it runs (405).
            allow_queries_via_get=True,
        )
        self.sessionmaker = sessionmaker

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            try:
                response = await self.run(request)
            except RequestError as error:
                response = error.response()
            except HTTPException as error:
                # Strawberry's own refusal: GraphiQL asked for where there is none.
                code = "NOT_FOUND" if error.status_code == 404 else BAD_REQUEST
                response = RequestError(error.status_code, code, error.reason).response()
            await response(scope, receive, send)
        finally:
            # The operation's session, ended by the operation (commit or rollback, the audit
            # written), is closed once the answer is out: the ROLLBACK of a read costs the
            # caller no round trip (schema.session.OperationSession).
            context = request.scope.get("state", {}).pop(_CONTEXT, None)
            if isinstance(context, Context):
                await _close(context)

    async def parse_http_body(self, request_adapter: object) -> GraphQLRequestData:
        assert isinstance(request_adapter, _ReadRequest)
        read = request_adapter.read
        if not isinstance(read, GraphQLRequest):  # pragma: no cover - a page never gets here
            raise RequestError(400, BAD_REQUEST, "The request has no query.")
        return GraphQLRequestData(
            query=read.query,
            variables=read.variables,
            operation_name=read.operation_name,
            extensions=read.extensions,
        )

    async def execute_single(  # type: ignore[override]
        self,
        request: Request,
        request_adapter: _ReadRequest,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        media_type = request_adapter.read.media_type
        try:
            return await self.schema.execute(
                request_data.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=OperationType.from_http(request_adapter.method),
                operation_extensions=request_data.extensions,
            )
        except InvalidOperationTypeError:
            raise RequestError(
                405,
                METHOD_NOT_ALLOWED,
                "A mutation must be sent by POST; GET serves queries only.",
                media_type=media_type,
                headers={"Allow": "POST"},
            ) from None
        except (CannotGetOperationTypeError, MissingQueryError) as error:
            # schema.transport and schema.documents refuse these first; kept as a backstop.
            raise RequestError(400, BAD_REQUEST, str(error), media_type=media_type) from None

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        response = await super().get_sub_response(request)
        response.media_type = request_of(request.scope).media_type
        return response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        assert not isinstance(response_data, list)  # schema.transport refuses batches
        media_type = sub_response.media_type or JSON
        unavailable = _unavailable_error(response_data)
        if unavailable is not None:
            # The database could not serve the request: the caller may try again (503), which
            # a 200 with a masked error would not tell it.
            response = _unavailable(unavailable, media_type)
            response.headers.raw.extend(sub_response.headers.raw)
            return response
        status, body = answer(response_data, media_type)
        response = Response(self.encode_json(body), status_code=status, media_type=media_type)
        response.headers.raw.extend(sub_response.headers.raw)
        response.background = sub_response.background
        return response

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None
    ) -> Context:
        principal = request.scope.get("state", {}).get("principal", ANONYMOUS)
        if not isinstance(request, Request):
            return Context(principal=principal, sessionmaker=self.sessionmaker)
        context = Context(
            principal=principal,
            sessionmaker=self.sessionmaker,
            request=request,
            closes_after_response=True,
        )
        # For __call__, which closes its session after sending the response.
        request.scope.setdefault("state", {})[_CONTEXT] = context
        return context

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def render_graphql_ide(self, request: Request) -> Response:
        # Strawberry's page loads GraphiQL from a CDN, which an intranet cannot reach.
        return HTMLResponse(graphiql_html())


class GraphQLEndpoint:
    """Authenticates the caller, then hands the request to the schema of the caller's tier.

    Each tier has a schema of its own, so a field a tier may not see does not exist for it:
    not in introspection, not in validation messages, not in suggestions. With ``subgraph``
    the schemas are those of one federation subgraph, for a router in front of the hub.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[HubSession],
        authenticator: Authenticator,
        *,
        graphiql: bool,
        subgraph: Subgraph | None = None,
        settings: Settings,
        limiter: RateLimiter,
    ) -> None:
        self.authenticator = authenticator
        self.guard = Guard(limiter, settings.limits)
        self.views = {
            tier: TierGraphQL(
                tier, sessionmaker, graphiql=graphiql, subgraph=subgraph, settings=settings
            )
            for tier in Tier
        }
        # A trusted router enforces the caller's limits on the whole document; the part of it
        # a subgraph gets, rewritten by the router, is held to the router's (hub.limits).
        # Visibility still follows the caller's tier.
        self.routed_views = (
            {
                tier: TierGraphQL(
                    tier,
                    sessionmaker,
                    graphiql=False,
                    subgraph=subgraph,
                    settings=settings,
                    limits=settings.limits.router,
                )
                for tier in Tier
            }
            if subgraph is not None
            else self.views
        )
        engine = sessionmaker.kw["bind"]
        self.compiled = (
            CompiledReads(
                engine,
                {tier: view.schema for tier, view in self.views.items()},
                settings.limits,
                concurrency=settings.database_concurrency or settings.database_pool_size,
                acquire_timeout=settings.database_acquire_timeout,
                routed_limits=settings.limits.router if subgraph is not None else None,
                sessionmaker=sessionmaker,
            )
            if settings.compile_queries
            else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.serve(scope, receive, tracked)
        except ClientDisconnect:
            return
        except DatabaseUnavailableError as error:
            # hub.db has logged the outage, once; a traceback per request would flood the log.
            if started:
                raise
            await _unavailable(error.message)(scope, receive, send)
        except Exception:
            # Whatever went wrong, the caller gets JSON with a code, never a bare 500 page.
            failures.exception("unexpected failure answering /graphql")
            if started:
                raise
            await _internal()(scope, receive, send)

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            principal = await self.authenticator.authenticate(request.headers.get("authorization"))
        except UnauthenticatedError as error:
            admission = await self.guard.admit(request, None)
            answer = admission.refusal or _unauthenticated(error)
            await answer(scope, receive, admission.stamp(send))
            return
        except Exception as error:
            # Checking a token needs the database (revocations, the client's status); when it
            # is down the caller may retry, and must not be served as the public instead.
            if not isinstance(error, DatabaseUnavailableError):
                log.exception("could not check credentials")
            await _unavailable(CREDENTIALS_UNCHECKED)(scope, receive, send)
            return
        note(scope).tier = principal.tier.label
        admission = await self.guard.admit(request, principal)
        send = admission.stamp(send)
        if admission.refusal is not None:
            await admission.refusal(scope, receive, send)
            return
        routed = router_of(request) is not None
        views = self.routed_views if routed else self.views
        view = views[principal.tier]
        try:
            read = await read_request(request, view.limits)
        except RequestError as error:
            await error.response()(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        remember(scope, read)
        note(scope).operation = operation_name(read)
        if self.compiled is not None and isinstance(read, GraphQLRequest):
            closing: list[Callable[[], Awaitable[None]]] = []
            body = await self.compiled.answer(
                principal.tier,
                read.query,
                read.variables or {},
                read.operation_name,
                routed=routed,
                search=_search_service(request),
                closing=closing,
            )
            if body is not None:
                note(scope).plan = COMPILED
                # A search's session is closed once the answer is out, as TierGraphQL closes
                # the resolvers'.
                after = BackgroundTask(_close_all, closing) if closing else None
                response = Response(body, media_type=read.media_type, background=after)
                await response(scope, receive, send)
                return
        note(scope).plan = RESOLVERS if isinstance(read, GraphQLRequest) else NO_PLAN
        await view(scope, receive, send)


def operation_name(read: GraphQLRequest | PageRequest) -> str | None:
    """The operation a request runs, for metrics: the one it names, else its document's
    first operation's name, read from at most its first three tokens, never parsed whole."""
    if not isinstance(read, GraphQLRequest):
        return None
    if read.operation_name is not None:
        return read.operation_name
    try:
        lexer = Lexer(Source(read.query))
        keyword, name = lexer.advance(), lexer.advance()
    except GraphQLError:
        return None
    if keyword.kind is TokenKind.NAME and keyword.value in ("query", "mutation", "subscription"):
        return name.value if name.kind is TokenKind.NAME else None
    return None


def _search_service(request: Request) -> SearchService | None:
    """The process's search service (``hub.app``), which compiled searches ask as the
    resolvers do (``schema.search.queries``)."""
    found = getattr(request.app.state, "search", None)
    return found if isinstance(found, SearchService) else None


def _internal() -> Response:
    body = {
        "errors": [
            {
                "message": "Internal error. It has been logged; please try again later.",
                "extensions": {"code": "INTERNAL"},
            }
        ]
    }
    return Response(orjson.dumps(body), status_code=500, media_type=JSON)


# Where TierGraphQL keeps a request's Context in the request's state, from get_context to
# the end of __call__.
_CONTEXT = "hub.graphql.context"


async def _close_all(closing: list[Callable[[], Awaitable[None]]]) -> None:
    """Close what a compiled search left open, once its answer is out (as ``_close``)."""
    for close in closing:
        try:
            await close()
        except DatabaseUnavailableError:
            pass
        except Exception:
            failures.exception("could not close the session of an answered request")


async def _close(context: Context) -> None:
    """Close the session of an answered request: the answer is out, so a failure here is
    only logged (hub.db logs an outage itself, once)."""
    try:
        await context.close()
    except DatabaseUnavailableError:
        pass
    except Exception:
        failures.exception("could not close the session of an answered request")


CREDENTIALS_UNCHECKED = "Credentials cannot be checked right now; try again shortly."


def _unavailable_error(result: GraphQLHTTPResponse) -> str | None:
    """The message of the result's error that says the database was unavailable, if any."""
    for error in result.get("errors") or ():
        if isinstance(error, dict) and (error.get("extensions") or {}).get("code") == UNAVAILABLE:
            return str(error.get("message", ""))
    return None


def _unavailable(message: str, media_type: str = JSON) -> Response:
    body = {"errors": [{"message": message, "extensions": {"code": UNAVAILABLE}}]}
    return Response(
        orjson.dumps(body),
        status_code=503,
        media_type=media_type,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def _unauthenticated(error: UnauthenticatedError) -> Response:
    body = {"errors": [{"message": error.message, "extensions": {"code": error.code}}]}
    description = error.message.replace('"', "'")
    return Response(
        orjson.dumps(body),
        status_code=401,
        media_type="application/json",
        headers={
            "WWW-Authenticate": f'Bearer error="invalid_token", error_description="{description}"'
        },
    )
