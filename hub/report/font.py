"""The CJK font reports are set in, embedded (as a subset) in every PDF.

ReportLab embeds TrueType outlines only, so the font is a TrueType one: Debian's
``fonts-wqy-zenhei`` (``scripts/lib/fonts.sh`` installs it; ``fonts-noto-cjk`` is CFF, which
ReportLab cannot embed). Its Latin letters and digits serve the report's English labels too.
"""

from __future__ import annotations

import threading
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

from hub.report.errors import ReportUnavailableError
from hub.report.settings import FONT_PACKAGE

_lock = threading.Lock()
#: ReportLab's registry is per process: each font file is read and parsed once.
_registered: dict[tuple[Path, int], str] = {}


def missing_font_message(path: Path) -> str:
    return (
        f"the font of credit reports, {path}, is missing: install the Debian package "
        f"{FONT_PACKAGE} (apt-get install {FONT_PACKAGE}) or set HUB_REPORTS__FONT_PATH"
    )


def register_font(path: Path, index: int = 0) -> str:
    """The name of the font at ``path`` in ReportLab's registry, loading it the first time.

    Blocking (the file is read and parsed, some 17 MB for the default): call it from a worker
    thread.
    """
    with _lock:
        name = _registered.get((path, index))
        if name is not None:
            return name
        if not path.is_file():
            raise ReportUnavailableError(missing_font_message(path))
        name = f"HubReportFont{len(_registered)}"
        try:
            font = TTFont(name, str(path), subfontIndex=index)
        except (TTFError, OSError) as error:
            raise ReportUnavailableError(
                f"the font of credit reports, {path}, cannot be embedded ({error}): use a "
                f"TrueType font such as Debian's {FONT_PACKAGE}"
            ) from None
        pdfmetrics.registerFont(font)
        _registered[(path, index)] = name
        return name
