"""What every search backend does, and the request and result types they share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from search.documents import Document, Kind
from search.tokenize import ParsedQuery


@dataclass(frozen=True, slots=True)
class EnterpriseConditions:
    region_code: str | None = None
    industry_code: str | None = None
    credit_grades: tuple[str, ...] = ()
    status: str | None = None
    blacklisted: bool | None = None
    has_valid_licence: bool | None = None


@dataclass(frozen=True, slots=True)
class RecallConditions:
    region_code: str | None = None
    category: str | None = None
    status: str | None = None
    kind: str | None = None
    started_after: date | None = None
    started_before: date | None = None


@dataclass(frozen=True, slots=True)
class WarningConditions:
    severity: str | None = None
    category: str | None = None
    issued_after: date | None = None
    issued_before: date | None = None


Conditions = EnterpriseConditions | RecallConditions | WarningConditions


def day_range(given: Conditions) -> tuple[date | None, date | None]:
    """The conditions' range of days (a recall's start, a warning's issue), each end None
    when open: (None, None) for no range."""
    if isinstance(given, RecallConditions):
        return given.started_after, given.started_before
    if isinstance(given, WarningConditions):
        return given.issued_after, given.issued_before
    return None, None


# Position of a hit in a result list: (score, rank, id), best first.
Position = tuple[float, int, int]


# Every backend counts at most this many matches of a search: past it, the total is this
# lower bound (``bounded``). The page itself is always exact.
COUNT_LIMIT = 10_000


def bounded(total: int, limit: int) -> tuple[int, bool]:
    """A count as every backend reports it: (the count up to ``limit``, whether it is all)."""
    return min(total, limit), total <= limit


@dataclass(frozen=True, slots=True)
class SearchRequest:
    kind: Kind
    query: ParsedQuery
    conditions: Conditions
    first: int
    after: Position | None = None
    # Internal callers see drafts; everyone else only published records.
    sees_unpublished: bool = False
    with_facets: bool = True
    now: datetime | None = None
    # Matches counted at most (``COUNT_LIMIT``; smaller in tests, to pass it with few records).
    count_limit: int = COUNT_LIMIT


@dataclass(frozen=True, slots=True)
class Hit:
    id: int
    score: float
    rank: int
    texts: dict[str, list[str]]

    @property
    def position(self) -> Position:
        return (self.score, self.rank, self.id)


@dataclass(frozen=True, slots=True)
class SearchResult:
    hits: list[Hit]
    has_next: bool
    total: int
    # Facet name -> (value, count) pairs, largest count first, then by value.
    facets: dict[str, list[tuple[Any, int]]] = field(default_factory=dict)
    # False when ``total`` is a lower bound (``COUNT_LIMIT``).
    total_exact: bool = True
    # True when ``facets`` are estimated from a uniform sample of the matches (the embedded
    # index, past ``FACET_SAMPLE`` matches); Elasticsearch counts every match.
    facets_sampled: bool = False


@dataclass(frozen=True, slots=True)
class BackendStatus:
    backend: str
    documents: dict[str, int]
    detail: str = ""


class SearchBackend(Protocol):
    """An index of documents that answers search requests with the hub's one semantics."""

    name: str

    async def search(self, request: SearchRequest) -> SearchResult: ...

    async def index(self, documents: Sequence[Document]) -> None: ...

    async def delete(self, kind: Kind, ids: Sequence[int]) -> None: ...

    async def refresh(self) -> None:
        """Make what was written visible to searches."""
        ...

    async def versions(self, kind: Kind, ids: Sequence[int]) -> dict[int, int]:
        """The version of each indexed document among ``ids``; missing ones are left out."""
        ...

    async def status(self) -> BackendStatus: ...


class BackendUnavailableError(Exception):
    """The backend could not be reached or failed; the caller falls back or retries."""


def sort_facet(counts: dict[Any, int]) -> list[tuple[Any, int]]:
    """Largest count first, then by value (None last): the same order on every backend.
    Values compare as text, so that a facet of booleans (false before true) sorts too."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0] is None, str(item[0])))
