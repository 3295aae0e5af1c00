"""All SQL of the licence domain."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select, update

from hub.db import HubSession
from hub.licence.models import Licence, LicenceStatusEvent


async def refresh_statuses(session: HubSession, licence_ids: Collection[int]) -> None:
    """Set each licence's status to that of its latest status event, where it has one."""
    if not licence_ids:
        return
    latest = (
        select(LicenceStatusEvent.status)
        .where(LicenceStatusEvent.licence_id == Licence.id)
        .order_by(LicenceStatusEvent.at.desc(), LicenceStatusEvent.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    has_events = select(LicenceStatusEvent.id).where(LicenceStatusEvent.licence_id == Licence.id)
    await session.execute(
        update(Licence)
        .where(Licence.id.in_(list(licence_ids)), has_events.exists())
        .values(status=latest)
        .execution_options(synchronize_session=False)
    )
