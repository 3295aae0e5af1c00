"""GraphiQL's page with every script and style served by the hub, never by a CDN.

Strawberry's own page loads React and GraphiQL from a public CDN, so on an intranet it shows
nothing. This page is the same IDE with the copies vendored under ``static/vendor`` (their
versions and licences are in ``static/vendor/README.md``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PAGE = Path(__file__).parent / "graphiql.html"


@cache
def graphiql_html() -> str:
    """The HTML of the GraphiQL page, read once per process."""
    return _PAGE.read_text(encoding="utf-8")
