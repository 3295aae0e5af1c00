"""The scopes a partner client can be granted: the one list that tokens, clients and fields use.

A scope names a body of data a partner may read. The internal tier reads everything and needs
none; a public caller has none. Field declarations (``schema.access.field(scopes=...)``) name
scopes from this list, and ``hub clients create --scope`` accepts only these.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

CREDIT_READ = "credit:read"
LICENCES_READ = "licences:read"
QUALITY_READ = "quality:read"
RECALLS_READ = "recalls:read"
COMPLAINTS_READ = "complaints:read"
PERSONAL_READ = "personal:read"

SCOPES: Mapping[str, str] = MappingProxyType(
    {
        CREDIT_READ: (
            "Credit files beyond the public view: grade evaluations with their basis and score, "
            "blacklist listings and removals (credit repair), for joint reward and punishment."
        ),
        LICENCES_READ: (
            "Production licences with their full status history, including suspensions, "
            "revocations and cancellations."
        ),
        QUALITY_READ: (
            "The product quality archive: products, spot-check samples and results with "
            "their failed items, including records not yet published."
        ),
        RECALLS_READ: "Recall notices and consumer warnings, including those not yet published.",
        COMPLAINTS_READ: (
            "12365 complaints about enterprises and products, without the complainants' "
            "personal data unless personal:read is granted as well."
        ),
        PERSONAL_READ: (
            "Personal data (ID numbers, names of complainants, phone numbers, addresses of "
            "persons), masked for partners; every read of it is audited."
        ),
    }
)


def unknown_scopes(scopes: Iterable[str]) -> list[str]:
    """The names in ``scopes`` that are not in the registry, sorted."""
    return sorted(set(scopes) - SCOPES.keys())


def parse_scope(value: str | None) -> frozenset[str]:
    """An OAuth ``scope`` parameter or claim (space-separated, RFC 6749 §3.3) as a set."""
    return frozenset(value.split()) if value else frozenset()


def format_scope(scopes: Iterable[str]) -> str:
    """Scopes as a ``scope`` value: space-separated, sorted so equal sets print alike."""
    return " ".join(sorted(set(scopes)))
