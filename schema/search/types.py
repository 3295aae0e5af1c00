"""Types of search results: scored, highlighted edges over the usual nodes, and facets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Generic, TypeVar

import strawberry

from hub.enterprise.models import CreditGrade as CreditGradeEnum
from hub.recall.models import RecallKind as RecallKindEnum
from hub.recall.models import RecallStatus as RecallStatusEnum
from hub.warning.models import Severity as SeverityEnum
from schema.access import field
from schema.pagination import PageInfo
from schema.recalls.types import Recall
from schema.warnings.types import ConsumerWarning
from search.backend import COUNT_LIMIT

if TYPE_CHECKING:
    from schema.enterprise import Enterprise

TOTAL_COUNT = "Exact when totalCountExact is true, otherwise a lower bound."
FACETS = (
    "Counts of the matches by property. Elasticsearch counts every match; the embedded index "
    "(used without Elasticsearch, or when it is down) counts every match up to a few thousand, "
    "and past that estimates the counts from a uniform sample of the matches (see "
    "facetsSampled)."
)
FACETS_SAMPLED = (
    "True when the facet counts are estimated from a uniform sample of the matches rather than "
    "counted over all of them: the embedded index, past a few thousand matches, counts about "
    "one match in 2^k, chosen by a hash of its id and not by its text, and multiplies by 2^k. "
    "Elasticsearch always counts every match, so it is false there."
)
TOTAL_COUNT_EXACT = (
    f"False when totalCount is a lower bound: a search counts at most {COUNT_LIMIT:,} matches. "
    "It is also false in the "
    "moments after many records' facts changed at once (listings and licences end at "
    "midnight), until the index has caught up. The results themselves are always the most "
    "relevant."
)

EnterpriseRef = Annotated["Enterprise", strawberry.lazy("schema.enterprise")]
T = TypeVar("T")


@strawberry.type(description="Where a search matched in one field of a result.")
class SearchHighlight:
    field_name: str = field(
        name="field",
        description="The field: name, brands, products (enterprises); title, product, producer, "
        "hazard (recalls); title, category, hazard, advice (warnings); or uscc, licenceNumber, "
        "gtin when the query was that code.",
    )
    fragments: list[str] = field(
        description="The field's matching values, HTML-escaped, each match in <em>…</em>; "
        "long values are cut to a window around the first match."
    )


@strawberry.type(description="A search result with its relevance and where it matched.")
class SearchEdge(Generic[T]):
    cursor: str = field(description="Opaque position of this result; pass it as `after`.")
    score: float = field(
        description="Relevance: the weights of the fields holding the whole query, plus bonuses "
        "for a primary field that starts with or equals it. Equal scores are ordered "
        "deterministically (shorter name, or newer notice, then id)."
    )
    highlights: list[SearchHighlight] = field(description="Where the query matched.")
    node: T = field(description="The result.")


@strawberry.type(description="How many results lie in one province.")
class RegionFacet:
    code: str = field(description="GB/T 2260 code of the province, e.g. 440000.")
    count: int = field(description="Results registered in the province.")
    # Read with the page, for every facet at once, when selected (schema.search.queries): a
    # resolver per facet made some forty awaits of every search with facets.
    name: str | None = field(description="Name of the province, e.g. 广东省.")


@strawberry.type(description="How many results have one credit grade.")
class CreditGradeFacet:
    grade: CreditGradeEnum | None = field(description="The current grade; null: never graded.")
    count: int = field(description="Results with this grade.")


@strawberry.type(description="How many results are in one industry.")
class IndustryFacet:
    code: str = field(description="GB/T 4754 industry code, e.g. C39.")
    count: int = field(description="Results in the industry.")
    # As RegionFacet.name.
    name: str | None = field(description="Name of the industry.")


@strawberry.type(description="How many results have a yes/no property, or lack it.")
class BooleanFacet:
    value: bool = field(description="The property's value.")
    count: int = field(description="Results with this value.")


@strawberry.type(description="How many results have one value of a text property.")
class ValueFacet:
    value: str = field(description="The value, e.g. a product category.")
    count: int = field(description="Results with this value.")


@strawberry.type(description="How many recalls have one status.")
class RecallStatusFacet:
    status: RecallStatusEnum = field(description="The recall status.")
    count: int = field(description="Recalls with this status.")


@strawberry.type(description="How many recalls are of one kind.")
class RecallKindFacet:
    kind: RecallKindEnum = field(description="Voluntary or ordered.")
    count: int = field(description="Recalls of this kind.")


@strawberry.type(description="How many warnings have one severity.")
class SeverityFacet:
    severity: SeverityEnum = field(description="The severity.")
    count: int = field(description="Warnings with this severity.")


@strawberry.type(
    description="Counts of the matching enterprises (all pages) by province, grade, industry "
    "and blacklisting; largest count first."
)
class EnterpriseSearchFacets:
    regions: list[RegionFacet] = field(description="By province of registration.")
    credit_grades: list[CreditGradeFacet] = field(description="By current credit grade.")
    industries: list[IndustryFacet] = field(description="By industry.")
    blacklisted: list[BooleanFacet] = field(
        description="By whether a blacklist listing is in force today."
    )


@strawberry.type(description="Counts of the matching recalls (all pages); largest count first.")
class RecallSearchFacets:
    categories: list[ValueFacet] = field(description="By product category.")
    statuses: list[RecallStatusFacet] = field(description="By status.")
    kinds: list[RecallKindFacet] = field(description="By kind.")


@strawberry.type(description="Counts of the matching warnings (all pages); largest count first.")
class ConsumerWarningSearchFacets:
    severities: list[SeverityFacet] = field(description="By severity.")
    categories: list[ValueFacet] = field(description="By product category.")


@strawberry.type(description="Enterprises matching a search, most relevant first.")
class EnterpriseSearchConnection:
    edges: list[SearchEdge[EnterpriseRef]] = field(description="Results with score and highlights.")
    nodes: list[EnterpriseRef] = field(description="The results.")
    page_info: PageInfo = field(description="How to fetch the next page.")
    total_count: int = field(description=f"How many enterprises match, on all pages. {TOTAL_COUNT}")
    total_count_exact: bool = field(description=TOTAL_COUNT_EXACT)
    facets_sampled: bool = field(description=FACETS_SAMPLED)
    facets: EnterpriseSearchFacets = field(description=FACETS)


@strawberry.type(description="Recall notices matching a search, most relevant first.")
class RecallSearchConnection:
    edges: list[SearchEdge[Recall]] = field(description="Results with score and highlights.")
    nodes: list[Recall] = field(description="The results.")
    page_info: PageInfo = field(description="How to fetch the next page.")
    total_count: int = field(description=f"How many recalls match, on all pages. {TOTAL_COUNT}")
    total_count_exact: bool = field(description=TOTAL_COUNT_EXACT)
    facets_sampled: bool = field(description=FACETS_SAMPLED)
    facets: RecallSearchFacets = field(description=FACETS)


@strawberry.type(description="Consumer warnings matching a search, most relevant first.")
class ConsumerWarningSearchConnection:
    edges: list[SearchEdge[ConsumerWarning]] = field(
        description="Results with score and highlights."
    )
    nodes: list[ConsumerWarning] = field(description="The results.")
    page_info: PageInfo = field(description="How to fetch the next page.")
    total_count: int = field(description=f"How many warnings match, on all pages. {TOTAL_COUNT}")
    total_count_exact: bool = field(description=TOTAL_COUNT_EXACT)
    facets_sampled: bool = field(description=FACETS_SAMPLED)
    facets: ConsumerWarningSearchFacets = field(description=FACETS)
