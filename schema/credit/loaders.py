"""Per-request DataLoaders of the credit subgraph."""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from hub.blacklist.models import BlacklistEntry, BlacklistRemoval
from hub.blacklist.repository import BlacklistRepository
from hub.credit.models import CreditEvaluation
from hub.credit.repository import CreditRepository
from hub.enterprise.models import Enterprise, Industry, Region
from hub.enterprise.repository import EnterpriseRepository
from hub.kit.pagination import Page, PageRequest
from schema.context import Context
from schema.loaders import grouped, keyed


def enterprise_by_id(context: Context) -> DataLoader[int, Enterprise | None]:
    return keyed(EnterpriseRepository(context.session, context.principal).by_ids)


def enterprise_by_uscc(context: Context) -> DataLoader[str, Enterprise | None]:
    return keyed(EnterpriseRepository(context.session, context.principal).by_uscc)


def region_by_code(context: Context) -> DataLoader[str, Region | None]:
    return keyed(EnterpriseRepository(context.session, context.principal).regions)


def industry_by_code(context: Context) -> DataLoader[str, Industry | None]:
    return keyed(EnterpriseRepository(context.session, context.principal).industries)


def credit_history(
    context: Context,
) -> DataLoader[tuple[int, PageRequest], Page[CreditEvaluation]]:
    repository = CreditRepository(context.session, context.principal)
    return grouped(lambda ids, request: repository.history(ids, request))


def credit_history_count(context: Context) -> DataLoader[int, int]:
    return keyed(CreditRepository(context.session, context.principal).history_counts, missing=0)


def evaluation_by_id(context: Context) -> DataLoader[int, CreditEvaluation | None]:
    return keyed(CreditRepository(context.session, context.principal).by_ids)


def blacklisted(context: Context) -> DataLoader[int, bool]:
    repository = BlacklistRepository(context.session, context.principal)

    async def fetch(ids: list[int]) -> dict[int, bool]:
        listed = await repository.listed(ids)
        return {eid: eid in listed for eid in ids}

    return keyed(fetch, missing=False)


def blacklist_entries(context: Context) -> DataLoader[int, list[BlacklistEntry]]:
    return keyed(BlacklistRepository(context.session, context.principal).by_enterprises, missing=[])


def blacklist_entry_by_id(context: Context) -> DataLoader[int, BlacklistEntry | None]:
    return keyed(BlacklistRepository(context.session, context.principal).by_ids)


def blacklist_removal(context: Context) -> DataLoader[int, BlacklistRemoval | None]:
    return keyed(BlacklistRepository(context.session, context.principal).removals)
