"""Field types of import rows: codes, dates, timestamps and lists as the authority writes them.

Every failure raises ``PydanticCustomError`` so that the reason in the rejects file reads as a
sentence about the value, without pydantic's generic prefixes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any

import orjson
from pydantic import AfterValidator, BeforeValidator, PlainValidator
from pydantic_core import PydanticCustomError
from sqlalchemy import String
from sqlalchemy.orm import InstrumentedAttribute

from hub.errors import BadUserInputError
from hub.kit.codes import parse_gtin, parse_licence_number, parse_region_code, parse_uscc
from hub.kit.time import SHANGHAI


def length(attribute: InstrumentedAttribute[Any]) -> int:
    """The declared length of a string column, so row limits follow the models."""
    column_type = attribute.type
    assert isinstance(column_type, String) and column_type.length is not None
    return column_type.length


def _code(parse: Callable[[str], str]) -> Callable[[str], str]:
    def validate(value: str) -> str:
        try:
            return parse(value)
        except BadUserInputError as error:
            raise PydanticCustomError(
                "invalid_code", "{reason}", {"reason": error.reason}
            ) from None

    return validate


def _date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return date.fromisoformat(value)
    raise PydanticCustomError(
        "iso_date", "expected an ISO date such as 2024-03-01, got '{value}'", {"value": value}
    )


def _timestamp(value: Any) -> datetime:
    """An ISO 8601 timestamp; one without a zone is Beijing time, as the authority writes it."""
    parsed: datetime | None = None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        with contextlib.suppress(ValueError):
            parsed = datetime.fromisoformat(value)
    if parsed is None:
        raise PydanticCustomError(
            "iso_timestamp",
            "expected an ISO 8601 timestamp such as 2024-03-01T09:30:00+08:00, got '{value}'",
            {"value": value},
        )
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=SHANGHAI)
    return parsed.astimezone(UTC)


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def _json_list(value: Any) -> Any:
    """A CSV cell carries a list as a JSON array; JSON Lines carry the array itself."""
    if not isinstance(value, str):
        return value
    try:
        parsed = orjson.loads(value)
    except orjson.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, list):
        raise PydanticCustomError(
            "json_array", "expected a JSON array, got '{value}'", {"value": value}
        )
    return parsed


def _code_list(value: Any) -> Any:
    """A JSON array, or in a CSV cell also codes separated by semicolons; repeats dropped."""
    if isinstance(value, str) and not value.lstrip().startswith("["):
        value = [part.strip() for part in value.split(";") if part.strip()]
    value = _json_list(value)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(dict.fromkeys(value))
    return value


Uscc = Annotated[str, AfterValidator(_code(parse_uscc))]
Gtin = Annotated[str, AfterValidator(_code(parse_gtin))]
RegionCode = Annotated[str, AfterValidator(_code(parse_region_code))]
LicenceNumber = Annotated[str, AfterValidator(_code(parse_licence_number))]
IsoDate = Annotated[date, PlainValidator(_date)]
Timestamp = Annotated[datetime, PlainValidator(_timestamp)]
# Enum members are upper case; accepting any case spares re-exports of hand-typed sheets.
Upper = BeforeValidator(_upper)
JsonList = BeforeValidator(_json_list)
CodeList = BeforeValidator(_code_list)
