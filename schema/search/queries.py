"""Root fields of search: ``searchEnterprises``, ``searchRecalls``, ``searchConsumerWarnings``."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import strawberry
from graphql import GraphQLInputObjectType, coerce_input_value
from strawberry.types.arguments import convert_argument
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from hub.enterprise.models import CreditGrade as CreditGradeEnum
from hub.enterprise.models import EnterpriseStatus as EnterpriseStatusEnum
from hub.errors import BadUserInputError
from hub.kit.codes import parse_region_code
from hub.recall.models import RecallKind as RecallKindEnum
from hub.recall.models import RecallStatus as RecallStatusEnum
from hub.warning.models import Severity as SeverityEnum
from schema.access import argument, input_field, resolver
from schema.context import Context, Info
from schema.credit import loaders as credit_loaders
from schema.pagination import After, First, PageInfo
from schema.recalls import loaders as recall_loaders
from schema.recalls.types import Recall
from schema.search.extension import report
from schema.search.types import (
    BooleanFacet,
    ConsumerWarningSearchConnection,
    ConsumerWarningSearchFacets,
    CreditGradeFacet,
    EnterpriseSearchConnection,
    EnterpriseSearchFacets,
    IndustryFacet,
    RecallKindFacet,
    RecallSearchConnection,
    RecallSearchFacets,
    RecallStatusFacet,
    RegionFacet,
    SearchEdge,
    SearchHighlight,
    SeverityFacet,
    ValueFacet,
)
from schema.warnings import loaders as warning_loaders
from schema.warnings.types import ConsumerWarning
from search.backend import Conditions, EnterpriseConditions, RecallConditions, WarningConditions
from search.documents import Kind
from search.service import Answer, SearchService, cursor_of

if TYPE_CHECKING:
    pass

T = TypeVar("T")
_INDUSTRY = re.compile(r"^[A-T]\d{0,4}$")
_DEFAULT_SERVICE = SearchService()

Query = Annotated[
    str,
    argument(
        "What to look for: part of a name (Chinese or Latin, any case), a brand or product, "
        "words of a notice; or a whole USCC, licence number or GTIN, which finds its record."
    ),
]


@strawberry.input(description="Conditions on enterprise search results; all must hold.")
class EnterpriseSearchFilterInput:
    region_code: str | None = input_field(
        description="GB/T 2260 code; a province (440000) or city (440300) includes its parts."
    )
    industry_code: str | None = input_field(description="GB/T 4754 industry code, e.g. C39.")
    credit_grades: list[CreditGradeEnum] | None = input_field(
        description="Any of these current credit grades."
    )
    status: EnterpriseStatusEnum | None = input_field(description="Registration status.")
    blacklisted: bool | None = input_field(
        description="True: only enterprises with a blacklist listing in force today; false: "
        "only those without."
    )
    has_valid_licence: bool | None = input_field(
        description="True: only enterprises holding a published production licence that is "
        "valid today; false: only those without one."
    )

    def conditions(self) -> EnterpriseConditions:
        if self.industry_code is not None and not _INDUSTRY.match(self.industry_code):
            raise BadUserInputError("filter.industryCode", "a GB/T 4754 code such as C39")
        return EnterpriseConditions(
            region_code=_region(self.region_code),
            industry_code=self.industry_code,
            credit_grades=tuple(grade.value for grade in self.credit_grades or ()),
            status=self.status.value if self.status is not None else None,
            blacklisted=self.blacklisted,
            has_valid_licence=self.has_valid_licence,
        )


@strawberry.input(description="Conditions on recall search results; all must hold.")
class RecallSearchFilterInput:
    region_code: str | None = input_field(
        description="GB/T 2260 code of the producer's registration; a province includes its parts."
    )
    category: str | None = input_field(description="Product category, e.g. 电动自行车.")
    status: RecallStatusEnum | None = input_field(description="Progress of the recall.")
    kind: RecallKindEnum | None = input_field(description="Voluntary or ordered.")
    started_after: date | None = input_field(description="Started on or after this date.")
    started_before: date | None = input_field(description="Started on or before this date.")

    def conditions(self) -> RecallConditions:
        _date_order(self.started_after, self.started_before, "filter.startedBefore")
        return RecallConditions(
            region_code=_region(self.region_code),
            category=self.category,
            status=self.status.value if self.status is not None else None,
            kind=self.kind.value if self.kind is not None else None,
            started_after=self.started_after,
            started_before=self.started_before,
        )


@strawberry.input(description="Conditions on consumer warning search results; all must hold.")
class ConsumerWarningSearchFilterInput:
    severity: SeverityEnum | None = input_field(description="How serious the hazard is.")
    category: str | None = input_field(description="Product category concerned.")
    issued_after: date | None = input_field(description="Issued on or after this date.")
    issued_before: date | None = input_field(description="Issued on or before this date.")

    def conditions(self) -> WarningConditions:
        _date_order(self.issued_after, self.issued_before, "filter.issuedBefore")
        return WarningConditions(
            severity=self.severity.value if self.severity is not None else None,
            category=self.category,
            issued_after=self.issued_after,
            issued_before=self.issued_before,
        )


FilterInput = (
    EnterpriseSearchFilterInput | RecallSearchFilterInput | ConsumerWarningSearchFilterInput
)
FILTER_INPUTS: dict[Kind, type[FilterInput]] = {
    Kind.ENTERPRISE: EnterpriseSearchFilterInput,
    Kind.RECALL: RecallSearchFilterInput,
    Kind.WARNING: ConsumerWarningSearchFilterInput,
}


def filter_conditions(
    schema: strawberry.Schema, kind: Kind, given: dict[str, Any] | None
) -> Conditions:
    """The conditions a search field takes from its ``filter`` argument as a client sends it
    (JSON, as in GraphQL variables), read by ``schema`` as a request's would be: for callers
    that ask a backend without a request (the benchmark's requests to Elasticsearch)."""
    found = FILTER_INPUTS[kind]
    graphql_type = schema._schema.get_type(found.__name__)
    assert isinstance(graphql_type, GraphQLInputObjectType)
    value = convert_argument(
        coerce_input_value(given or {}, graphql_type),
        found,
        schema.schema_converter.scalar_registry,
        schema.config,
    )
    assert isinstance(value, found)
    return value.conditions()


def _region(code: str | None) -> str | None:
    return None if code is None else parse_region_code(code, "filter.regionCode")


def _service(info: Info) -> SearchService:
    request = info.context.request
    found = getattr(request.app.state, "search", None) if request is not None else None
    return found if isinstance(found, SearchService) else _DEFAULT_SERVICE


def _selects(selections: Sequence[Any], *path: str) -> bool:
    """Whether ``selections`` select the field at ``path`` (names, not aliases)."""
    head, *rest = path
    for selection in selections:
        if isinstance(selection, SelectedField) and selection.name == head:
            if not rest or _selects(selection.selections, *rest):
                return True
        elif isinstance(selection, FragmentSpread | InlineFragment) and _selects(
            selection.selections, *path
        ):
            return True
    return False


def _date_order(after: date | None, before: date | None, argument: str) -> None:
    if after is not None and before is not None and after > before:
        raise BadUserInputError(argument, "must not be before the start of the range")


async def _answer(
    info: Info, kind: Kind, query: str, conditions: Conditions, first: int | None, after: str | None
) -> Answer:
    context = info.context
    answer = await _service(info).search(
        context.session,
        kind,
        query,
        conditions,
        first=first,
        after=after,
        sees_unpublished=context.principal.sees_unpublished,
        with_facets=_selects(info.selected_fields[0].selections, "facets"),
    )
    report(info.field_name, answer)
    return answer


def _edges(
    answer: Answer, rows: Sequence[Any], make: Callable[[Any], T]
) -> tuple[list[SearchEdge[T]], PageInfo]:
    """Edges of the hits whose records the caller may load (in the hits' order)."""
    cursors = [cursor_of(hit) for hit in answer.result.hits]
    edges = [
        SearchEdge(
            cursor=cursor,
            score=hit.score,
            highlights=[
                SearchHighlight(field_name=h.field, fragments=h.fragments)
                for h in answer.highlights(hit)
            ],
            node=make(row),
        )
        for hit, cursor, row in zip(answer.result.hits, cursors, rows, strict=True)
        if row is not None
    ]
    page_info = PageInfo(
        has_next_page=answer.result.has_next,
        has_previous_page=False,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )
    return edges, page_info


async def _rows(loader: Any, answer: Answer) -> list[Any]:
    load: Callable[[list[int]], Awaitable[list[Any]]] = loader.load_many
    return await load([hit.id for hit in answer.result.hits])


async def _names(
    info: Info,
    factory: Callable[[Context], Any],
    facets: dict[str, list[tuple[Any, int]]],
    facet: str,
) -> dict[str, str]:
    """Names of the values (codes) of ``facet``, by code, read by ``factory``'s loader: none
    when the operation does not select the facet's ``name``."""
    codes = [code for code, _ in facets.get(facet, [])]
    if not codes or not _selects(info.selected_fields[0].selections, "facets", facet, "name"):
        return {}
    load: Callable[[list[str]], Awaitable[list[Any]]] = info.context.loader(factory).load_many
    return {code: row.name for code, row in zip(codes, await load(codes), strict=True) if row}


def _page(answer: Answer, rows: Sequence[Any], make: Callable[[Any], Any]) -> dict[str, Any]:
    """What every search's connection holds besides its facets: the page and the counts."""
    edges, page_info = _edges(answer, rows, make)
    return {
        "edges": edges,
        "nodes": [edge.node for edge in edges],
        "page_info": page_info,
        "total_count": answer.result.total,
        "total_count_exact": answer.result.total_exact,
        "facets_sampled": answer.result.facets_sampled,
    }


Names = Mapping[str, Mapping[str, str]]
"""Names of facet values by facet (``regions``, ``industries``) and code."""


def enterprise_connection(
    answer: Answer, rows: Sequence[Any], make: Callable[[Any], Any], names: Names
) -> EnterpriseSearchConnection:
    """The answer of ``searchEnterprises``: the hits whose ``rows`` the caller may see (None:
    hidden), each node made by ``make``, and the facets, named by ``names``. The resolvers and
    the compiled path (``schema.compiled.search``) both build it here."""
    facets = answer.result.facets
    region_names = names.get("regions", {})
    industry_names = names.get("industries", {})
    return EnterpriseSearchConnection(
        **_page(answer, rows, make),
        facets=EnterpriseSearchFacets(
            regions=[
                RegionFacet(code=v, count=n, name=region_names.get(v))
                for v, n in facets.get("regions", [])
            ],
            credit_grades=[
                CreditGradeFacet(grade=CreditGradeEnum(v) if v else None, count=n)
                for v, n in facets.get("creditGrades", [])
            ],
            industries=[
                IndustryFacet(code=v, count=n, name=industry_names.get(v))
                for v, n in facets.get("industries", [])
            ],
            blacklisted=[BooleanFacet(value=v, count=n) for v, n in facets.get("blacklisted", [])],
        ),
    )


def recall_connection(
    answer: Answer, rows: Sequence[Any], make: Callable[[Any], Any], names: Names
) -> RecallSearchConnection:
    """The answer of ``searchRecalls`` (as ``enterprise_connection``)."""
    facets = answer.result.facets
    return RecallSearchConnection(
        **_page(answer, rows, make),
        facets=RecallSearchFacets(
            categories=[ValueFacet(value=v, count=n) for v, n in facets.get("categories", [])],
            statuses=[
                RecallStatusFacet(status=RecallStatusEnum(v), count=n)
                for v, n in facets.get("statuses", [])
            ],
            kinds=[
                RecallKindFacet(kind=RecallKindEnum(v), count=n) for v, n in facets.get("kinds", [])
            ],
        ),
    )


def warning_connection(
    answer: Answer, rows: Sequence[Any], make: Callable[[Any], Any], names: Names
) -> ConsumerWarningSearchConnection:
    """The answer of ``searchConsumerWarnings`` (as ``enterprise_connection``)."""
    facets = answer.result.facets
    return ConsumerWarningSearchConnection(
        **_page(answer, rows, make),
        facets=ConsumerWarningSearchFacets(
            severities=[
                SeverityFacet(severity=SeverityEnum(v), count=n)
                for v, n in facets.get("severities", [])
            ],
            categories=[ValueFacet(value=v, count=n) for v, n in facets.get("categories", [])],
        ),
    )


CONNECTIONS: dict[Kind, Callable[[Answer, Sequence[Any], Callable[[Any], Any], Names], Any]] = {
    Kind.ENTERPRISE: enterprise_connection,
    Kind.RECALL: recall_connection,
    Kind.WARNING: warning_connection,
}
"""How each kind's search answer is made, from its hits' rows and its facets' names."""


@strawberry.type
class SearchQuery:
    @resolver(
        description="Enterprises by name, brand, product or code, most relevant first, with "
        "facets. A whole USCC, licence number or GTIN finds its enterprise directly."
    )
    async def search_enterprises(
        self,
        info: Info,
        query: Query,
        filter: Annotated[
            EnterpriseSearchFilterInput | None, argument("Conditions on the results.")
        ] = None,
        first: First = 20,
        after: After = None,
    ) -> EnterpriseSearchConnection:
        from schema.enterprise import Enterprise

        conditions = (filter or EnterpriseSearchFilterInput()).conditions()
        answer = await _answer(info, Kind.ENTERPRISE, query, conditions, first, after)
        facets = answer.result.facets
        # The rows and the facets' names, asked at once: the loaders' statements follow one
        # another on the session without a round of GraphQL resolution between them.
        rows, region_names, industry_names = await asyncio.gather(
            _rows(info.context.loader(credit_loaders.enterprise_by_id), answer),
            _names(info, credit_loaders.region_by_code, facets, "regions"),
            _names(info, credit_loaders.industry_by_code, facets, "industries"),
        )
        names = {"regions": region_names, "industries": industry_names}
        return enterprise_connection(answer, rows, Enterprise.from_row, names)

    @resolver(
        description="Recall notices by free text (title, product, producer, hazard), most "
        "relevant first, with facets. A whole USCC finds the producer's recalls, a GTIN the "
        "product's."
    )
    async def search_recalls(
        self,
        info: Info,
        query: Query,
        filter: Annotated[
            RecallSearchFilterInput | None, argument("Conditions on the results.")
        ] = None,
        first: First = 20,
        after: After = None,
    ) -> RecallSearchConnection:
        conditions = (filter or RecallSearchFilterInput()).conditions()
        answer = await _answer(info, Kind.RECALL, query, conditions, first, after)
        rows = await _rows(info.context.loader(recall_loaders.recall_by_id), answer)
        return recall_connection(answer, rows, Recall.from_row, {})

    @resolver(
        description="Consumer warnings by free text (title, category, hazard, advice), most "
        "relevant first, with facets. A GTIN finds the warnings about that product."
    )
    async def search_consumer_warnings(
        self,
        info: Info,
        query: Query,
        filter: Annotated[
            ConsumerWarningSearchFilterInput | None, argument("Conditions on the results.")
        ] = None,
        first: First = 20,
        after: After = None,
    ) -> ConsumerWarningSearchConnection:
        conditions = (filter or ConsumerWarningSearchFilterInput()).conditions()
        answer = await _answer(info, Kind.WARNING, query, conditions, first, after)
        rows = await _rows(info.context.loader(warning_loaders.warning_by_id), answer)
        return warning_connection(answer, rows, ConsumerWarning.from_row, {})
