"""OpenTelemetry tracing: off unless an OTLP endpoint is configured.

With ``HUB_OTLP_ENDPOINT`` (or the standard ``OTEL_EXPORTER_OTLP_ENDPOINT``), both the base
URL of an OTLP/HTTP collector such as ``http://127.0.0.1:4318``, each request becomes a
server span (the ASGI instrumentation) with a client span per SQL statement under it (the
SQLAlchemy instrumentation) and per search sent to Elasticsearch, exported in batches to
``<endpoint>/v1/traces``. Without one, nothing is installed: no middleware, no engine events,
no cost.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.middleware import Middleware

OTEL_ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_ENDPOINT"
SERVICE = "quality-credit-hub"


def otlp_endpoint(configured: str | None) -> str | None:
    """Where spans go: the hub's setting, else OpenTelemetry's own variable; None: off."""
    return configured or os.environ.get(OTEL_ENDPOINT_ENV) or None


def span_exporter(endpoint: str) -> SpanExporter:
    """The exporter to ``endpoint``; the tests put an in-memory exporter here instead."""
    return OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces")


@dataclass
class Tracing:
    """Tracing as installed for one app; ``close`` flushes the spans and takes it out."""

    provider: TracerProvider

    def middleware(self) -> Middleware:
        # Spans of each ASGI receive and send would outnumber the request's own many times.
        return Middleware(
            OpenTelemetryMiddleware,
            tracer_provider=self.provider,
            exclude_spans=["receive", "send"],
        )

    def close(self) -> None:
        global _active
        if _active is self.provider:
            _active = None
        SQLAlchemyInstrumentor().uninstrument()
        self.provider.shutdown()


_active: TracerProvider | None = None
"""The provider of the app that installed tracing, for the statements SQLAlchemy does not run."""


def statement_span(statement: str) -> AbstractContextManager[object]:
    """A client span for a statement sent to asyncpg directly (the compiled reads)."""
    return _client_span("SELECT", {"db.system": "postgresql", "db.statement": statement})


def search_span(index: str) -> AbstractContextManager[object]:
    """A client span for a search sent to Elasticsearch (``search.elastic``)."""
    attributes = {"db.system": "elasticsearch", "db.operation": "search", "db.name": index}
    return _client_span("search", attributes)


def _client_span(name: str, attributes: dict[str, str]) -> AbstractContextManager[object]:
    """A client span of the installed provider; nothing while tracing is off."""
    if _active is None:
        return nullcontext()
    tracer = _active.get_tracer(__name__)
    return tracer.start_as_current_span(name, kind=SpanKind.CLIENT, attributes=attributes)


def install_tracing(engine: AsyncEngine, endpoint: str) -> Tracing:
    """Trace ``engine``'s statements to ``endpoint``; the app adds ``Tracing.middleware``."""
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: SERVICE}))
    provider.add_span_processor(BatchSpanProcessor(span_exporter(endpoint)))
    # The instrumentation declares SQLAlchemy < 2.1 and would refuse the hub's 2.1; the engine
    # events it listens to are unchanged in 2.1 (tests/observability/test_tracing.py).
    SQLAlchemyInstrumentor().instrument(
        engine=engine.sync_engine, tracer_provider=provider, skip_dep_check=True
    )
    global _active
    _active = provider
    return Tracing(provider)
