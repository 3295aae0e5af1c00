"""Root fields of the quality subgraph."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from hub.kit.codes import parse_gtin, parse_region_code
from hub.quality.models import CheckLevel as CheckLevelEnum
from hub.quality.models import CheckResult as CheckResultEnum
from hub.quality.repository import (
    ProductFilter,
    ProductRepository,
    SpotCheckFilter,
    SpotCheckRepository,
)
from schema.access import argument, input_field, resolver
from schema.context import Info
from schema.pagination import After, Connection, First, connection, request
from schema.quality import loaders
from schema.quality.types import Product, SpotCheck


@strawberry.input(description="Which spot checks to list; all conditions must hold.")
class SpotCheckFilterInput:
    result: CheckResultEnum | None = input_field(description="Outcome of the check.")
    level: CheckLevelEnum | None = input_field(description="Level of the check.")
    region_code: str | None = input_field(
        description="GB/T 2260 code of where the sample was taken; a province includes its parts."
    )
    sampled_after: date | None = input_field(description="Sampled on or after this date.")
    sampled_before: date | None = input_field(description="Sampled on or before this date.")
    category: str | None = input_field(description="Product category, e.g. 乳制品.")


@strawberry.input(description="Which products to list; all conditions must hold.")
class ProductFilterInput:
    category: str | None = input_field(description="Product category, e.g. 乳制品.")
    brand: str | None = input_field(description="Brand, exactly.")


@strawberry.type
class QualityQuery:
    @resolver(description="A product by its GTIN barcode; null if not on record.")
    async def product(
        self, info: Info, gtin: Annotated[str, argument("GTIN-8, -12, -13 or -14 barcode.")]
    ) -> Product | None:
        row = await info.context.loader(loaders.product_by_gtin).load(parse_gtin(gtin))
        return Product.from_row(row) if row else None

    @resolver(description="Products in the quality archive, newest first.")
    async def products(
        self,
        info: Info,
        filter: Annotated[ProductFilterInput | None, argument("Conditions on the list.")] = None,
        first: First = 20,
        after: After = None,
    ) -> Connection[Product]:
        given = filter or ProductFilterInput()
        domain_filter = ProductFilter(category=given.category, brand=given.brand)
        repository = ProductRepository(info.context.session, info.context.principal)
        page = await repository.find(domain_filter, request(first, after, 1))
        return connection(page, Product.from_row, lambda: repository.total(domain_filter))

    @resolver(description="Supervisory spot checks, newest sample first.")
    async def spot_checks(
        self,
        info: Info,
        filter: Annotated[SpotCheckFilterInput | None, argument("Conditions on the list.")] = None,
        first: First = 20,
        after: After = None,
    ) -> Connection[SpotCheck]:
        given = filter or SpotCheckFilterInput()
        domain_filter = SpotCheckFilter(
            result=given.result,
            level=given.level,
            region_code=None
            if given.region_code is None
            else parse_region_code(given.region_code, "filter.regionCode"),
            sampled_after=given.sampled_after,
            sampled_before=given.sampled_before,
            category=given.category,
        )
        repository = SpotCheckRepository(info.context.session, info.context.principal)
        page = await repository.find(domain_filter, request(first, after, 2))
        return connection(page, SpotCheck.from_row, lambda: repository.total(domain_filter))
