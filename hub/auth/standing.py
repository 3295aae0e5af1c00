"""Whether a token's client still backs it, answered from what this process read a moment ago.

A token of the hub proves what its client held when it was issued; the client may since have
been revoked, had its secret rotated, its scopes narrowed or its tier changed, and the token
itself may have been revoked. Reading that from the database on every request cost a partner a
transaction (BEGIN, a SELECT, ROLLBACK) before its read. So each process reads every client and
every live revocation at once, and answers from that copy until it is ``max_age`` seconds old
(``HUB_AUTH_CACHE_SECONDS``, 5 at most); the first request after that reads them again.

Why this holds the bound in every process, with nothing sent between them: the instant of a
copy is taken before its SELECTs are sent, so a change committed before that instant is in the
copy, and a copy is used for ``max_age`` seconds from that instant only. A change committed at
``t`` is therefore seen by every process, however many, by ``t + max_age``, on SQLite as on
PostgreSQL. Within this process its own revocations (``POST /oauth/revoke``) apply at once.

A copy older than the token it judges may refuse it wrongly: a client made, or granted a scope
or tier, after the copy was read. So a token issued after the copy (give or take
``ISSUED_WITHIN``, for the clocks of the processes) that the copy refuses is judged again on a
fresh read; a refusal of an older token stands, since the copy already knew its client as it
was when the token was issued.

``max_age`` 0 reads the one client and the one token on every request instead, as before.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from time import monotonic

from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.auth.errors import UnauthenticatedError
from hub.auth.repository import ClientRepository, ClientStatus, Standings
from hub.auth.tokens import HubToken
from hub.db import HubSession
from hub.kit.time import utcnow

#: Seconds by which the clocks of the hub's processes may differ: a token issued this close to
#: a copy's instant may have been issued after it.
ISSUED_WITHIN = 2.0


@dataclass(frozen=True, slots=True)
class _Copy:
    standings: Standings
    #: When the copy was read: monotonic for its age, the wall clock to compare with ``iat``.
    read_at: float
    read_at_wall: datetime
    #: Tokens this process revoked, with when; those revoked before a read are in the next copy.
    revoked_here: dict[str, float] = field(default_factory=dict)


def check_standing(token: HubToken, client: ClientStatus | None, token_revoked: bool) -> None:
    """Refuse ``token`` unless ``client``, as read, still backs it."""
    if client is None:
        raise UnauthenticatedError("token of an unknown client")
    if client.revoked_at is not None:
        raise UnauthenticatedError("the client was revoked")
    if token_revoked:
        raise UnauthenticatedError("token revoked")
    rotated = client.secret_rotated_at
    # iat has whole seconds: a token issued in the second of the rotation still passes.
    if rotated is not None and token.token.issued_at < int(rotated.timestamp()):
        raise UnauthenticatedError("token issued before the client's secret was rotated")
    if token.tier is not client.tier:
        raise UnauthenticatedError("token tier differs from the client's")
    if not token.scopes <= client.scopes:
        raise UnauthenticatedError("token scopes exceed the client's grant")


class ClientStandings:
    """The clients and revoked tokens as one process knows them, at most ``max_age`` old."""

    def __init__(self, sessionmaker: async_sessionmaker[HubSession], max_age: float) -> None:
        self.sessionmaker = sessionmaker
        self.max_age = max_age
        self._copy: _Copy | None = None
        self._lock = asyncio.Lock()

    async def check(self, token: HubToken) -> None:
        """Refuse ``token`` unless its client backs it, as of at most ``max_age`` ago."""
        if self.max_age <= 0:
            await self._check_now(token)
            return
        now = monotonic()
        copy = self._copy
        if copy is None or now - copy.read_at >= self.max_age:
            copy = await self._read_after(now - self.max_age)
        try:
            _judge(copy, token)
        except UnauthenticatedError:
            if token.token.issued_at + ISSUED_WITHIN < copy.read_at_wall.timestamp():
                raise
            _judge(await self._read_after(monotonic()), token)

    def revoked(self, jti: str) -> None:
        """A token this process has just revoked: refused here at once, elsewhere in time."""
        if self._copy is not None:
            self._copy.revoked_here[jti] = monotonic()

    async def _read_after(self, instant: float) -> _Copy:
        """A copy read after ``instant``: the one there is, or a new read."""
        async with self._lock:
            if self._copy is not None and self._copy.read_at > instant:
                return self._copy
            read_at, read_at_wall = monotonic(), utcnow()
            async with self.sessionmaker() as session:
                standings = await ClientRepository(session).standings(read_at_wall)
            # A revocation committed before the read is in it; one that raced it waits for
            # the next.
            racing = {
                jti: at
                for jti, at in (self._copy.revoked_here if self._copy is not None else {}).items()
                if at >= read_at
            }
            self._copy = _Copy(standings, read_at, read_at_wall, racing)
            return self._copy

    async def _check_now(self, token: HubToken) -> None:
        async with self.sessionmaker() as session:
            await check_now(session, token)


async def check_now(session: HubSession, token: HubToken) -> None:
    """Refuse ``token`` unless its client, as it is in the database now, backs it."""
    standing = await ClientRepository(session).standing(token.token.client_id, token.token.jti)
    if standing is None:
        check_standing(token, None, False)
    else:
        check_standing(token, standing.client, standing.token_revoked)


def _judge(copy: _Copy, token: HubToken) -> None:
    jti = token.token.jti
    revoked = jti in copy.standings.revoked_tokens or jti in copy.revoked_here
    check_standing(token, copy.standings.clients.get(token.token.client_id), revoked)
