"""Per-request DataLoaders of the quality subgraph."""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from hub.kit.pagination import Page, PageRequest
from hub.quality.models import FailedItem, Product, SpotCheck
from hub.quality.repository import ProductRepository, SpotCheckFilter, SpotCheckRepository
from schema.context import Context
from schema.loaders import grouped, keyed


def product_by_id(context: Context) -> DataLoader[int, Product | None]:
    return keyed(ProductRepository(context.session, context.principal).by_ids)


def product_by_gtin(context: Context) -> DataLoader[str, Product | None]:
    return keyed(ProductRepository(context.session, context.principal).by_gtins)


def products_by_enterprise(
    context: Context,
) -> DataLoader[tuple[int, PageRequest], Page[Product]]:
    repository = ProductRepository(context.session, context.principal)
    return grouped(lambda ids, request: repository.by_enterprises(ids, request))


def product_count_by_enterprise(context: Context) -> DataLoader[int, int]:
    repository = ProductRepository(context.session, context.principal)
    return keyed(repository.counts_by_enterprise, missing=0)


def spot_check_by_id(context: Context) -> DataLoader[int, SpotCheck | None]:
    return keyed(SpotCheckRepository(context.session, context.principal).by_ids)


def spot_checks_by_enterprise(
    context: Context,
) -> DataLoader[tuple[int, tuple[PageRequest, SpotCheckFilter]], Page[SpotCheck]]:
    repository = SpotCheckRepository(context.session, context.principal)
    return grouped(lambda ids, args: repository.by_enterprises(ids, args[1], args[0]))


def spot_check_count_by_enterprise(
    context: Context,
) -> DataLoader[tuple[int, SpotCheckFilter], int]:
    return grouped(SpotCheckRepository(context.session, context.principal).counts_by_enterprise)


def spot_checks_by_product(
    context: Context,
) -> DataLoader[tuple[int, tuple[PageRequest, SpotCheckFilter]], Page[SpotCheck]]:
    repository = SpotCheckRepository(context.session, context.principal)
    return grouped(lambda ids, args: repository.by_products(ids, args[1], args[0]))


def spot_check_count_by_product(
    context: Context,
) -> DataLoader[tuple[int, SpotCheckFilter], int]:
    return grouped(SpotCheckRepository(context.session, context.principal).counts_by_product)


def failed_items(context: Context) -> DataLoader[int, list[FailedItem]]:
    return keyed(SpotCheckRepository(context.session, context.principal).failed_items, missing=[])
