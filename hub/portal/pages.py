"""The portal's routes: each page runs one GraphQL document of ``queries/`` and renders it."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from hub.db import RETRY_AFTER_SECONDS
from hub.enterprise.reference import PROVINCES
from hub.errors import BadUserInputError
from hub.kit.months import last_complete_month, parse_month, shift
from hub.kit.suppression import SUPPRESSION_THRESHOLD
from hub.kit.time import utcnow
from hub.limits import TierLimits
from hub.portal import figures
from hub.portal.assets import Assets
from hub.portal.language import Choice, choose
from hub.portal.reads import Answer, PublicBudget, PublicReads
from hub.portal.render import Pages

log = logging.getLogger("hub.portal")

QUERIES = Path(__file__).parent / "queries"
STATIC = Path(__file__).parent / "static"

#: ``/api/public.graphql``'s name when saved.
SDL_FILENAME = "quality-credit-hub-public.graphql"


@cache
def document(name: str) -> str:
    """The GraphQL document ``queries/<name>.graphql``."""
    return (QUERIES / f"{name}.graphql").read_text(encoding="utf-8")


@dataclass(frozen=True, slots=True)
class PageData:
    """What a page's document answered, and the rate headers its response carries."""

    data: dict[str, Any]
    headers: dict[str, str]


class BadParameterError(Exception):
    """A query parameter of a page that cannot be what it names (``?blacklisted=maybe``)."""

    def __init__(self, parameter: str, reason: str) -> None:
        super().__init__(f"{parameter}: {reason}")
        self.parameter = parameter
        self.reason = reason


class Portal:
    """The public pages, given the public tier's reads and rate budget by the composition root.

    ``sdl`` is the public schema's SDL, offered for download on ``/api``; ``limits`` are the
    public tier's, which ``/api`` states.
    """

    def __init__(
        self,
        reads: PublicReads,
        budget: PublicBudget,
        *,
        sdl: str,
        limits: TierLimits,
        production: bool,
    ) -> None:
        self.reads = reads
        self.budget = budget
        self.sdl = sdl
        self.limits = limits
        self.production = production
        self.pages = Pages(reload=not production)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self.home, name="home"),
            Route("/search", self.search, name="search"),
            Route("/enterprises/{uscc}", self.enterprise, name="enterprise"),
            Route("/blacklist", self.blacklist, name="blacklist"),
            Route("/recalls", self.recalls, name="recalls"),
            Route("/warnings", self.warnings, name="warnings"),
            Route("/statistics", self.statistics, name="statistics"),
            Route("/api", self.api, name="api"),
            Route("/api/public.graphql", self.public_sdl, name="public_sdl"),
        ]

    @staticmethod
    def assets() -> Mount:
        """The portal's styles and GraphiQL's vendored scripts, at ``/static``."""
        return Mount("/static", app=Assets(directory=STATIC), name="static")

    # -- pages -------------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        return await self._page(request, "home", {}, "home.html")

    async def search(self, request: Request) -> Response:
        text = request.query_params.get("q", "").strip()
        choice = choose(request)
        if not text:
            return self.pages.render(request, choice, "search.html", {"q": ""})
        params = request.query_params
        try:
            blacklisted = _boolean(params, "blacklisted")
        except BadParameterError as error:
            return self.problem(request, choice, 400, {}, problems=[str(error)])
        variables = {
            "query": text,
            "after": params.get("after") or None,
            "enterprises": _present(
                regionCode=params.get("region"),
                industryCode=params.get("industry"),
                creditGrades=[params["grade"]] if params.get("grade") else None,
                blacklisted=blacklisted,
            ),
            "recalls": _present(category=params.get("recall_category")),
            "warnings": _present(severity=params.get("warning_severity")),
        }
        return await self._page(request, "search", variables, "search.html", {"q": text})

    async def enterprise(self, request: Request) -> Response:
        uscc = request.path_params["uscc"]
        return await self._page(
            request, "enterprise", {"uscc": uscc}, "enterprise.html", {"uscc": uscc}
        )

    async def blacklist(self, request: Request) -> Response:
        params = request.query_params
        variables = {
            "after": params.get("after") or None,
            "filter": _present(
                regionCode=params.get("region"),
                listType=params.get("list_type"),
                listedAfter=params.get("listed_after"),
                listedBefore=params.get("listed_before"),
            ),
        }
        return await self._page(
            request, "blacklist", variables, "blacklist.html", {"provinces": PROVINCES}
        )

    async def recalls(self, request: Request) -> Response:
        params = request.query_params
        variables = {
            "after": params.get("after") or None,
            "filter": _present(
                regionCode=params.get("region"),
                status=params.get("status"),
                kind=params.get("kind"),
                startedAfter=params.get("started_after"),
                startedBefore=params.get("started_before"),
            ),
        }
        return await self._page(
            request, "recalls", variables, "recalls.html", {"provinces": PROVINCES}
        )

    async def warnings(self, request: Request) -> Response:
        params = request.query_params
        variables = {
            "after": params.get("after") or None,
            "filter": _present(
                severity=params.get("severity"),
                issuedAfter=params.get("issued_after"),
                issuedBefore=params.get("issued_before"),
            ),
        }
        return await self._page(request, "warnings", variables, "warnings.html")

    async def statistics(self, request: Request) -> Response:
        choice = choose(request)
        params = request.query_params
        try:
            last = _month(params, "to_month") or last_complete_month(utcnow())
            first = _month(params, "from_month") or shift(last, 1 - figures.DEFAULT_MONTHS)
        except BadParameterError as error:
            return self.problem(request, choice, 400, {}, problems=[str(error)])
        read = await self.read(request, choice, "statistics", {"fromMonth": first, "toMonth": last})
        if isinstance(read, Response):
            return read
        found = read.data["statistics"]
        context = {
            "threshold": SUPPRESSION_THRESHOLD,
            "from_month": first,
            "to_month": last,
            "by_region": figures.rates(found["spotChecksByRegion"], "region"),
            "by_category": figures.rates(found["spotChecksByCategory"], "category"),
            "recalls": figures.monthly(found["recallsByMonth"]),
            "listings": figures.monthly(found["blacklistListingsByMonth"]),
        }
        return self.pages.render(request, choice, "statistics.html", context, headers=read.headers)

    async def api(self, request: Request) -> Response:
        # No read, so no rate budget: the page must work when GraphiQL is off (production).
        return self.pages.render(
            request,
            choose(request),
            "api.html",
            {"production": self.production, "limits": self.limits},
        )

    async def not_found(self, request: Request, _: Exception) -> Response:
        """404 for any path the hub does not serve: a page for browsers, JSON for the rest."""
        if "text/html" not in request.headers.get("accept", ""):
            body = {"errors": [{"message": "Not found.", "extensions": {"code": "NOT_FOUND"}}]}
            return JSONResponse(body, status_code=404)
        return self.problem(request, choose(request), 404, {})

    async def public_sdl(self, request: Request) -> Response:
        return Response(
            self.sdl,
            media_type="text/plain; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{SDL_FILENAME}"',
                "Cache-Control": "public, max-age=3600",
            },
        )

    # -- the one way a page reads --------------------------------------------------------------

    async def _page(
        self,
        request: Request,
        name: str,
        variables: Mapping[str, Any],
        template: str,
        context: Mapping[str, Any] | None = None,
    ) -> Response:
        choice = choose(request)
        context = dict(context or {})
        read = await self.read(request, choice, name, variables, uscc=context.get("uscc"))
        if isinstance(read, Response):
            return read
        return self.pages.render(
            request, choice, template, {**context, "data": read.data}, headers=read.headers
        )

    async def read(
        self,
        request: Request,
        choice: Choice,
        name: str,
        variables: Mapping[str, Any],
        *,
        uscc: str | None = None,
    ) -> PageData | Response:
        """Runs ``queries/<name>.graphql`` for a page, spending one request of the caller's
        public budget; the problem page instead when it cannot be answered. With ``uscc``, the
        document reads that enterprise, and its absence is a 404."""
        admission = await self.budget(request)
        headers = dict(admission.headers)
        if not admission.allowed:
            headers["Retry-After"] = str(admission.retry_after)
            return self.problem(request, choice, 429, headers, retry_after=admission.retry_after)
        answer = await self.reads(request, document(name), variables)
        problem = self._problem_of(request, choice, answer, headers)
        if problem is not None:
            return problem
        data = answer.data or {}
        if uscc is not None and data.get("enterprise") is None:
            return self.problem(request, choice, 404, headers, uscc=uscc)
        return PageData(data, headers)

    def _problem_of(
        self, request: Request, choice: Choice, answer: Answer, headers: dict[str, str]
    ) -> Response | None:
        code = answer.error_code()
        if code is None:
            return None
        if code == "BAD_USER_INPUT":
            messages = [str(error.get("message", "")) for error in answer.errors]
            return self.problem(request, choice, 400, headers, problems=messages)
        if code == "RATE_LIMITED":
            return self.problem(request, choice, 429, headers, retry_after=60)
        if code == "UNAVAILABLE":
            # The database is away; hub.db has logged it, once.
            headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return self.problem(request, choice, 503, headers)
        log.error("a portal page's read failed: %s", list(answer.errors))
        return self.problem(request, choice, 503, headers)

    def problem(
        self,
        request: Request,
        choice: Choice,
        status: int,
        headers: Mapping[str, str],
        **context: Any,
    ) -> Response:
        return self.pages.render(
            request,
            choice,
            "problem.html",
            {"status": status, "problems": [], "retry_after": None, "uscc": None, **context},
            status_code=status,
            headers=headers,
            # An unknown enterprise may be added tomorrow; the others are about this request.
            cacheable=status == 404,
        )


def _present(**values: Any) -> dict[str, Any] | None:
    """The filter made of the values given, None when every one is empty."""
    kept = {name: value for name, value in values.items() if value not in (None, "")}
    return kept or None


def _month(params: Mapping[str, str], name: str) -> str | None:
    """A month of the page's address, YYYY-MM (what a month field sends), None when empty."""
    value = params.get(name)
    if not value:
        return None
    try:
        return parse_month(value, name)
    except BadUserInputError as error:
        raise BadParameterError(name, error.reason) from None


def _boolean(params: Mapping[str, str], name: str) -> bool | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    if value in ("true", "false"):
        return value == "true"
    raise BadParameterError(name, "must be true or false")
