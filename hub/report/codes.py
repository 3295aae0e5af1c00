"""Report numbers and verification codes: random, typed by people, hashed for storage.

Both use Crockford's base32 alphabet (digits and capitals without I, L, O and U), read back
case-insensitively with the letters people confuse with digits taken as those digits, and with
spaces and hyphens ignored: a code copied from paper by hand still matches.

A verification code is ``CODE_LENGTH`` symbols of 5 bits: 100 bits from ``secrets``. The hub
stores its SHA-256 only. A fast hash suffices because the code is not a password a person
chose: 2^100 candidates cannot be tried offline against a stolen hash, nor online through
``/verify``'s rate budget.

A report number is ``QCR-`` + the day of issue in Asia/Shanghai + ``NUMBER_RANDOM_LENGTH``
random symbols (50 bits): unique without a counter shared between hub processes, and it says
nothing about how many reports were issued.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from hub.kit.time import SHANGHAI

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 20
CODE_GROUP = 4
NUMBER_PREFIX = "QCR"
NUMBER_RANDOM_LENGTH = 10
#: Bits of a verification code: what guessing one is up against.
CODE_BITS = CODE_LENGTH * 5

_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})
_IGNORED = str.maketrans("", "", " -\t\u3000")


def _random(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def new_number(at: datetime) -> str:
    """A fresh report number for a report issued at ``at``: ``QCR-20250506-7M2K9QX4ZD``."""
    day = at.astimezone(SHANGHAI).strftime("%Y%m%d")
    return f"{NUMBER_PREFIX}-{day}-{_random(NUMBER_RANDOM_LENGTH)}"


def new_code() -> str:
    """A fresh verification code, in groups for reading aloud: ``7M2K-9QX4-...``."""
    code = _random(CODE_LENGTH)
    return "-".join(code[i : i + CODE_GROUP] for i in range(0, CODE_LENGTH, CODE_GROUP))


def normalise_code(text: str) -> str:
    """The code as stored and compared: separators dropped, look-alike letters as digits."""
    return text.translate(_IGNORED).upper().translate(_READ_AS)


def normalise_number(text: str) -> str:
    """A report number as typed, in the form the hub issued it (``QCR-YYYYMMDD-...``)."""
    parts = text.strip().upper().split("-")
    if len(parts) != 3:
        return text.strip().upper()
    prefix, day, tail = parts
    return f"{prefix}-{day}-{tail.translate(_IGNORED).translate(_READ_AS)}"


def hash_code(code: str) -> str:
    """SHA-256 (hex) of the normalised code: what the ledger keeps."""
    return hashlib.sha256(normalise_code(code).encode("ascii", "replace")).hexdigest()
