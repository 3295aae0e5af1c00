"""The rejects file: one CSV row per rejected record, with where it was, why, and its raw text."""

from __future__ import annotations

import contextlib
import csv
import os
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from hub.importer.errors import ImportFileError
from hub.importer.rows import Problem

COLUMNS = ("line", "key", "field", "reason", "row")


def default_rejects_path(path: Path) -> Path:
    """``<input stem>.rejected.csv`` next to the input."""
    return path.with_name(f"{path.stem}.rejected.csv")


class RejectsFile:
    """Written under a temporary name and put in place by ``commit``.

    A file rejected as a whole leaves no rejects file behind, and a rejects file from an
    earlier run is replaced only once the new one is complete.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._partial = path.with_name(f".{path.name}.partial")
        try:
            self._file = self._partial.open("w", encoding="utf-8", newline="")
        except OSError as error:
            raise ImportFileError(
                f"cannot write the rejects file {path}: {error.strerror or error}"
            ) from None
        self._writer = csv.writer(self._file)
        self._writer.writerow(COLUMNS)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if not self._file.closed:
            self._file.close()
            with contextlib.suppress(FileNotFoundError):
                self._partial.unlink()

    def write(self, line: int, key: str, problems: Sequence[Problem], raw: str) -> None:
        """One rejected record; several problems share the row, fields and reasons in order."""
        fields = "; ".join(problem.field for problem in problems)
        reasons = "; ".join(problem.reason for problem in problems)
        self._writer.writerow((line, key, fields, reasons, raw))
        self.count += 1

    def commit(self) -> None:
        self._file.close()
        os.replace(self._partial, self.path)
