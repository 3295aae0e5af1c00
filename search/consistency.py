"""Does an index hold what the database says? A sample of records, compared by version.

Counts alone miss a stale document: an index can hold every record at an older version. Each
document carries its record's version (``search.documents``), so the check reads the versions
of a sample from the database and from the index and compares them: the records changed last
(where a lost write would be) and a random spread of the rest. Records with a change still
waiting in the outbox are left out: they are behind, not wrong. A record differs only if it
differs twice in a row, so a change that lands between the two reads is not reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func

from hub.db import HubSession
from search.backend import SearchBackend
from search.documents import MODELS, Kind, record_versions
from search.outbox import pending_among

# Records per kind: the most recently changed ones, and as many again at random.
SAMPLE_RECENT = 100
SAMPLE_RANDOM = 200


@dataclass(frozen=True, slots=True)
class Divergence:
    kind: Kind
    id: int
    # The database's version, and the index's (None: the record has no document).
    expected: int
    found: int | None


@dataclass(frozen=True, slots=True)
class Check:
    target: str
    checked: int
    diverged: list[Divergence]


async def sample(session: HubSession, kind: Kind, recent: int, spread: int) -> list[int]:
    """Ids of the ``recent`` records changed last and of ``spread`` random others."""
    model = MODELS[kind]
    ids = list(
        await session.scalars(
            record_versions(kind)
            .with_only_columns(model.id)
            .order_by(model.updated_at.desc(), model.id.desc())
            .limit(recent)
        )
    )
    ids += await session.scalars(
        record_versions(kind).with_only_columns(model.id).order_by(func.random()).limit(spread)
    )
    return sorted(set(ids))


async def _differing(
    session: HubSession, target: str, backend: SearchBackend, kind: Kind, ids: Sequence[int]
) -> list[Divergence]:
    model = MODELS[kind]
    expected = {
        int(ref_id): int(version)
        for ref_id, version in (
            await session.execute(record_versions(kind).where(model.id.in_(list(ids))))
        ).all()
    }
    waiting = await pending_among(session, target, kind, list(expected))
    settled = [ref_id for ref_id in expected if ref_id not in waiting]
    found = await backend.versions(kind, settled)
    return [
        Divergence(kind, ref_id, expected[ref_id], found.get(ref_id))
        for ref_id in sorted(settled)
        if found.get(ref_id) != expected[ref_id]
    ]


async def check(
    session: HubSession,
    target: str,
    backend: SearchBackend,
    *,
    recent: int = SAMPLE_RECENT,
    spread: int = SAMPLE_RANDOM,
) -> Check:
    """Compare ``backend`` with the database on a sample of each kind's records."""
    checked = 0
    diverged: list[Divergence] = []
    for kind in Kind:
        ids = await sample(session, kind, recent, spread)
        checked += len(ids)
        first = await _differing(session, target, backend, kind, ids)
        if first:
            again = await _differing(session, target, backend, kind, [d.id for d in first])
            diverged += [d for d in again if d in first]
    return Check(target=target, checked=checked, diverged=diverged)
