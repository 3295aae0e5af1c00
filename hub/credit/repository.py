"""All SQL of the credit domain."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select, update

from hub.credit.models import CreditEvaluation
from hub.db import HubSession
from hub.enterprise.models import Enterprise


async def refresh_current_grades(session: HubSession, enterprise_ids: Collection[int]) -> None:
    """Set each enterprise's current grade to that of its latest evaluation (or none)."""
    if not enterprise_ids:
        return
    latest = (
        select(CreditEvaluation.grade)
        .where(CreditEvaluation.enterprise_id == Enterprise.id)
        .order_by(CreditEvaluation.evaluated_at.desc(), CreditEvaluation.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    await session.execute(
        update(Enterprise)
        .where(Enterprise.id.in_(list(enterprise_ids)))
        .values(credit_grade=latest)
        .execution_options(synchronize_session=False)
    )
