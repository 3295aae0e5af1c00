"""Interface labels of the API's enum values, marked for translation.

The API's enum values are English words (``QUALITY_BLACKLIST``); a page shows each with a
label that the catalog translates (质量信用黑名单). ``N_`` only marks a string for extraction;
each language's template environment holds the tables translated (hub.portal.render).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def N_(message: str) -> str:  # noqa: N802 - gettext's conventional name for "mark only"
    return message


LIST_TYPE = {
    "QUALITY_BLACKLIST": N_("Quality credit blacklist"),
    "SERIOUS_VIOLATION": N_("Serious violation and dishonesty list"),
}

GRADE = {
    "A": N_("A: honest"),
    "B": N_("B: fairly honest"),
    "C": N_("C: untrustworthy"),
    "D": N_("D: seriously untrustworthy"),
}

ENTERPRISE_STATUS = {
    "ACTIVE": N_("Active"),
    "SUSPENDED": N_("Suspended"),
    "REVOKED": N_("Licence to operate revoked"),
    "CANCELLED": N_("Deregistered"),
}

LICENCE_STATUS = {
    "VALID": N_("Valid"),
    "SUSPENDED": N_("Suspended"),
    "REVOKED": N_("Revoked"),
    "CANCELLED": N_("Cancelled"),
    "EXPIRED": N_("Expired"),
}

CHECK_LEVEL = {
    "NATIONAL": N_("National"),
    "PROVINCIAL": N_("Provincial"),
    "MUNICIPAL": N_("Municipal"),
    "INDUSTRY": N_("Industry"),
}

CHECK_RESULT = {"PASS": N_("Passed"), "FAIL": N_("Failed")}

RECALL_KIND = {"VOLUNTARY": N_("Voluntary"), "ORDERED": N_("Ordered")}

RECALL_STATUS = {"ONGOING": N_("Ongoing"), "COMPLETED": N_("Completed")}

SEVERITY = {
    "LOW": N_("Low"),
    "MEDIUM": N_("Medium"),
    "HIGH": N_("High"),
    "CRITICAL": N_("Critical"),
}

BLACKLISTED = {True: N_("On a blacklist"), False: N_("Not on a blacklist")}

HIGHLIGHT_FIELD = {
    "name": N_("Name"),
    "brands": N_("Brands"),
    "products": N_("Products"),
    "title": N_("Title"),
    "product": N_("Product"),
    "producer": N_("Producer"),
    "hazard": N_("Hazard"),
    "category": N_("Category"),
    "advice": N_("Advice"),
    "uscc": N_("USCC"),
    "licenceNumber": N_("Licence number"),
    "gtin": N_("Barcode (GTIN)"),
}

#: Every table above, by the name templates use: ``labels.grade["A"]``.
ALL: dict[str, Mapping[Any, str]] = {
    "list_type": LIST_TYPE,
    "grade": GRADE,
    "enterprise_status": ENTERPRISE_STATUS,
    "licence_status": LICENCE_STATUS,
    "check_level": CHECK_LEVEL,
    "check_result": CHECK_RESULT,
    "recall_kind": RECALL_KIND,
    "recall_status": RECALL_STATUS,
    "severity": SEVERITY,
    "blacklisted": BLACKLISTED,
    "highlight_field": HIGHLIGHT_FIELD,
}
