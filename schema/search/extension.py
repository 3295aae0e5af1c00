"""``extensions.search`` in a response: which backend answered the operation's searches."""

from __future__ import annotations

from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from strawberry.extensions import SchemaExtension

from search.service import Answer

_REPORTS: ContextVar[list[dict[str, str]] | None] = ContextVar("hub_search_reports", default=None)


def entry(field: str, answer: Answer) -> dict[str, str]:
    """How a search field was answered, as ``extensions.search.fields`` lists it."""
    found = {"field": field, "backend": answer.backend}
    if answer.reason:
        found["reason"] = answer.reason
    return found


def report(field: str, answer: Answer) -> None:
    """Note how a search field was answered, for this operation's ``extensions.search``."""
    reports = _REPORTS.get()
    if reports is not None:
        reports.append(entry(field, answer))


def summary(reports: list[dict[str, str]]) -> dict[str, Any]:
    """``extensions.search`` of an operation whose searches were answered as ``reports`` say:
    ``backend`` is the embedded one as soon as any search fell back to it."""
    degraded = next((r for r in reports if "reason" in r and r["backend"] == "embedded"), None)
    first = degraded or reports[0]
    found: dict[str, Any] = {"backend": first["backend"]}
    if "reason" in first:
        found["reason"] = first["reason"]
    found["fields"] = reports
    return found


class SearchBackendReport(SchemaExtension):
    """Adds ``extensions.search = {backend, reason?, fields}`` when the operation searched.

    ``backend`` is the embedded one as soon as any search fell back to it, so a client sees a
    degraded answer at a glance; ``fields`` says it field by field.
    """

    def on_operation(self) -> Iterator[None]:
        self._reports: list[dict[str, str]] = []
        token = _REPORTS.set(self._reports)
        try:
            yield
        finally:
            _REPORTS.reset(token)

    def get_results(self) -> dict[str, Any]:
        reports = getattr(self, "_reports", [])
        if not reports:
            return {}
        return {"search": summary(reports)}
