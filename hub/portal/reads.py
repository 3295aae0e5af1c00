"""What the portal is given by the composition root: public reads and the public rate budget."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from starlette.requests import Request


@dataclass(frozen=True, slots=True)
class Answer:
    """A GraphQL response: ``data`` and the ``errors`` as a client sees them (JSON objects)."""

    data: dict[str, Any] | None
    errors: tuple[Mapping[str, Any], ...] = ()

    def error_code(self) -> str | None:
        """The ``extensions.code`` of the first error, None without errors."""
        if not self.errors:
            return None
        extensions = self.errors[0].get("extensions") or {}
        code = extensions.get("code")
        return code if isinstance(code, str) else "INTERNAL"


class PublicReads(Protocol):
    """Runs a document with the public tier's schema, limits and row rules, as an anonymous
    API caller's request would; ``request`` is the page's, for the services it carries."""

    async def __call__(
        self, request: Request, document: str, variables: Mapping[str, Any]
    ) -> Answer: ...


@dataclass(frozen=True, slots=True)
class Admission:
    """The rate decision for one page request: the headers it carries, refused or not."""

    allowed: bool
    headers: Mapping[str, str] = field(default_factory=dict)
    retry_after: int = 0


class PublicBudget(Protocol):
    """Counts one request against the caller's public per-address budget, the API's own."""

    async def __call__(self, request: Request) -> Admission: ...
