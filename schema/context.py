"""The typed context of one GraphQL operation: caller, lazily opened session, loaders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.requests import Request
from strawberry.dataloader import DataLoader
from strawberry.types import Info as StrawberryInfo

from hub.auth.audit import PersonalRead
from hub.auth.principal import Principal
from hub.db import HubSession
from hub.observability.logs import current_request_id

L = TypeVar("L", bound=DataLoader[Any, Any])


@dataclass
class Context:
    principal: Principal
    sessionmaker: async_sessionmaker[HubSession]
    request: Request | None = None
    # The HTTP request's id (its X-Request-Id), which its log lines and audit records carry.
    request_id: str = field(default_factory=current_request_id)
    personal_reads: list[PersonalRead] = field(default_factory=list)
    # Set by the HTTP layer, which then closes the session itself once the response is sent
    # (``close``): the ROLLBACK that ends a read is then no part of the caller's wait.
    closes_after_response: bool = False
    _session: HubSession | None = None
    _loaders: dict[Callable[..., Any], Any] = field(default_factory=dict)

    @property
    def session(self) -> HubSession:
        """One session per operation, opened on first use; the operation is the transaction."""
        if self._session is None:
            self._session = self.sessionmaker()
        return self._session

    @property
    def has_session(self) -> bool:
        return self._session is not None

    async def close(self) -> None:
        """Close the operation's session, if one was opened and is still open."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def read_personal(self, record_type: str, record_id: int, field_name: str) -> None:
        """Note a read of personal data; the operation writes the audit before it answers."""
        self.personal_reads.append(PersonalRead(record_type, record_id, field_name))

    def loader(self, factory: Callable[[Context], L]) -> L:
        """The request's instance of a DataLoader, made by ``factory`` on first use."""
        found = self._loaders.get(factory)
        if found is None:
            found = self._loaders[factory] = factory(self)
        return found


Info = StrawberryInfo[Context, None]
