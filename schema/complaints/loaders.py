"""Per-request DataLoaders of complaints."""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from hub.complaint.models import Complaint
from hub.complaint.repository import ComplaintRepository
from hub.kit.pagination import Page, PageRequest
from schema.context import Context
from schema.loaders import grouped, keyed


def complaint_by_id(context: Context) -> DataLoader[int, Complaint | None]:
    return keyed(ComplaintRepository(context.session, context.principal).by_ids)


def complaints_by_enterprise(
    context: Context,
) -> DataLoader[tuple[int, PageRequest], Page[Complaint]]:
    return grouped(ComplaintRepository(context.session, context.principal).by_enterprises)


def complaint_count_by_enterprise(context: Context) -> DataLoader[int, int]:
    repository = ComplaintRepository(context.session, context.principal)
    return keyed(repository.counts_by_enterprise, 0)


def complaints_by_product(
    context: Context,
) -> DataLoader[tuple[int, PageRequest], Page[Complaint]]:
    return grouped(ComplaintRepository(context.session, context.principal).by_products)


def complaint_count_by_product(context: Context) -> DataLoader[int, int]:
    return keyed(ComplaintRepository(context.session, context.principal).counts_by_product, 0)
