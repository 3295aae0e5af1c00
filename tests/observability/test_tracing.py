"""OpenTelemetry tracing: nothing installed by default; spans of requests and SQL with an
endpoint (exported to the SDK's in-memory exporter here, not to a network)."""

from __future__ import annotations

import httpx
import pytest
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.app import create_app
from hub.config import Settings
from hub.db import HubSession
from hub.observability import tracing
from tests.fixtures.enterprise import make_enterprise

QUERY = "query($u: String!) { enterprise(uscc: $u) { name } }"


def test_tracing_is_off_by_default(
    settings: Settings,
    sessionmaker: async_sessionmaker[HubSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(tracing.OTEL_ENDPOINT_ENV, raising=False)
    app = create_app(settings, sessionmaker=sessionmaker)
    assert app.state.tracing is None
    assert all(m.cls is not OpenTelemetryMiddleware for m in app.user_middleware)
    assert SQLAlchemyInstrumentor().is_instrumented_by_opentelemetry is False


@pytest.mark.parametrize("configured_by", ["HUB_OTLP_ENDPOINT", tracing.OTEL_ENDPOINT_ENV])
async def test_with_an_endpoint_requests_and_statements_become_spans(
    configured_by: str,
    settings: Settings,
    sessionmaker: async_sessionmaker[HubSession],
    session: HubSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    exported = InMemorySpanExporter()
    endpoints: list[str] = []

    def exporter(endpoint: str) -> InMemorySpanExporter:
        endpoints.append(endpoint)
        return exported

    monkeypatch.setattr(tracing, "span_exporter", exporter)
    if configured_by == "HUB_OTLP_ENDPOINT":
        settings = settings.model_copy(update={"otlp_endpoint": "http://127.0.0.1:4318"})
    else:
        monkeypatch.setenv(configured_by, "http://127.0.0.1:4318")
    firm = await make_enterprise(session)
    await session.commit()
    app = create_app(settings, sessionmaker=sessionmaker)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://hub.test"
        ) as hub:
            response = await hub.post(
                "/graphql", json={"query": QUERY, "variables": {"u": firm.uscc}}
            )
        assert response.json() == {"data": {"enterprise": {"name": firm.name}}}
        assert SQLAlchemyInstrumentor().is_instrumented_by_opentelemetry is True
        app.state.tracing.provider.force_flush()
    finally:
        await app.state.search.close()
        app.state.tracing.close()
    assert endpoints == ["http://127.0.0.1:4318"]
    spans = exported.get_finished_spans()
    (server,) = [s for s in spans if s.kind is SpanKind.SERVER]
    assert server.name == "POST /graphql"
    assert server.attributes is not None
    assert (
        server.attributes.get(
            "http.status_code", server.attributes.get("http.response.status_code")
        )
        == 200
    )
    statements = [s for s in spans if s.kind is SpanKind.CLIENT]
    assert statements, [s.name for s in spans]
    assert all(s.context.trace_id == server.context.trace_id for s in statements)
    assert any(
        "enterprise" in str((s.attributes or {}).get("db.statement", "")) for s in statements
    )
    assert SQLAlchemyInstrumentor().is_instrumented_by_opentelemetry is False
