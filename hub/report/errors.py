"""Why a credit report cannot be made just now: said plainly, for the log and the 503 page."""

from __future__ import annotations

from hub.errors import HubError


class ReportUnavailableError(HubError):
    """Reports cannot be made on this host (a missing font, an unusable signing key); every
    other page still works. The message names what to install or fix."""
