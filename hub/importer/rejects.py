"""The rejects file: one CSV row per rejected record, with where it was, why, and its raw text."""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
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
    """Written to a file without a name, and given its name by ``commit``.

    Until ``commit`` the rows go to an anonymous temporary file beside the target (one that has
    no name on Linux, or loses it as soon as it is made), which the system deletes when the
    process ends, however it ends: a file rejected as a whole, or an import that is killed,
    leaves nothing behind. A rejects file from an earlier run is replaced only once the new one
    is complete: ``commit`` copies the rows to a hidden ``.partial`` file and renames it over
    the target. The next run removes a ``.partial`` that a run killed during that copy left.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._partial = path.with_name(f".{path.name}.partial")
        try:
            self._partial.unlink(missing_ok=True)
            # Closed (and so deleted) by ``__exit__``: this object is the context manager.
            self._file = tempfile.TemporaryFile(  # noqa: SIM115
                "w+", encoding="utf-8", newline="", dir=path.parent
            )
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
        self._file.close()

    def write(self, line: int, key: str, problems: Sequence[Problem], raw: str) -> None:
        """One rejected record; several problems share the row, fields and reasons in order."""
        fields = "; ".join(problem.field for problem in problems)
        reasons = "; ".join(problem.reason for problem in problems)
        self._writer.writerow((line, key, fields, reasons, raw))
        self.count += 1

    def commit(self) -> None:
        self._file.seek(0)
        with self._partial.open("w", encoding="utf-8", newline="") as named:
            shutil.copyfileobj(self._file, named)
        self._file.close()
        os.replace(self._partial, self.path)
