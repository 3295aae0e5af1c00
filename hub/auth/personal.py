"""Who sees personal data, and in which form.

Internal callers see it whole; partners holding ``personal:read`` see masked forms; nobody else
sees it in any form (the public schema does not even have the fields). Every value handed out
is an audited read (hub/auth/audit.py).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from hub.auth.principal import Principal, Tier
from hub.auth.scopes import PERSONAL_READ
from hub.kit.masking import mask_address, mask_id_number, mask_name, mask_phone

PERSONAL_SCOPE = PERSONAL_READ


class PersonalKind(Enum):
    ID_NUMBER = "id_number"
    PHONE = "phone"
    NAME = "name"
    ADDRESS = "address"


_MASKS: dict[PersonalKind, Callable[[str], str]] = {
    PersonalKind.ID_NUMBER: mask_id_number,
    PersonalKind.PHONE: mask_phone,
    PersonalKind.NAME: mask_name,
    PersonalKind.ADDRESS: mask_address,
}


def reveal(principal: Principal, kind: PersonalKind, value: str | None) -> str | None:
    """The form of ``value`` that ``principal`` may see; None when it may see none."""
    if value is None:
        return None
    if principal.tier >= Tier.INTERNAL:
        return value
    if principal.tier >= Tier.PARTNER and PERSONAL_SCOPE in principal.scopes:
        return _MASKS[kind](value)
    return None
