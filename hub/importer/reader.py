"""Reading CSV and JSON Lines files into records, one at a time, keeping each record's raw text.

The reader knows nothing about kinds: it is given the field names to keep and the columns a CSV
header must have. Problems of the file as a whole raise ``ImportFileError``; a record that
cannot be parsed is handed on with its problem, to be rejected like any other bad row.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

import orjson

from hub.importer.errors import ImportFileError

Format = Literal["csv", "jsonl"]

FORMATS: dict[str, Format] = {"csv": "csv", "jsonl": "jsonl"}
_SUFFIXES: dict[str, Format] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


@dataclass(slots=True)
class Record:
    """One input record: where it starts, its text as read, and its fields or why it has none."""

    line: int
    raw: str
    values: dict[str, Any] | None
    problem: str | None = None


def detect_format(path: Path, fmt: str | None) -> Format:
    """The format asked for, or the one the file's extension names."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise ImportFileError(f"unknown format '{fmt}'; use csv or jsonl")
        return FORMATS[fmt]
    found = _SUFFIXES.get(path.suffix.lower())
    if found is None:
        raise ImportFileError(
            f"cannot tell the format of {path.name} from its extension; "
            "name it .csv, .jsonl or .ndjson, or pass --format csv|jsonl"
        )
    return found


def _clean(value: Any) -> Any:
    """Surrounding blanks carry no meaning, and an empty cell is a missing value."""
    if isinstance(value, str):
        return value.strip() or None
    return value


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"


class RecordFile:
    """An open input file; iterate it once for its records.

    ``bytes_read`` follows the iteration so a progress bar can show how far the import got.
    """

    def __init__(
        self, path: Path, fmt: Format, fields: Sequence[str], required: Collection[str]
    ) -> None:
        self.path = path
        self.format = fmt
        self._fields = tuple(fields)
        self._required = required
        try:
            self._file = path.open("rb")
            self.size = os.fstat(self._file.fileno()).st_size
        except OSError as error:
            raise ImportFileError(f"cannot read {path}: {error.strerror or error}") from None
        self.bytes_read = 0
        self.line_number = 0
        self._ignored: set[str] = set()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._file.close()

    @property
    def ignored_columns(self) -> list[str]:
        """Columns (CSV) or keys (JSON Lines) that no field of the kind reads, sorted."""
        return sorted(self._ignored)

    def __iter__(self) -> Iterator[Record]:
        if self.format == "csv":
            return self._csv_records()
        return self._jsonl_records()

    def _lines(self) -> Iterator[str]:
        for data in self._file:
            self.bytes_read += len(data)
            self.line_number += 1
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as error:
                raise ImportFileError(
                    f"{self.path.name} is not UTF-8: line {self.line_number} has an invalid "
                    f"byte at position {error.start + 1}; save the file as UTF-8"
                ) from None
            if self.line_number == 1 and text.startswith("\ufeff"):
                text = text[1:]
            yield text

    def _header(self, reader: Iterator[list[str]]) -> list[str]:
        try:
            header = [name.strip() for name in next(reader)]
        except StopIteration:
            raise ImportFileError(
                f"{self.path.name} is empty; a CSV file starts with a header row"
            ) from None
        except csv.Error as error:
            raise ImportFileError(f"{self.path.name}: unreadable header row ({error})") from None
        repeated = sorted({name for name in header if header.count(name) > 1})
        if repeated:
            raise ImportFileError(
                f"{self.path.name}: the header repeats column(s) {', '.join(repeated)}"
            )
        missing = [name for name in self._fields if name in self._required and name not in header]
        if missing:
            raise ImportFileError(
                f"{self.path.name}: the header lacks required column(s) {', '.join(missing)}"
            )
        self._ignored.update(name for name in header if name and name not in self._fields)
        return header

    def _csv_records(self) -> Iterator[Record]:
        consumed: list[str] = []

        def feed() -> Iterator[str]:
            # The csv module pulls exactly the lines of one record before yielding it, so the
            # lines fed since the last record are that record's raw text.
            for text in self._lines():
                consumed.append(text)
                yield text

        reader = csv.reader(feed())
        header = self._header(reader)
        keep = [(index, name) for index, name in enumerate(header) if name in self._fields]
        while True:
            start = self.line_number + 1
            consumed.clear()
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                yield Record(start, _raw(consumed), None, f"malformed CSV record ({error})")
                continue
            if not any(cell.strip() for cell in cells):
                continue
            raw = _raw(consumed)
            if len(cells) != len(header):
                problem = f"expected {len(header)} fields as in the header, found {len(cells)}"
                yield Record(start, raw, None, problem)
                continue
            values = {name: value for index, name in keep if (value := _clean(cells[index]))}
            yield Record(start, raw, values)

    def _jsonl_records(self) -> Iterator[Record]:
        found_object = False
        for text in self._lines():
            stripped = text.strip()
            if not stripped:
                continue
            raw = text.rstrip("\r\n")
            try:
                value = orjson.loads(stripped)
            except orjson.JSONDecodeError as error:
                yield Record(self.line_number, raw, None, f"not valid JSON ({error})")
                continue
            if not isinstance(value, dict):
                problem = f"not a JSON object but {_json_type(value)}"
                yield Record(self.line_number, raw, None, problem)
                continue
            found_object = True
            self._ignored.update(key for key in value if key not in self._fields)
            values = {
                name: cleaned
                for name in self._fields
                if (cleaned := _clean(value.get(name))) is not None
            }
            yield Record(self.line_number, raw, values)
        if not found_object:
            raise ImportFileError(
                f"{self.path.name}: no line is a JSON object; "
                "JSON Lines files hold one object per line"
            )


def _raw(lines: list[str]) -> str:
    return "".join(lines).rstrip("\r\n")
