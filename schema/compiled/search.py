"""Compiled search: the search backend finds the hits, one statement builds their records.

A document whose roots are search fields (``searchEnterprises``, ``searchRecalls``,
``searchConsumerWarnings``) and other compilable fields is answered without graphql-core:

1. each search asks the search service (``search.service.SearchService.search``) what the
   resolver would ask it, with the same arguments read the same way
   (``schema.search.queries.filter_conditions``), on the request's own session: Elasticsearch,
   or the embedded index, and the fallback from one to the other, are the service's as
   before;
2. one compiled statement, on that session's transaction when the embedded index answered
   (so at the instant the embedded search judged its matches), on a pooled connection of its
   own when Elasticsearch answered every search, builds each hit's record from its id, as
   the compiler builds an ``Enterprise``, ``Recall`` or ``ConsumerWarning`` anywhere else,
   under the relation's row rule (a hit the caller may not see is null, and dropped, as the
   resolvers drop it), and the names of the facets' regions and industries, beside the
   document's other roots;
3. the search's answer is built by ``schema.search.queries.CONNECTIONS``, the resolvers' own
   code, with the statement's records as its nodes, and the document's selection of it is read
   as graphql-core would complete it (``Plain``: attributes, serialized by their GraphQL type).

Anything the search service refuses (a bad cursor, a query without a letter, a page size out
of range) sends the request to the resolvers, which refuse it as they always did.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import GraphQLSchema

from hub.db import DatabaseUnavailableError, HubSession
from hub.errors import BadUserInputError
from schema.compiled.compiler import (
    Const,
    FallbackError,
    Hit,
    Leaf,
    Nested,
    Operation,
    Plain,
    SearchRoot,
)
from schema.search.extension import entry, summary
from schema.search.queries import CONNECTIONS, FILTER_INPUTS, filter_conditions
from search.documents import Kind
from search.service import Answer, SearchService

log = logging.getLogger("hub.compiled")


@dataclass(frozen=True, slots=True)
class Asked:
    """What one search root asks the search service."""

    root: SearchRoot
    query: str
    conditions: Any
    first: int | None
    after: str | None


def asked(schema: GraphQLSchema, operation: Operation, variables: Mapping[str, Any]) -> list[Asked]:
    """The searches of a request, read as the resolvers read their arguments; FallbackError
    when one of them is the resolvers' to refuse."""
    strawberry_schema = schema._strawberry_schema  # type: ignore[attr-defined]
    found = []
    for _, root in operation.roots:
        if not isinstance(root, SearchRoot):
            continue
        defaults = operation.defaults
        given = root.filter.value(variables, defaults)
        try:
            conditions = _conditions(
                strawberry_schema,
                root.search.kind,
                None if given is None else orjson.dumps(given, option=orjson.OPT_SORT_KEYS),
            )
        except Exception as error:  # a filter the resolvers refuse: they say why
            raise FallbackError(str(error)) from None
        found.append(
            Asked(
                root,
                root.query.value(variables, defaults),
                conditions,
                root.first.value(variables, defaults),
                root.after.value(variables, defaults),
            )
        )
    return found


# Callers send the same few filters again and again (a province, grades A and B, not
# blacklisted): each is read by the schema once (0.13 ms), then kept. A filter the schema
# refuses raises every time, and is not kept.
@functools.lru_cache(maxsize=1024)
def _conditions(schema: Any, kind: Kind, given: bytes | None) -> Any:
    """The conditions of a search's ``filter`` (JSON, sorted keys; None: no filter)."""
    if given is None:
        return FILTER_INPUTS[kind]().conditions()  # as the resolver's, without one
    return filter_conditions(schema, kind, orjson.loads(given))


async def search(
    service: SearchService, session: HubSession, searches: Sequence[Asked], sees_unpublished: bool
) -> list[Answer]:
    """Each search's answer, in the document's order; FallbackError when the service refuses
    one (the resolvers then refuse it with their error)."""
    answers = []
    for one in searches:
        try:
            answer = await service.search(
                session,
                one.root.search.kind,
                one.query,
                one.conditions,
                first=one.first,
                after=one.after,
                sees_unpublished=sees_unpublished,
                with_facets=one.root.with_facets,
                # The statement reads the hits on a connection of its own when no search
                # needed the session (``schema.compiled.endpoint``).
                open_session=False,
            )
        except BadUserInputError as error:
            raise FallbackError(error.message) from None
        except DatabaseUnavailableError:
            raise  # /graphql answers 503, as it would from the resolvers
        except Exception as error:
            # Whatever else failed, the resolvers meet it again and answer it as they do.
            log.info("a search failed on the compiled path; the resolvers answer", exc_info=True)
            raise FallbackError(str(error)) from None
        answers.append(answer)
    return answers


def given(searches: Sequence[Asked], answers: Sequence[Answer]) -> dict[int, Any]:
    """The statement's inputs the searches give: their hits' ids, their facets' codes."""
    values: dict[int, Any] = {}
    for one, answer in zip(searches, answers, strict=True):
        values[one.root.ids.index] = [hit.id for hit in answer.result.hits]
        facets = answer.result.facets
        for facet, (_, codes) in one.root.names.items():
            values[codes.index] = [code for code, _ in facets.get(facet, [])]
    return values


def body(
    operation: Operation,
    text: str,
    searches: Sequence[Asked],
    answers: Sequence[Answer],
) -> bytes:
    """The response: the statement's answer with each search's part made of its answer."""
    data: dict[str, Any] = orjson.loads(text)
    found = dict(zip((id(one.root) for one in searches), answers, strict=True))
    reports = []
    for key, root in operation.roots:
        if not isinstance(root, SearchRoot):
            continue
        answer = found[id(root)]
        part = data[key]
        records: list[Any] = part["h0"]
        rows = [None if record is None else n for n, record in enumerate(records)]
        names = {
            facet: {
                code: record["name"]
                for (code, _), record in zip(
                    answer.result.facets.get(facet, []), part[facet], strict=True
                )
                if record is not None
            }
            for facet in root.names
        }
        connection = CONNECTIONS[root.search.kind](answer, rows, _position, names)
        hits = [part[f"h{n}"] for n in range(len(root.hits))]
        data[key] = _complete(root.selection, connection, hits)
        reports.append(entry(root.field_name, answer))
    return orjson.dumps({"data": data, "extensions": {"search": summary(reports)}})


def _position(row: int) -> int:
    """A hit's node while the answer is built: its position in the statement's lists."""
    return row


def _complete(selection: Plain, value: Any, hits: list[list[Any]]) -> Any:
    """``value`` (an object of the search's answer, or a list of them) as the document
    selects it, as graphql-core completes it: each attribute serialized by its type."""
    if value is None:
        return None
    if isinstance(value, list):
        return [_complete(selection, item, hits) for item in value]
    out: dict[str, Any] = {}
    for key, field in selection.fields:
        if isinstance(field, Const):
            out[key] = field.value
        elif isinstance(field, Leaf):
            out[key] = _serialized(getattr(value, field.name), field.serialize)
        elif isinstance(field, Nested):
            out[key] = _complete(field.selection, getattr(value, field.name), hits)
        else:
            assert isinstance(field, Hit)
            records = hits[field.index]
            found = getattr(value, field.name)
            out[key] = [records[n] for n in found] if isinstance(found, list) else records[found]
    return out


def _serialized(value: Any, serialize: Callable[[Any], Any]) -> Any:
    if value is None:
        return None
    if isinstance(value, list):
        return [_serialized(item, serialize) for item in value]
    return serialize(value)
