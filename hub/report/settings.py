"""The settings of credit reports: their rate budgets, signing key and font.

``HUB_REPORTS__RATE_LIMIT=5`` sets one number and keeps the other defaults.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

#: The Debian package of the default font, named in every message about a missing font.
FONT_PACKAGE = "fonts-wqy-zenhei"
FONT_PATH = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")


class ReportSettings(BaseModel):
    """Frozen, as ``hub.limits.Limits`` is: one instance is the default and partial updates
    from the environment merge into it."""

    model_config = ConfigDict(frozen=True)

    rate_limit: int = Field(
        default=10, ge=1, description="reports one address may have made per rate window"
    )
    rate_window: int = Field(default=600, ge=1, description="seconds of the reports' window")
    verify_rate_limit: int = Field(
        default=30, ge=1, description="checks at /verify one address may make per window"
    )
    verify_rate_window: int = Field(default=600, ge=1, description="seconds of /verify's window")
    signing_key_path: Path | None = Field(
        default=None,
        description="PEM file of the key and self-signed certificate that sign reports, made on "
        "first use when missing; unset: report-signing.pem beside HUB_SIGNING_KEY_PATH",
    )
    font_path: Path = Field(
        default=FONT_PATH,
        description=f"TrueType font (.ttf or .ttc) with Chinese glyphs: Debian's {FONT_PACKAGE}",
    )
    font_index: int = Field(default=0, ge=0, description="the font's index in a .ttc collection")
