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
            "Credit files (grade evaluations with their basis and score, blacklist listings) "
            "for joint reward and punishment."
        ),
        LICENCES_READ: "Production licences with their status history.",
        QUALITY_READ: "The product quality archive: products, spot checks and failed items.",
        RECALLS_READ: "Recall notices and consumer warnings.",
        COMPLAINTS_READ: (
            "12365 complaints about enterprises and products, de-identified: who complained, "
            "and the complaint in their own words, stay internal."
        ),
        PERSONAL_READ: (
            "Personal data of natural persons (legal representatives' ID and phone numbers), "
            "masked for partners; every read of it is audited."
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
