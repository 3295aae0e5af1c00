"""Logs as one JSON object per line (or plain text in development), each with its request id.

The request id is the one ``hub.observability.requests`` gives every HTTP request: the
caller's ``X-Request-Id`` when it is safe to repeat, else a new one. It lives in a context
variable, so every line logged while the request runs carries it, whichever logger writes it,
and ``Context.request_id`` (schema.context) is the same value, as are the audit records.
"""

from __future__ import annotations

import logging
import uuid
from contextvars import ContextVar
from typing import Any, Literal

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

LogFormat = Literal["json", "text"]

request_id: ContextVar[str | None] = ContextVar("hub_request_id", default=None)
"""The id of the HTTP request being served, None outside a request (start-up, the relay)."""

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def current_request_id() -> str:
    """The id of the request being served, or a new one outside a request (tests, the CLI)."""
    return request_id.get() or uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Stamps each record with the request id of the task that logs it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(_JsonFormatter):
    """``{"time", "level", "logger", "message", "request_id", ...}``; a record's ``extra``
    fields follow, and a traceback is one ``exc_info`` string, so a record stays one line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", ["levelname", "name", "message", "request_id"])
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", "time")
        kwargs.setdefault("json_ensure_ascii", False)
        # uvicorn's records carry an ANSI-coloured copy of their message.
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "color_message"])
        super().__init__(*args, **kwargs)


def log_config(log_format: LogFormat, level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the hub and uvicorn alike (``hub serve``'s
    ``log_config``): one handler on stderr, every logger through it, one format."""
    formatter: dict[str, Any] = (
        {"()": f"{__name__}.JsonFormatter"} if log_format == "json" else {"format": TEXT_FORMAT}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": f"{__name__}.RequestIdFilter"}},
        "formatters": {"hub": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "hub",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        # uvicorn's own loggers would otherwise get their own handlers and format.
        "loggers": {
            name: {"handlers": [], "propagate": True, "level": level}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }
