"""How common each term of the embedded index is, from PostgreSQL's statistics of the terms
(``TERM_STATISTICS``): what a search's plan and the choice of heads (``search.embedded_heads``)
go by."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable

from sqlalchemy import (
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db import HubSession
from search.documents import (
    Kind,
)
from search.matching import (
    forget_plans,
)
from search.models import TERM_STATISTICS
from search.terms import (
    NAMESPACES,
)
from search.tokenize import is_cjk


async def read_frequencies(session: AsyncSession) -> dict[str, float]:
    """How common each term is (the fraction of rows that have it), from PostgreSQL's
    statistics of the terms: the ten thousand most common elements of ``TERM_STATISTICS``
    (migration 0013). Not those of the column ``tokens``, which the planner reads for every
    estimate of a term condition: it keeps a tenth as many, as planning with these took a
    third of the database's time of a search at 1M."""
    row = (
        await session.execute(
            text(
                "SELECT most_common_elems::text::text[], most_common_elem_freqs "
                "FROM pg_stats_ext_exprs WHERE statistics_name = :name LIMIT 1"
            ).bindparams(name=TERM_STATISTICS)
        )
    ).first()
    if row is None or row[0] is None:
        return {}
    return dict(zip(row[0], row[1], strict=False))


# A field term: the namespace of its kind, the field's position, the token (``search.terms``).
_FIELD_TERM = re.compile(r"(?P<namespace>[a-z]?)(?P<field>\d):(?P<token>.+)")
_KINDS = {namespace: kind for kind, namespace in NAMESPACES.items()}


def frequent_words(frequencies: dict[str, float], words: int) -> list[tuple[Kind, str, float]]:
    """The ``words`` most frequent tokens of each kind's fields that searches read, most
    frequent first, with the share of rows that have the token in its most frequent field.

    A single Chinese character is left out: only a query of that one character reads it (a
    longer one reads its bigrams, ``search.tokenize``), and at 1M the characters of company
    names (公, 司, 有, 限...) filled the first 200, leaving words people search, 苏州, usb,
    without a head.
    """
    best: dict[tuple[Kind, str], float] = {}
    for term, share in frequencies.items():
        found = _FIELD_TERM.fullmatch(term)
        kind = _KINDS.get(found["namespace"]) if found else None
        if found is None or kind is None or _one_character(found["token"]):
            continue
        key = (kind, found["token"])
        best[key] = max(best.get(key, 0.0), share)
    ranked = sorted(best, key=lambda key: (-best[key], key[0].value, key[1]))
    return [
        (kind, word, best[(kind, word)])
        for kind in Kind
        for _, word in [key for key in ranked if key[0] is kind][:words]
    ]


def _one_character(token: str) -> bool:
    return len(token) == 1 and is_cjk(token)


class Frequencies:
    """``read_frequencies``, read once in a while per process. The plans made with a table
    are cached (``search.matching.plan``) and hold it: they are dropped when it is read again,
    so that the cache never keeps more than one table alive."""

    def __init__(self, every: float = 600.0) -> None:
        self.every = every
        self._read_at = -math.inf
        self._frequency: Callable[[str], float] = _unknown

    async def get(self, session: HubSession) -> Callable[[str], float]:
        """The frequency function: the same object until the statistics are read again."""
        if time.monotonic() - self._read_at > self.every:
            self._read_at = time.monotonic()
            frequencies = await read_frequencies(session)
            if frequencies:
                forget_plans()
                self._frequency = lambda term: frequencies.get(term, 0.0)
        return self._frequency


def _unknown(term: str) -> float:
    return 0.0


FREQUENCIES = Frequencies()
