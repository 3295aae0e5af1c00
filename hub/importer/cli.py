from __future__ import annotations

import click


@click.command("import")
def import_command() -> None:
    """Import records."""
