from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, Provenance
from hub.enterprise.models import CreditGrade
from hub.kit.enums import enum_column


class CreditEvaluation(Provenance, Base):
    """One grading of an enterprise, with the score and the basis the authority gave."""

    __tablename__ = "credit_evaluation"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "evaluated_at", "authority"),
        Index("ix_credit_evaluation_enterprise_evaluated", "enterprise_id", "evaluated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"))
    grade: Mapped[CreditGrade] = mapped_column(enum_column(CreditGrade))
    score: Mapped[float]
    evaluated_at: Mapped[datetime]
    authority: Mapped[str] = mapped_column(String(100))
    basis: Mapped[str] = mapped_column(Text)
