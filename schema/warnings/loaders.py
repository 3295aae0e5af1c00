"""Per-request DataLoaders of the warnings subgraph."""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from hub.quality.models import Product
from hub.recall.models import Recall
from hub.warning.models import ConsumerWarning
from hub.warning.repository import WarningRepository
from schema.context import Context
from schema.loaders import keyed


def warning_by_id(context: Context) -> DataLoader[int, ConsumerWarning | None]:
    return keyed(WarningRepository(context.session, context.principal).by_ids)


def related_recalls(context: Context) -> DataLoader[int, list[Recall]]:
    return keyed(WarningRepository(context.session, context.principal).related_recalls, [])


def related_products(context: Context) -> DataLoader[int, list[Product]]:
    return keyed(WarningRepository(context.session, context.principal).related_products, [])
