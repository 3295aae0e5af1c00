"""The Elasticsearch backend: the same documents and the same query semantics, at scale.

Each kind has an alias (``<prefix>-enterprise``...) over a concrete index; a reindex builds a
new index and swaps the alias in one atomic ``_aliases`` call. Mappings live here in code.

The text's terms (``search.terms``: each field's tokens, the prefix and exact terms) go to a
``keyword`` field, which finds the candidates and answers most phrases (one or two CJK
characters, a word) by itself. The tokenizer's units are sent pre-split too (``华 为 技 术``),
so the ``standard`` analyzer only splits at the spaces and a longer phrase's query means what
the embedded backend's check of the units means. Scores are sums of ``constant_score`` boosts,
so both backends give the same numbers and the same order.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import version as package_version
from typing import Any

import orjson
from elastic_transport import TransportError
from elasticsearch import ApiError, AsyncElasticsearch, NotFoundError
from elasticsearch.helpers import async_bulk
from elasticsearch.serializer import OrjsonSerializer

from hub.kit.codes import region_range
from hub.kit.time import utcnow
from hub.observability.tracing import search_span
from search.backend import (
    BackendStatus,
    BackendUnavailableError,
    EnterpriseConditions,
    Hit,
    RecallConditions,
    SearchRequest,
    SearchResult,
    WarningConditions,
    day_range,
    sort_facet,
)
from search.documents import EXACT_BONUS, PREFIX_BONUS, PROFILES, Document, Kind
from search.terms import NAMESPACES, field_term, phrase_terms, prefix_terms, text_terms
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
BULK_CHUNK = 1000
# How often a served index makes its writes searchable on its own (the relay refreshes after
# each pass).
REFRESH_INTERVAL = "30s"
# The version of the mappings below, stamped in each index's ``_meta``: an index of another
# version (one built before the ``terms`` field, say) answers the queries of this one with
# nothing, and refuses its writes, so it is refused as unavailable until a reindex replaces it.
MAPPING_VERSION = 2
# Seconds a search trusts the last check of the served indices' mapping version: a reindex
# swaps the index behind an alias, so the check is made again now and then, not per search.
MAPPING_CHECK_EVERY = 60.0
# The version of a delete: above any record's, so that the tombstone refuses a document of
# the deleted record that a reindex read before the delete (for ``index.gc_deletes``, 60 s).
DELETED_VERSION = 2**62


def mapping(kind: Kind) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "id": {"type": "long"},
        "rank": {"type": "long"},
        # Field tokens, prefix and exact terms (search.terms): a phrase of one unit or two CJK
        # units is one term here, far cheaper than a phrase query over positions.
        "terms": {"type": "keyword"},
        "key": {"type": "keyword"},
        "texts": {"type": "object", "enabled": False},
        **{text_field(name): _TEXT for name in PROFILES[kind].names},
        **_ATTRIBUTES[kind],
    }
    # Only the original texts are ever read back (highlights); the rest is for searching, and
    # the database is the source of truth for a rebuild, so the source need not keep it.
    stored = {"excludes": ["terms", "key", *(text_field(name) for name in PROFILES[kind].names)]}
    return {
        "dynamic": "strict",
        "_meta": {"mapping_version": MAPPING_VERSION},
        "_source": stored,
        "properties": properties,
    }


def source(document: Document) -> dict[str, Any]:
    """What Elasticsearch stores for a document."""
    profile = PROFILES[document.kind]
    body: dict[str, Any] = {
        "id": document.id,
        "rank": document.rank,
        "terms": sorted(text_terms(document)),
        "key": " ".join(unit_texts(document.texts.get(profile.primary, [""])[0] or "")),
        "texts": document.texts,
    }
    for name in profile.names:
        body[text_field(name)] = [
            " ".join(unit_texts(value)) for value in document.texts.get(name, [])
        ]
    body.update(document.attributes)
    return body


# The parts of a search's answer that ``ElasticBackend.search`` reads (the node's
# ``filter_path``): not the index's name, the score or the shards of every hit.
_SEARCH_ANSWER = (
    "hits.total",
    "hits.hits._id",
    "hits.hits._source",
    "hits.hits.sort",
    "aggregations",
)
_SEARCH_ANSWER_PARAMETER = ",".join(_SEARCH_ANSWER)
# And of each answer of an ``_msearch``, with the error of one the node refused.
_MSEARCH_ANSWER_PARAMETER = ",".join(
    f"responses.{part}" for part in (*_SEARCH_ANSWER, "error", "status")
)
_JSON_HEADERS = {"accept": "application/json", "content-type": "application/json"}
_NDJSON_HEADERS = {"accept": "application/json", "content-type": "application/x-ndjson"}


def _error_of(body: Any) -> str:
    """What an error answer of the node says went wrong."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return f"{error.get('type')}: {error.get('reason')}"
    return str(error if error is not None else body)[:500]


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
    """(filters, scoring clauses) of a parsed query, as the embedded backend defines them.

    A phrase whose terms say everything (``search.terms.phrase_terms``) is asked as terms of
    the ``terms`` field; a longer one as a phrase query over the units' positions too.
    """
    profile = PROFILES[kind]
    namespace = NAMESPACES[kind]
    fields = range(len(profile.names))
    phrases = [(phrase, phrase_terms(phrase)) for phrase in query.phrases]
    filters: list[Any] = []
    for phrase, terms in phrases:
        # Each of the phrase's tokens in some field.
        filters += [
            {"terms": {"terms": [field_term(f, token, namespace) for f in fields]}}
            for token in terms.tokens
        ]
        if not terms.exact:
            filters.append(
                {
                    "bool": {
                        "should": [_phrase(name, phrase) for name in profile.names],
                        "minimum_should_match": 1,
                    }
                }
            )

    def in_field(position: int, name: str) -> list[Any]:
        """Every phrase in field ``position``."""
        found: list[Any] = []
        for phrase, terms in phrases:
            found += [{"term": {"terms": t}} for t in terms.at(position, namespace)]
            if not terms.exact:
                found.append(_phrase(name, phrase))
        return found

    scoring: list[Any] = [
        {
            "constant_score": {
                "filter": {"bool": {"filter": in_field(position, name)}},
                "boost": weight,
            }
        }
        for position, (name, weight) in enumerate(profile.fields)
    ]
    first, first_terms = phrases[0]
    starts = (
        {"term": {"terms": prefix_terms(first, namespace)[-1]}}
        if first_terms.exact
        else _span_start(profile.primary, first)
    )
    scoring.append({"constant_score": {"filter": starts, "boost": PREFIX_BONUS}})
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
        filters += _dates("started_on", *day_range(given))
    elif isinstance(given, WarningConditions):
        for field, value in (("severity", given.severity), ("category", given.category)):
            if value is not None:
                filters.append({"term": {field: value}})
        filters += _dates("issued_on", *day_range(given))
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


def _versioned(target: str, document: Document) -> dict[str, Any]:
    """Where a document goes and with which version: a write of an older version than the
    index holds is refused (``_superseded``)."""
    return {
        "_index": target,
        "_id": str(document.id),
        "version": document.version,
        "version_type": "external",
    }


def _index_action(target: str, document: Document) -> dict[str, Any]:
    return {**_versioned(target, document), "_source": source(document)}


def _bulk_body(target: str, documents: Sequence[Document]) -> bytes:
    """A bulk request's lines (NDJSON) indexing ``documents`` into ``target``, versioned."""
    lines = []
    for document in documents:
        lines.append(orjson.dumps({"index": _versioned(target, document)}))
        lines.append(orjson.dumps(source(document)))
    lines.append(b"")
    return b"\n".join(lines)


def bulk_bodies(documents: Sequence[Document], target: str) -> list[bytes]:
    """Bulk requests of a reindex indexing ``documents`` into ``target``, ``BULK_CHUNK``
    documents each. A function of its arguments alone: a reindex runs it in worker processes
    (``search.building``)."""
    return [
        _bulk_body(target, documents[start : start + BULK_CHUNK])
        for start in range(0, len(documents), BULK_CHUNK)
    ]


def _failed(item: dict[str, Any]) -> bool:
    ((_, result),) = item.items()
    return "error" in result


def _superseded(item: dict[str, Any]) -> bool:
    """A bulk item refused for its version (the index has a newer one), or a delete of nothing."""
    ((operation, result),) = item.items()
    status = result.get("status")
    return status == 409 or (operation == "delete" and status == 404)


@dataclass(slots=True)
class Layout:
    """The indices of one kind: the one searched, the one a reindex builds, and the rest.

    ``loose`` ones are left by a reindex that stopped half-way (killed), or before it dropped
    the index it replaced; a ``building`` one is too when no reindex is running.
    """

    serving: list[str] = field(default_factory=list)
    building: list[str] = field(default_factory=list)
    loose: list[str] = field(default_factory=list)


class ElasticBackend:
    """Elasticsearch through the official async client; every failure is BackendUnavailable."""

    name = "elasticsearch"

    def __init__(self, url: str, *, prefix: str = "hub", timeout: float = 5.0) -> None:
        self.url = url
        self.prefix = prefix
        self.timeout = timeout
        self.client = AsyncElasticsearch(
            url,
            request_timeout=timeout,
            max_retries=0,
            retry_on_timeout=False,
            # orjson (a dependency already): the bulk writes spent about a fifth of their time
            # encoding JSON with the standard library.
            serializer=OrjsonSerializer(),
        )
        kinds = "|".join(re.escape(kind.value) for kind in Kind)
        self._own_index = re.compile(rf"{re.escape(prefix)}-(?P<kind>{kinds})-\d{{20}}")
        # When the served indices' mappings were last found current (time.monotonic()).
        self._mappings_checked = -math.inf

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

    def build_alias(self, kind: Kind) -> str:
        """The alias of the index a reindex is building for ``kind``, while it builds it."""
        return f"{self.alias(kind)}-build"

    # Indices -------------------------------------------------------------------------------

    async def create_index(self, kind: Kind, *, loading: bool = False) -> str:
        """A new concrete index for ``kind``, created behind its alias in the same request.

        ``loading``: a reindex's new index, with refresh off for the bulk load, behind the
        build alias; from the moment it exists, every relay writes to it too.
        """
        name = f"{self.alias(kind)}-{utcnow().strftime('%Y%m%d%H%M%S%f')}"
        settings: dict[str, Any] = {
            "number_of_shards": 1,
            "number_of_replicas": 0,
            "refresh_interval": "-1" if loading else REFRESH_INTERVAL,
        }
        alias = self.build_alias(kind) if loading else self.alias(kind)
        await self._call(
            "create index",
            lambda: self.client.indices.create(
                index=name, settings=settings, mappings=mapping(kind), aliases={alias: {}}
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

    async def layout(self) -> dict[Kind, Layout]:
        """Every index of this prefix, by kind and by what it is for."""
        answer = await self._call(
            "indices", lambda: self.client.indices.get_alias(index=f"{self.prefix}-*")
        )
        layouts = {kind: Layout() for kind in Kind}
        for name, info in sorted(answer.body.items()):
            found = self._own_index.fullmatch(name)
            if found is None:
                continue  # another prefix that starts with this one ("hub-test-...")
            kind = Kind(found["kind"])
            aliases = info.get("aliases", {})
            if self.alias(kind) in aliases:
                layouts[kind].serving.append(name)
            elif self.build_alias(kind) in aliases:
                layouts[kind].building.append(name)
            else:
                layouts[kind].loose.append(name)
        return layouts

    async def ensure_indices(self) -> None:
        """Every kind's alias exists (over an empty index when it did not), over an index of
        this hub's mapping version (``check_mappings``)."""
        for kind, layout in (await self.layout()).items():
            if not layout.serving:
                await self.create_index(kind)
        await self.check_mappings()

    async def check_mappings(self) -> None:
        """Raise ``BackendUnavailableError`` when an index behind an alias has a mapping of
        another version than ``MAPPING_VERSION``, saying which and what to run."""
        aliases = [self.alias(kind) for kind in Kind]
        answer = await self._call(
            "mappings",
            lambda: self.client.indices.get_mapping(
                index=aliases, ignore_unavailable=True, allow_no_indices=True
            ),
        )
        for name, body in sorted(answer.body.items()):
            found = body.get("mappings", {}).get("_meta", {}).get("mapping_version")
            if found != MAPPING_VERSION:
                raise BackendUnavailableError(
                    f"index {name} has mapping version {found or 'none'}, this hub needs "
                    f"{MAPPING_VERSION}: run `hub search reindex --backend elasticsearch`"
                )
        self._mappings_checked = time.monotonic()

    async def check_mappings_now_and_then(self) -> None:
        """``check_mappings``, unless it passed within ``MAPPING_CHECK_EVERY`` seconds."""
        if time.monotonic() - self._mappings_checked > MAPPING_CHECK_EVERY:
            await self.check_mappings()

    async def swap(self, kind: Kind, new_index: str) -> None:
        """Serve ``new_index`` under the alias atomically, then drop the indices it left.

        The new index is merged into one segment first: searches of a read-mostly index pay
        for every segment (each looks its terms up and collects apart), and the relay's few
        writes add small segments that merge cheaply. It then refreshes on a slow schedule:
        the relay refreshes after each pass, so its writes are searchable at once anyway.
        """
        old = await self.indices_of(kind)
        await self._call("refresh", lambda: self.client.indices.refresh(index=new_index))
        await self._call(
            "merge",
            lambda: self.client.options(request_timeout=3600).indices.forcemerge(
                index=new_index, max_num_segments=1
            ),
        )
        await self._call(
            "refresh",
            lambda: self.client.indices.put_settings(
                index=new_index, settings={"refresh_interval": REFRESH_INTERVAL}
            ),
        )
        await self._call("refresh", lambda: self.client.indices.refresh(index=new_index))
        actions: list[Any] = [
            {"remove": {"index": name, "alias": self.alias(kind)}} for name in old
        ]
        actions.append({"add": {"index": new_index, "alias": self.alias(kind)}})
        actions.append({"remove": {"index": new_index, "alias": self.build_alias(kind)}})
        await self._call("swap alias", lambda: self.client.indices.update_aliases(actions=actions))
        await self.drop_indices(old)

    async def drop_indices(self, names: Sequence[str]) -> None:
        if names:
            await self._call(
                "drop indices",
                lambda: self.client.indices.delete(index=list(names), ignore_unavailable=True),
            )

    async def drop(self) -> None:
        """Delete every index of this prefix (tests and a fresh start)."""
        await self._call(
            "drop",
            lambda: self.client.indices.delete(
                index=f"{self.prefix}-*", ignore_unavailable=True, allow_no_indices=True
            ),
        )

    # Writing -------------------------------------------------------------------------------

    async def _bulk(
        self, actions: AsyncIterable[dict[str, Any]] | Iterable[dict[str, Any]]
    ) -> None:
        """Send ``actions`` in bulk requests, only through aliases.

        ``require_alias``: a write to an alias that is gone (a build alias after its swap)
        fails instead of creating an index of that name. A write refused because the index
        holds a newer version is no error: that is what the versions are for.
        """
        try:
            _, errors = await async_bulk(
                self.client,
                actions,
                chunk_size=BULK_CHUNK,
                raise_on_error=False,
                require_alias=True,
            )
        except (TransportError, ApiError) as error:
            raise BackendUnavailableError(f"bulk: {error}") from error
        assert isinstance(errors, list)
        failed = [item for item in errors if not _superseded(item)]
        if failed:
            raise BackendUnavailableError(f"bulk: {len(failed)} writes failed: {failed[0]}")

    async def load(self, bodies: AsyncIterator[list[bytes]]) -> None:
        """Send bulk requests made by ``bulk_bodies``, one after the other.

        One request is in flight while the next is made: making it is Python's work (tokens,
        JSON), indexing it the node's, and one waiting for the other left the node idle half
        the time.
        """
        sending: asyncio.Task[None] | None = None
        try:
            async for made in bodies:
                for body in made:
                    if sending is not None:
                        await sending
                    sending = asyncio.create_task(self._send(body))
                    await asyncio.sleep(0)  # the request leaves before the next is made
            if sending is not None:
                await sending
                sending = None
        finally:
            if sending is not None:
                sending.cancel()
                await asyncio.gather(sending, return_exceptions=True)

    async def _send(self, body: bytes) -> None:
        """One bulk request of prepared lines; a refusal for an older version is no error."""
        try:
            # Lines already written (NDJSON bytes), which the client sends as they are.
            answer = await self.client.bulk(
                operations=body,  # type: ignore[arg-type]
                require_alias=True,
            )
        except (TransportError, ApiError) as error:
            raise BackendUnavailableError(f"bulk: {error}") from error
        if answer.get("errors"):
            failed = [item for item in answer["items"] if not _superseded(item) and _failed(item)]
            if failed:
                raise BackendUnavailableError(f"bulk: {len(failed)} writes failed: {failed[0]}")

    async def _targets(self) -> dict[Kind, list[str]]:
        """Where a change goes: the alias searched and, during a reindex, the build alias.

        Asked after the change was read from the database: a reindex whose new index did
        not exist yet then reads the change itself.
        """
        targets: dict[Kind, list[str]] = {}
        for kind, layout in (await self.layout()).items():
            if not layout.serving:
                raise BackendUnavailableError(f"no index behind {self.alias(kind)}")
            targets[kind] = [self.alias(kind)]
            if layout.building:
                targets[kind].append(self.build_alias(kind))
        return targets

    async def index(self, documents: Sequence[Document]) -> None:
        """One bulk write of ``documents`` to every index of their kinds, versioned."""
        if not documents:
            return
        targets = await self._targets()
        await self._bulk(
            _index_action(target, document)
            for document in documents
            for target in targets[document.kind]
        )

    async def delete(self, kind: Kind, ids: Sequence[int]) -> None:
        if not ids:
            return
        targets = await self._targets()
        await self._bulk(
            {
                "_op_type": "delete",
                "_index": target,
                "_id": str(ref_id),
                "version": DELETED_VERSION,
                "version_type": "external",
            }
            for ref_id in ids
            for target in targets[kind]
        )

    async def refresh(self) -> None:
        await self._call(
            "refresh",
            lambda: self.client.indices.refresh(
                index=[self.alias(kind) for kind in Kind], ignore_unavailable=True
            ),
        )

    async def versions(self, kind: Kind, ids: Sequence[int]) -> dict[int, int]:
        if not ids:
            return {}
        try:
            answer = await self.client.mget(
                index=self.alias(kind), ids=[str(i) for i in ids], source=False
            )
        except NotFoundError:
            return {}  # no index yet: nothing is indexed
        except (TransportError, ApiError) as error:
            raise BackendUnavailableError(f"versions: {error}") from error
        # A missing index answers an error per id: nothing is indexed there either.
        return {int(doc["_id"]): int(doc["_version"]) for doc in answer["docs"] if doc.get("found")}

    # Searching -----------------------------------------------------------------------------

    @staticmethod
    def search_bodies(request: SearchRequest) -> list[dict[str, Any]]:
        """The searches sent for ``request``: its page and total, and with facets a second one
        for them, sent together (``search_request``).

        The facets are apart because they need every match and no score: in one search with
        the page, the node scored every match for the aggregations (at 1M, 股份 with its four
        facets: p50 30.6 ms); apart, the page's search skips what cannot make the page once
        it has counted to the limit, the facets' search scores nothing, and the node runs the
        two at once (18.4 ms). A search of few matches pays about 1 ms for the second one."""
        now = request.now or utcnow()
        filters, scoring = text_query(request.kind, request.query)
        more, must_not = condition_clauses(request, now)
        matching = filters + more
        page: dict[str, Any] = {
            "query": {"bool": {"filter": matching, "must_not": must_not, "should": scoring}},
            "sort": [{"_score": "desc"}, {"rank": "asc"}, {"id": "asc"}],
            "size": request.first + 1,
            # Counted as far as the embedded backend counts: past it, the limit with the
            # relation "gte", a lower bound (``search.backend.bounded``).
            "track_total_hits": request.count_limit,
            "_source": ["texts"],
        }
        if request.after is not None:
            page["search_after"] = list(request.after)
        if not request.with_facets:
            return [page]
        facets = {
            "query": {"bool": {"filter": matching, "must_not": must_not}},
            "size": 0,
            "track_total_hits": False,
            "aggs": aggregations(request.kind, now),
        }
        return [page, facets]

    def search_request(self, request: SearchRequest) -> tuple[str, bytes, dict[str, str]]:
        """The path, body and headers of what ``search`` sends the node for ``request`` (the
        benchmark sends the same directly): one search, or the page's and the facets' in one
        ``_msearch``, each answer filtered to what the hub reads."""
        bodies = self.search_bodies(request)
        alias = self.alias(request.kind)
        if len(bodies) == 1:
            return (
                f"/{alias}/_search?filter_path={_SEARCH_ANSWER_PARAMETER}",
                orjson.dumps(bodies[0]),
                _JSON_HEADERS,
            )
        lines = b"".join(b"{}\n" + orjson.dumps(body) + b"\n" for body in bodies)
        return f"/{alias}/_msearch?filter_path={_MSEARCH_ANSWER_PARAMETER}", lines, _NDJSON_HEADERS

    async def search(self, request: SearchRequest) -> SearchResult:
        await self.check_mappings_now_and_then()
        path, body, headers = self.search_request(request)
        answers = await self._call(
            "search", lambda: self._search(request.kind, path, body, headers)
        )
        answer = answers[0]
        # Without hits the filtered answer has no list of them at all.
        raw = answer["hits"].get("hits", [])
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
            facets=_facets(request.kind, answers[-1]) if request.with_facets else {},
            total_exact=answer["hits"]["total"]["relation"] == "eq",
        )

    async def _search(
        self, kind: Kind, path: str, body: bytes, headers: dict[str, str]
    ) -> list[Any]:
        """The node's answers to a search (``search_request``), in order, through the client's
        transport: the client's own ``search`` costs 0.2 ms more a request (its tracing span,
        which goes to OpenTelemetry's global provider and so never reached the hub's traces;
        its compatibility headers; the check of the product), which a search, the hub's most
        frequent call, does without; every other call goes through the client. The hub's
        tracing, when on, has a span of it (``hub.observability.tracing.search_span``).

        A node that refuses a search answers an error for it, and within an ``_msearch`` for
        each search apart: either is ``BackendUnavailableError`` with the node's reason."""
        with search_span(self.alias(kind)):
            answer = await self.client.transport.perform_request(
                "POST",
                path,
                body=body,
                headers=headers,
                request_timeout=self.timeout,
                max_retries=0,
                retry_on_timeout=False,
            )
        if not 200 <= answer.meta.status < 300:
            raise BackendUnavailableError(
                f"search: HTTP {answer.meta.status}: {_error_of(answer.body)}"
            )
        answers: list[Any] = answer.body.get("responses") or [answer.body]
        for one in answers:
            if "error" in one:
                raise BackendUnavailableError(f"search: HTTP {one.get('status')}: {_error_of(one)}")
        return answers

    async def status(self) -> BackendStatus:
        version = await self.check_version()
        await self.check_mappings()
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
