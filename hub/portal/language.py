"""Which language a page is in, and the gettext catalogs of the interface.

Simplified Chinese unless the reader asks for English: by ``?lang=en`` (what the switch on
every page links to), by the cookie that choice sets, or by ``Accept-Language``, in that order.
The data itself stays Chinese; only the interface is translated.

The interface's source strings are English; ``locale/<locale>/LC_MESSAGES/messages.po`` holds
the Chinese. The ``.po`` files are compiled in memory when the portal starts, so a fresh clone
needs no build step and no compiled ``.mo`` file in the repository.
"""

from __future__ import annotations

import gettext
import io
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from starlette.requests import Request

LOCALE_DIR = Path(__file__).parent / "locale"
COOKIE = "lang"
#: How long the choice of language is remembered: a year.
COOKIE_MAX_AGE = 365 * 24 * 3600


class Language(StrEnum):
    """The interface's languages; the value is what ``?lang=`` and the cookie carry."""

    ZH = "zh"
    EN = "en"

    @property
    def tag(self) -> str:
        """The BCP 47 tag of the page's ``lang`` attribute."""
        return "zh-CN" if self is Language.ZH else "en"

    @property
    def locale(self) -> str | None:
        """The catalog's locale, None for the source strings (English)."""
        return "zh_Hans_CN" if self is Language.ZH else None


DEFAULT = Language.ZH


@dataclass(frozen=True, slots=True)
class Choice:
    """The language of one response, and whether the reader chose it just now (by ``?lang=``)."""

    language: Language
    chosen: bool


def choose(request: Request) -> Choice:
    """The language of the page ``request`` asks for."""
    asked = _language(request.query_params.get("lang"))
    if asked is not None:
        return Choice(asked, chosen=True)
    remembered = _language(request.cookies.get(COOKIE))
    if remembered is not None:
        return Choice(remembered, chosen=False)
    return Choice(from_accept_language(request.headers.get("accept-language", "")), chosen=False)


def from_accept_language(header: str) -> Language:
    """The best of our languages for an ``Accept-Language`` header; Chinese when none fits."""
    best: tuple[float, int, Language] | None = None
    for position, part in enumerate(header.split(",")):
        tag, _, parameters = part.strip().partition(";")
        quality = 1.0
        for parameter in parameters.split(";"):
            name, _, value = parameter.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        language = _language(primary)
        if language is None or quality <= 0:
            continue
        # Higher quality wins; at equal quality, the one listed first.
        candidate = (quality, -position, language)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    return best[2] if best is not None else DEFAULT


def _language(value: str | None) -> Language | None:
    try:
        return Language(value) if value else None
    except ValueError:
        return None


def translations(language: Language) -> gettext.NullTranslations:
    """The compiled catalog of ``language``; English, the source, needs none."""
    locale = language.locale
    if locale is None:
        return gettext.NullTranslations()
    path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as source:
        catalog = read_po(source, locale=locale)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(fp=compiled)
