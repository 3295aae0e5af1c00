"""From a request's Authorization header to the Principal every layer below works with.

No header is the anonymous public. A header that does not prove a principal is refused with
401 before any GraphQL runs, never downgraded to the public: a caller whose token expired
must learn it, not silently receive less data.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.auth.errors import UnauthenticatedError
from hub.auth.principal import ANONYMOUS, Principal
from hub.config import Settings
from hub.db import HubSession


class Authenticator:
    def __init__(self, settings: Settings, sessionmaker: async_sessionmaker[HubSession]) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker

    async def authenticate(self, authorization: str | None) -> Principal:
        if authorization is None or not authorization.strip():
            return ANONYMOUS
        raise UnauthenticatedError("bearer tokens are not accepted by this hub yet")
