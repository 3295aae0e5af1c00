"""The Elasticsearch backend: the same documents and the same query semantics, at scale.

Each kind has an alias (``<prefix>-enterprise``...) over a concrete index; a reindex builds a
new index and swaps the alias in one atomic ``_aliases`` call. Mappings live here in code.

The tokenizer's units are sent pre-split (``华 为 技 术``), so the ``standard`` analyzer only
splits at the spaces and phrase queries mean what the embedded backend's substring checks mean;
the tokens go to a ``keyword`` field that finds the candidates. Scores are sums of
``constant_score`` boosts, so both backends give the same numbers and the same order.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from importlib.metadata import version as package_version
from typing import Any

import elasticsearch
from elastic_transport import TransportError
from elasticsearch import ApiError, AsyncElasticsearch, NotFoundError
from elasticsearch.helpers import async_bulk

from hub.kit.codes import region_range
from hub.kit.time import utcnow
from search.backend import (
    BackendStatus,
    BackendUnavailableError,
    EnterpriseConditions,
    Hit,
    RecallConditions,
    SearchRequest,
    SearchResult,
    WarningConditions,
    sort_facet,
)
from search.documents import EXACT_BONUS, PREFIX_BONUS, PROFILES, Document, Kind
from search.tokenize import ParsedQuery, unit_texts

log = logging.getLogger("hub.search")

CLIENT_VERSION = package_version("elasticsearch")
CLIENT_MAJOR = int(CLIENT_VERSION.split(".")[0])
_NONE = "__none__"

_TEXT = {"type": "text", "analyzer": "standard", "position_increment_gap": 100}
_ATTRIBUTES: dict[Kind, dict[str, Any]] = {
    Kind.ENTERPRISE: {
        "uscc": {"type": "keyword"},
        "region_code": {"type": "keyword"},
        "province_code": {"type": "keyword"},
        "industry_code": {"type": "keyword"},
        "credit_grade": {"type": "keyword"},
        "status": {"type": "keyword"},
        "published_at": {"type": "date"},
        "blacklisted": {"type": "date_range"},
        "valid_licence": {"type": "date_range"},
    },
    Kind.RECALL: {
        "region_code": {"type": "keyword"},
        "category": {"type": "keyword"},
        "status": {"type": "keyword"},
        "recall_kind": {"type": "keyword"},
        "started_on": {"type": "date"},
        "published_at": {"type": "date"},
    },
    Kind.WARNING: {
        "category": {"type": "keyword"},
        "severity": {"type": "keyword"},
        "issued_on": {"type": "date"},
        "published_at": {"type": "date"},
    },
}
# Facet name -> (field, value for a missing field or None).
_FACETS: dict[Kind, dict[str, str]] = {
    Kind.ENTERPRISE: {
        "regions": "province_code",
        "creditGrades": "credit_grade",
        "industries": "industry_code",
    },
    Kind.RECALL: {"categories": "category", "statuses": "status", "kinds": "recall_kind"},
    Kind.WARNING: {"severities": "severity", "categories": "category"},
}
_FACET_SIZE = 1000


def mapping(kind: Kind) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "id": {"type": "long"},
        "rank": {"type": "long"},
        "tokens": {"type": "keyword"},
        "key": {"type": "keyword"},
        "texts": {"type": "object", "enabled": False},
        **{text_field(name): _TEXT for name in PROFILES[kind].names},
        **_ATTRIBUTES[kind],
    }
    return {"dynamic": "strict", "properties": properties}


def source(document: Document) -> dict[str, Any]:
    """What Elasticsearch stores for a document."""
    profile = PROFILES[document.kind]
    body: dict[str, Any] = {
        "id": document.id,
        "rank": document.rank,
        "tokens": document.tokens,
        "key": " ".join(unit_texts(document.texts.get(profile.primary, [""])[0] or "")),
        "texts": document.texts,
    }
    for name in profile.names:
        body[text_field(name)] = [
            " ".join(unit_texts(value)) for value in document.texts.get(name, [])
        ]
    body.update(document.attributes)
    return body


def text_field(name: str) -> str:
    """The analysed field of a profile field: apart from the attributes (``category``)."""
    return f"text_{name}"


def _phrase(name: str, phrase: tuple[str, ...]) -> dict[str, Any]:
    return {"match_phrase": {text_field(name): " ".join(phrase)}}


def _span_start(name: str, phrase: tuple[str, ...]) -> dict[str, Any]:
    """The field's first value starts with ``phrase``."""
    terms = [{"span_term": {text_field(name): unit}} for unit in phrase]
    match = (
        terms[0]
        if len(terms) == 1
        else {"span_near": {"clauses": terms, "slop": 0, "in_order": True}}
    )
    return {"span_first": {"match": match, "end": len(phrase)}}


def text_query(kind: Kind, query: ParsedQuery) -> tuple[list[Any], list[Any]]:
    """(filters, scoring clauses) of a parsed query, as the embedded backend defines them."""
    profile = PROFILES[kind]
    filters: list[Any] = [{"term": {"tokens": token}} for token in query.tokens]
    for phrase in query.phrases:
        filters.append(
            {
                "bool": {
                    "should": [_phrase(name, phrase) for name in profile.names],
                    "minimum_should_match": 1,
                }
            }
        )
    scoring: list[Any] = [
        {
            "constant_score": {
                "filter": {"bool": {"filter": [_phrase(name, p) for p in query.phrases]}},
                "boost": weight,
            }
        }
        for name, weight in profile.fields
    ]
    scoring.append(
        {
            "constant_score": {
                "filter": _span_start(profile.primary, query.phrases[0]),
                "boost": PREFIX_BONUS,
            }
        }
    )
    scoring.append(
        {"constant_score": {"filter": {"term": {"key": query.key}}, "boost": EXACT_BONUS}}
    )
    return filters, scoring


def _region(code: str) -> dict[str, Any]:
    low, high = region_range(code)
    return {"range": {"region_code": {"gte": low, "lt": high}}}


def _dates(field: str, after: Any, before: Any) -> list[Any]:
    if after is None and before is None:
        return []
    bounds = {}
    if after is not None:
        bounds["gte"] = after.isoformat()
    if before is not None:
        bounds["lte"] = before.isoformat()
    return [{"range": {field: bounds}}]


def _flag(field: str, wanted: bool | None, now: str) -> tuple[list[Any], list[Any]]:
    """(filter, must_not) clauses for a period field holding ``now`` or not."""
    if wanted is None:
        return [], []
    clause = {"term": {field: now}}
    return ([clause], []) if wanted else ([], [clause])


def condition_clauses(request: SearchRequest, now: datetime) -> tuple[list[Any], list[Any]]:
    """(filter, must_not) clauses of the request's conditions and visibility."""
    stamp = now.isoformat()
    filters: list[Any] = []
    must_not: list[Any] = []
    if not request.sees_unpublished:
        filters.append({"range": {"published_at": {"lte": stamp}}})
    given = request.conditions
    if isinstance(given, EnterpriseConditions):
        if given.region_code is not None:
            filters.append(_region(given.region_code))
        if given.industry_code is not None:
            filters.append({"term": {"industry_code": given.industry_code}})
        if given.credit_grades:
            filters.append({"terms": {"credit_grade": list(given.credit_grades)}})
        if given.status is not None:
            filters.append({"term": {"status": given.status}})
        for field, wanted in (
            ("blacklisted", given.blacklisted),
            ("valid_licence", given.has_valid_licence),
        ):
            more, less = _flag(field, wanted, stamp)
            filters += more
            must_not += less
    elif isinstance(given, RecallConditions):
        if given.region_code is not None:
            filters.append(_region(given.region_code))
        for field, value in (
            ("category", given.category),
            ("status", given.status),
            ("recall_kind", given.kind),
        ):
            if value is not None:
                filters.append({"term": {field: value}})
        filters += _dates("started_on", given.started_after, given.started_before)
    elif isinstance(given, WarningConditions):
        for field, value in (("severity", given.severity), ("category", given.category)):
            if value is not None:
                filters.append({"term": {field: value}})
        filters += _dates("issued_on", given.issued_after, given.issued_before)
    return filters, must_not


def aggregations(kind: Kind, now: datetime) -> dict[str, Any]:
    aggs: dict[str, Any] = {
        name: {"terms": {"field": field, "size": _FACET_SIZE, "missing": _NONE}}
        for name, field in _FACETS[kind].items()
    }
    if kind is Kind.ENTERPRISE:
        aggs["blacklisted"] = {
            "filters": {
                "filters": {"true": {"term": {"blacklisted": now.isoformat()}}},
                "other_bucket_key": "false",
            }
        }
    return aggs


def _facets(kind: Kind, answer: dict[str, Any]) -> dict[str, list[tuple[Any, int]]]:
    aggs = answer.get("aggregations", {})
    facets: dict[str, list[tuple[Any, int]]] = {}
    for name in _FACETS[kind]:
        counts = {
            (None if bucket["key"] == _NONE else bucket["key"]): int(bucket["doc_count"])
            for bucket in aggs[name]["buckets"]
        }
        facets[name] = sort_facet(counts)
    if kind is Kind.ENTERPRISE:
        buckets = aggs["blacklisted"]["buckets"]
        counts = {value == "true": int(buckets[value]["doc_count"]) for value in ("true", "false")}
        facets["blacklisted"] = sort_facet({k: v for k, v in counts.items() if v})
    return facets


class ElasticBackend:
    """Elasticsearch through the official async client; every failure is BackendUnavailable."""

    name = "elasticsearch"

    def __init__(self, url: str, *, prefix: str = "hub", timeout: float = 5.0) -> None:
        self.url = url
        self.prefix = prefix
        self.client = AsyncElasticsearch(
            url, request_timeout=timeout, max_retries=0, retry_on_timeout=False
        )

    async def close(self) -> None:
        await self.client.close()

    def alias(self, kind: Kind) -> str:
        return f"{self.prefix}-{kind.value}"

    async def _call(self, what: str, call: Callable[[], Any]) -> Any:
        try:
            return await call()
        except (TransportError, ApiError) as error:
            raise BackendUnavailableError(f"{what}: {type(error).__name__}: {error}") from error

    async def server_version(self) -> str:
        answer = await self._call(
            "version",
            lambda: self.client.nodes.info(node_id="_local", filter_path="nodes.*.version"),
        )
        return str(next(iter(answer["nodes"].values()))["version"])

    async def check_version(self) -> str:
        """The server's version; a server of another major than the client's is unusable."""
        version = await self.server_version()
        if int(version.split(".")[0]) != CLIENT_MAJOR:
            raise BackendUnavailableError(
                f"server {version} needs an elasticsearch client of major "
                f"{version.split('.')[0]}, this one is {CLIENT_VERSION}"
            )
        return version

    # Indices -------------------------------------------------------------------------------

    async def create_index(self, kind: Kind, *, loading: bool = False) -> str:
        """A new concrete index for ``kind``; ``loading`` turns refresh off for a bulk load."""
        name = f"{self.alias(kind)}-{utcnow().strftime('%Y%m%d%H%M%S%f')}"
        settings: dict[str, Any] = {"number_of_shards": 1, "number_of_replicas": 0}
        if loading:
            settings["refresh_interval"] = "-1"
        await self._call(
            "create index",
            lambda: self.client.indices.create(
                index=name, settings=settings, mappings=mapping(kind)
            ),
        )
        return name

    async def indices_of(self, kind: Kind) -> list[str]:
        try:
            answer = await self.client.indices.get_alias(name=self.alias(kind))
        except NotFoundError:
            return []
        except (TransportError, ApiError) as error:
            raise BackendUnavailableError(f"aliases: {error}") from error
        return sorted(answer.body)

    async def ensure_indices(self) -> None:
        """Every kind's alias exists (over an empty index when it did not)."""
        for kind in Kind:
            if not await self.indices_of(kind):
                name = await self.create_index(kind)
                await self._call(
                    "alias",
                    lambda name=name, kind=kind: self.client.indices.put_alias(  # type: ignore[misc]
                        index=name, name=self.alias(kind)
                    ),
                )

    async def swap(self, kind: Kind, new_index: str) -> None:
        """Point the alias at ``new_index`` atomically, then drop the indices it left."""
        old = await self.indices_of(kind)
        await self._call(
            "refresh",
            lambda: self.client.indices.put_settings(
                index=new_index, settings={"refresh_interval": "1s"}
            ),
        )
        await self._call("refresh", lambda: self.client.indices.refresh(index=new_index))
        actions: list[Any] = [
            {"remove": {"index": name, "alias": self.alias(kind)}} for name in old
        ]
        actions.append({"add": {"index": new_index, "alias": self.alias(kind)}})
        await self._call("swap alias", lambda: self.client.indices.update_aliases(actions=actions))
        for name in old:
            await self._call("drop index", lambda name=name: self.client.indices.delete(index=name))  # type: ignore[misc]

    async def drop(self) -> None:
        """Delete every index of this prefix (tests and a fresh start)."""
        await self._call(
            "drop",
            lambda: self.client.indices.delete(
                index=f"{self.prefix}-*", ignore_unavailable=True, allow_no_indices=True
            ),
        )

    # Writing -------------------------------------------------------------------------------

    async def load(
        self,
        index: str,
        documents: AsyncIterator[Sequence[Document]],
        *,
        refresh: bool = False,
    ) -> int:
        """Bulk-load batches of documents into ``index`` with the client's helper."""

        async def actions() -> AsyncIterator[dict[str, Any]]:
            async for batch in documents:
                for document in batch:
                    yield {"_index": index, "_id": str(document.id), "_source": source(document)}

        try:
            done, _ = await async_bulk(
                self.client,
                actions(),
                chunk_size=1000,
                refresh="wait_for" if refresh else False,
                raise_on_error=True,
            )
        except (TransportError, ApiError, elasticsearch.helpers.BulkIndexError) as error:
            raise BackendUnavailableError(f"bulk: {error}") from error
        return int(done)

    async def index(self, documents: Sequence[Document]) -> None:
        for kind in {document.kind for document in documents}:
            batch = [d for d in documents if d.kind is kind]

            async def once(batch: Sequence[Document] = batch) -> AsyncIterator[Sequence[Document]]:
                yield batch

            await self.load(self.alias(kind), once(), refresh=True)

    async def delete(self, kind: Kind, ids: Sequence[int]) -> None:
        if not ids:
            return
        await self._call(
            "delete",
            lambda: self.client.delete_by_query(
                index=self.alias(kind),
                query={"ids": {"values": [str(i) for i in ids]}},
                refresh=True,
                conflicts="proceed",
            ),
        )

    # Searching -----------------------------------------------------------------------------

    async def search(self, request: SearchRequest) -> SearchResult:
        now = request.now or utcnow()
        filters, scoring = text_query(request.kind, request.query)
        more, must_not = condition_clauses(request, now)
        body: dict[str, Any] = {
            "query": {"bool": {"filter": filters + more, "must_not": must_not, "should": scoring}},
            "sort": [{"_score": "desc"}, {"rank": "asc"}, {"id": "asc"}],
            "size": request.first + 1,
            "track_total_hits": True,
            "_source": ["texts"],
        }
        if request.after is not None:
            body["search_after"] = list(request.after)
        if request.with_facets:
            body["aggs"] = aggregations(request.kind, now)
        answer = await self._call(
            "search", lambda: self.client.search(index=self.alias(request.kind), **body)
        )
        raw = answer["hits"]["hits"]
        hits = [
            Hit(
                id=int(hit["_id"]),
                score=float(hit["sort"][0]),
                rank=int(hit["sort"][1]),
                texts=hit["_source"]["texts"],
            )
            for hit in raw[: request.first]
        ]
        return SearchResult(
            hits=hits,
            has_next=len(raw) > request.first,
            total=int(answer["hits"]["total"]["value"]),
            facets=_facets(request.kind, answer) if request.with_facets else {},
            total_exact=answer["hits"]["total"]["relation"] == "eq",
        )

    async def status(self) -> BackendStatus:
        version = await self.check_version()
        counts: dict[str, int] = {}
        for kind in Kind:
            if await self.indices_of(kind):
                answer = await self._call(
                    "count",
                    lambda kind=kind: self.client.count(index=self.alias(kind)),  # type: ignore[misc]
                )
                counts[kind.value] = int(answer["count"])
            else:
                counts[kind.value] = 0
        return BackendStatus(
            backend=self.name, documents=counts, detail=f"{self.url} (server {version})"
        )
