"""Errors that stop an import as a whole; a bad row is never one of them."""

from __future__ import annotations

from hub.errors import HubError


class ImportFileError(HubError):
    """The file cannot be imported at all (unreadable, not UTF-8, wrong header, unknown kind).

    Raised before or during the import's one transaction, so nothing of the file is stored.
    """

    code = "BAD_USER_INPUT"
