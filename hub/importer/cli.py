"""``hub import``: validated, idempotent loading of CSV and JSON Lines files."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError

from hub.config import get_settings
from hub.db import create_engine, create_sessionmaker
from hub.importer.errors import ImportFileError

# Below this a file imports before a progress bar would be worth drawing.
PROGRESS_MIN_BYTES = 1 << 20


class _ImportCommand(click.Command):
    """Lists the kinds and their fields under ``--help``.

    The row models are built only then, not each time ``hub`` starts for another command.
    """

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from hub.importer.kinds import KINDS

        with formatter.section("Kinds and their fields (* required)"):
            formatter.write_dl(
                [
                    (name, ", ".join(f"{f}*" if f in kind.required() else f for f in kind.fields()))
                    for name, kind in KINDS.items()
                ]
            )


def _show_progress(choice: bool | None, path: Path) -> bool:
    if choice is not None:
        return choice
    try:
        return sys.stdout.isatty() and path.stat().st_size >= PROGRESS_MIN_BYTES
    except OSError:
        return False


@click.command("import", cls=_ImportCommand)
@click.argument("kind", metavar="KIND")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl"]),
    help="File format; by default from the extension (.csv, .jsonl, .ndjson).",
)
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write rejected rows [default: <file stem>.rejected.csv next to FILE].",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show a progress bar [default: for large files on a terminal].",
)
def import_command(
    kind: str, file: Path, fmt: str | None, rejects: Path | None, progress: bool | None
) -> None:
    """Import KIND records from FILE (CSV with a header row, or JSON Lines).

    Every row is validated; rows that fail go to the rejects file with the reason, the rest
    are inserted or updated by their natural key, so importing a file again changes nothing.
    A file that is malformed as a whole is refused and nothing of it is stored.
    """
    from hub.importer.run import ImportReport, run_import

    async def run() -> ImportReport:
        engine = create_engine(get_settings().database_url)
        try:
            return await run_import(
                create_sessionmaker(engine),
                kind,
                file,
                fmt=fmt,
                rejects=rejects,
                progress=_show_progress(progress, file),
            )
        finally:
            await engine.dispose()

    try:
        report = asyncio.run(run())
    except ImportFileError as error:
        raise click.ClickException(error.message) from None
    except SQLAlchemyError as error:
        cause = getattr(error, "orig", None) or error
        raise click.ClickException(f"database error, nothing was imported: {cause}") from None
    if report.ignored_columns:
        click.echo(f"ignored unknown field(s): {', '.join(report.ignored_columns)}", err=True)
    click.echo(report.summary())
