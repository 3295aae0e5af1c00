"""Per-request DataLoaders of the licensing subgraph."""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from hub.kit.pagination import Page, PageRequest
from hub.licence.models import Licence, LicenceStatusEvent
from hub.licence.repository import LicenceFilter, LicenceRepository
from schema.context import Context
from schema.loaders import grouped, keyed


def licence_by_id(context: Context) -> DataLoader[int, Licence | None]:
    return keyed(LicenceRepository(context.session, context.principal).by_ids)


def licence_by_number(context: Context) -> DataLoader[str, Licence | None]:
    return keyed(LicenceRepository(context.session, context.principal).by_numbers)


def licences_by_enterprise(
    context: Context,
) -> DataLoader[tuple[int, tuple[PageRequest, LicenceFilter]], Page[Licence]]:
    repository = LicenceRepository(context.session, context.principal)
    return grouped(lambda ids, args: repository.by_enterprises(ids, args[1], args[0]))


def licence_count_by_enterprise(context: Context) -> DataLoader[tuple[int, LicenceFilter], int]:
    repository = LicenceRepository(context.session, context.principal)
    return grouped(repository.counts_by_enterprise)


def licence_history(context: Context) -> DataLoader[int, list[LicenceStatusEvent]]:
    return keyed(LicenceRepository(context.session, context.principal).history, missing=[])
