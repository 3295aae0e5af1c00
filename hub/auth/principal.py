"""Tiers and the principal of a request.

Tiers are ordered: PUBLIC < PARTNER < INTERNAL. Repositories decide row visibility from the
principal alone, so a resolver can never forget a rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum


class Tier(IntEnum):
    PUBLIC = 0
    PARTNER = 1
    INTERNAL = 2

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: anonymous public by default."""

    tier: Tier = Tier.PUBLIC
    scopes: frozenset[str] = field(default_factory=frozenset)
    client_id: str | None = None
    subject: str | None = None

    @property
    def sees_unpublished(self) -> bool:
        """Drafts and lapsed publicity are visible to internal agencies only."""
        return self.tier >= Tier.INTERNAL

    def has_scopes(self, scopes: frozenset[str]) -> bool:
        return self.tier >= Tier.INTERNAL or scopes <= self.scopes


ANONYMOUS = Principal()
