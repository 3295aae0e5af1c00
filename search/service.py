"""Search as the API asks for it: codes go straight to their record, text goes to the index,
and Elasticsearch trouble falls back to the embedded backend instead of failing the request."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field

from hub.config import Settings
from hub.db import HubSession
from hub.errors import BadUserInputError
from hub.kit.breaker import Breaker, State
from hub.kit.codes import parse_gtin, parse_licence_number, parse_uscc
from hub.kit.pagination import encode_cursor, page_request
from search.backend import (
    COUNT_LIMIT,
    BackendUnavailableError,
    Conditions,
    Hit,
    Position,
    SearchRequest,
    SearchResult,
)
from search.documents import PROFILES, Kind
from search.elastic import ElasticBackend
from search.embedded import EmbeddedBackend
from search.highlight import CLOSE, OPEN, Highlight, highlights
from search.tokenize import MAX_QUERY_LENGTH, ParsedQuery, parse_query

log = logging.getLogger("hub.search")

_USCC_SHAPE = re.compile(r"^[0-9A-Z]{18}$")
_LICENCE_SHAPE = re.compile(r"^XK\d{2}-\d{3}-\d{5}$")
_GTIN_SHAPE = re.compile(r"^(\d{8}|\d{12,14})$")


@dataclass(frozen=True, slots=True)
class Code:
    """A query that is a whole code: ``kind`` is uscc, licenceNumber or gtin."""

    kind: str
    value: str


def detect_code(text: str) -> Code | None:
    """The code a query is, if it is one with a valid check character."""
    candidate = text.strip().upper()
    try:
        if _USCC_SHAPE.match(candidate):
            return Code("uscc", parse_uscc(candidate))
        if _LICENCE_SHAPE.match(candidate):
            return Code("licenceNumber", parse_licence_number(candidate))
        if _GTIN_SHAPE.match(candidate):
            return Code("gtin", parse_gtin(candidate))
    except BadUserInputError:
        return None
    return None


def parse(text: str) -> ParsedQuery:
    if len(text) > MAX_QUERY_LENGTH:
        raise BadUserInputError("query", f"at most {MAX_QUERY_LENGTH} characters")
    parsed = parse_query(text)
    if not parsed.phrases:
        raise BadUserInputError("query", "needs at least one letter, digit or Chinese character")
    return parsed


def cursor_of(hit: Hit) -> str:
    return encode_cursor(list(hit.position))


def decode_position(after: str | None) -> Position | None:
    if after is None:
        return None
    values = page_request(0, after, 3).after
    assert values is not None
    score, rank, last = values
    if not (
        isinstance(score, int | float) and isinstance(rank, int) and isinstance(last, int)
    ) or isinstance(score, bool):
        raise BadUserInputError("after", "not a cursor of this list; pass an endCursor from it")
    return (float(score), rank, last)


@dataclass(frozen=True, slots=True)
class Answer:
    """A result and how it came about: which backend answered, and why that one."""

    kind: Kind
    result: SearchResult
    backend: str
    reason: str | None = None
    query: ParsedQuery | None = None
    code: Code | None = None
    # Each hit's highlights once worked out, by the hit's id (``mark``).
    _marked: dict[int, list[Highlight]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def highlights(self, hit: Hit) -> list[Highlight]:
        marked = self._marked.get(hit.id)
        if marked is None:
            marked = self._marked[hit.id] = self._highlights(hit)
        return marked

    def mark(self) -> None:
        """Work out every hit's highlights now, for a caller with time to spare before it
        reads them (``schema.compiled.endpoint``, while the hits' rows are read)."""
        for hit in self.result.hits:
            self.highlights(hit)

    def _highlights(self, hit: Hit) -> list[Highlight]:
        if self.code is not None:
            return [Highlight(self.code.kind, [f"{OPEN}{self.code.value}{CLOSE}"])]
        assert self.query is not None
        return highlights(hit.texts, self.query, PROFILES[self.kind].names)


class SearchService:
    """One per process: holds the Elasticsearch client and a breaker in front of it.

    A search waits ``timeout`` seconds for Elasticsearch at most, then answers from the
    embedded index. The first failure opens the breaker: searches answer from the embedded
    index at once, and every ``retry_interval`` seconds one of them tries Elasticsearch again
    (hub.kit.breaker), so a node that hangs costs one slow search, not every search that
    starts while another is waiting.
    """

    def __init__(
        self,
        elastic: ElasticBackend | None = None,
        *,
        timeout: float = 1.0,
        retry_interval: float = 5.0,
        count_limit: int = COUNT_LIMIT,
    ) -> None:
        self.elastic = elastic
        self.timeout = timeout
        self.count_limit = count_limit
        self.breaker = Breaker("elasticsearch", cooldown=retry_interval)

    @classmethod
    def from_settings(cls, settings: Settings) -> SearchService:
        if not settings.search_url:
            return cls()
        return cls(
            ElasticBackend(
                settings.search_url,
                prefix=settings.search_index_prefix,
                timeout=settings.search_timeout,
            ),
            timeout=settings.search_query_timeout,
            retry_interval=settings.search_retry_interval,
        )

    @property
    def degraded(self) -> bool:
        """Whether searches answer from the embedded index because Elasticsearch failed."""
        return self.elastic is not None and self.breaker.state is not State.CLOSED

    def asks_elastic(self, text: str) -> bool:
        """Whether a search of ``text`` would ask Elasticsearch now: it is configured, its
        breaker is closed, and ``text`` is not a code (``search``)."""
        return (
            self.elastic is not None
            and self.breaker.state is State.CLOSED
            and detect_code(text) is None
        )

    async def readiness(self) -> dict[str, str]:
        """Which backend answers searches, and why not Elasticsearch when it does not: for
        ``/readyz``. Checks the served indices' mapping version (at most once a minute), so
        that an index left by an older hub shows here before a search meets it."""
        elastic = self.elastic
        if elastic is None:
            return {"backend": "embedded"}
        if self.breaker.state is State.CLOSED:
            try:
                async with asyncio.timeout(self.timeout):
                    await elastic.check_mappings_now_and_then()
            except BackendUnavailableError as error:
                self._failed(str(error))
            except TimeoutError:
                self._failed(f"mappings: no answer within {self.timeout:g} s")
        if self.breaker.state is State.CLOSED:
            return {"backend": elastic.name}
        reason = f"elasticsearch unavailable: {self.breaker.reason}"
        return {"backend": "embedded", "reason": reason}

    async def close(self) -> None:
        if self.elastic is not None:
            await self.elastic.close()

    async def _from_elastic(self, request: SearchRequest) -> SearchResult | None:
        """Elasticsearch's answer, or None when the embedded index must answer instead."""
        elastic = self.elastic
        if elastic is None or not self.breaker.allow():
            return None
        try:
            async with asyncio.timeout(self.timeout):
                result = await elastic.search(request)
        except BackendUnavailableError as error:
            self._failed(str(error))
            return None
        except TimeoutError:
            self._failed(f"search: no answer within {self.timeout:g} s")
            return None
        down_for = self.breaker.succeeded()
        if down_for is not None:
            log.warning("elasticsearch answers searches again after %.1f s", down_for)
        return result

    def _failed(self, reason: str) -> None:
        if self.breaker.failed(reason):
            log.warning("elasticsearch failed, searches answer from the embedded index: %s", reason)

    async def search(
        self,
        session: HubSession,
        kind: Kind,
        text: str,
        conditions: Conditions,
        *,
        first: int | None,
        after: str | None,
        sees_unpublished: bool,
        with_facets: bool = True,
        open_session: bool = True,
    ) -> Answer:
        """The answer of one search: Elasticsearch's when it is configured and answers, else
        the embedded index's, on ``session``.

        ``open_session``: whether the session's connection and transaction are had while
        Elasticsearch searches, for a caller that reads the hits' rows on that session next
        (the resolvers). A caller that reads them on a connection of its own when the session
        was not needed (``schema.compiled.endpoint``) passes False.
        """
        size = page_request(first, None, 3).first
        position = decode_position(after)
        embedded = EmbeddedBackend(session)
        code = detect_code(text)
        if code is not None:
            ids = await self._code_ids(embedded, kind, code)
            if ids is not None:
                request = SearchRequest(
                    kind=kind,
                    query=parse_query(text),
                    conditions=conditions,
                    first=size,
                    after=position,
                    sees_unpublished=sees_unpublished,
                    with_facets=with_facets,
                    count_limit=self.count_limit,
                )
                result = await embedded.search_ids(request, ids)
                return Answer(kind, result, embedded.name, f"{code.kind} lookup", code=code)
        request = SearchRequest(
            kind=kind,
            query=parse(text),
            conditions=conditions,
            first=size,
            after=position,
            sees_unpublished=sees_unpublished,
            with_facets=with_facets,
            count_limit=self.count_limit,
        )
        reason: str | None = None
        if self.elastic is not None:
            # The hits are read from the database next (their rows, visible now): the
            # connection and its BEGIN are had while Elasticsearch searches, not after.
            opening = asyncio.ensure_future(session.open_now()) if open_session else None
            try:
                found = await self._from_elastic(request)
            finally:
                if opening is not None:
                    await opening
            if found is not None:
                return Answer(kind, found, self.elastic.name, query=request.query)
            reason = f"elasticsearch unavailable: {self.breaker.reason}"
        result = await embedded.search(request)
        return Answer(kind, result, embedded.name, reason, query=request.query)

    @staticmethod
    async def _code_ids(embedded: EmbeddedBackend, kind: Kind, code: Code) -> list[int] | None:
        """Records of ``kind`` a code points at; None when the code means nothing for it."""
        if kind is Kind.ENTERPRISE:
            if code.kind == "uscc":
                return await embedded.enterprise_ids_by_code(uscc=code.value)
            if code.kind == "licenceNumber":
                return await embedded.enterprise_ids_by_code(licence=code.value)
            return await embedded.enterprise_ids_by_code(gtin=code.value)
        if kind is Kind.RECALL and code.kind in ("uscc", "gtin"):
            if code.kind == "uscc":
                return await embedded.recall_ids_by_code(uscc=code.value)
            return await embedded.recall_ids_by_code(gtin=code.value)
        if kind is Kind.WARNING and code.kind == "gtin":
            return await embedded.warning_ids_by_gtin(code.value)
        return None
