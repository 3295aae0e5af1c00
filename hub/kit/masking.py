"""Masked forms of personal data, for callers allowed to know that a value exists but not what.

Each keeps just enough to tell two values apart in a conversation with the data subject (the
region digits of an ID number, the carrier prefix of a phone number), nothing that identifies.
"""

from __future__ import annotations


def mask_id_number(value: str) -> str:
    """4403**********1234: region prefix and the last four characters."""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str) -> str:
    """138****5678."""
    digits = value.strip()
    if len(digits) <= 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_name(value: str) -> str:
    """张** : the family name only."""
    return value[:1] + "*" * (len(value) - 1) if value else value


def mask_address(value: str) -> str:
    """The first six characters (province and city, in Chinese addresses), the rest starred."""
    return value[:6] + "*" * max(len(value) - 6, 0)
