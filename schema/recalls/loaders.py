"""Per-request DataLoaders of the recalls subgraph."""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from hub.kit.pagination import Page, PageRequest
from hub.recall.models import Recall
from hub.recall.repository import RecallRepository
from schema.context import Context
from schema.loaders import grouped, keyed


def recall_by_id(context: Context) -> DataLoader[int, Recall | None]:
    return keyed(RecallRepository(context.session, context.principal).by_ids)


def recalls_by_enterprise(context: Context) -> DataLoader[tuple[int, PageRequest], Page[Recall]]:
    return grouped(RecallRepository(context.session, context.principal).by_enterprises)


def recall_count_by_enterprise(context: Context) -> DataLoader[int, int]:
    return keyed(RecallRepository(context.session, context.principal).counts_by_enterprise, 0)


def recalls_by_product(context: Context) -> DataLoader[tuple[int, PageRequest], Page[Recall]]:
    return grouped(RecallRepository(context.session, context.principal).by_products)


def recall_count_by_product(context: Context) -> DataLoader[int, int]:
    return keyed(RecallRepository(context.session, context.principal).counts_by_product, 0)
