"""Rendering a page: the Jinja2 environment of each language, and the headers pages carry."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from hub.portal import labels
from hub.portal.fixed_translations import FixedTranslations, fixed
from hub.portal.language import COOKIE, COOKIE_MAX_AGE, Choice, Language, translations

TEMPLATES = Path(__file__).parent / "templates"

#: How long a browser or a shared cache may keep a public page: the data changes by the day,
#: and a minute keeps a reporter's reload fresh while a crowd reading one page costs one read.
PAGE_MAX_AGE = 60

_EMPHASIS = re.compile(r"(<em>.*?</em>)", re.DOTALL)


def highlight(fragment: str) -> Markup:
    """A search highlight as HTML: the API marks matches with ``<em>``; nothing else passes.

    The fragments come HTML-escaped, but the page does not rely on it: every part is
    unescaped and escaped again, and only the ``<em>`` pairs become markup.
    """
    parts = []
    for part in _EMPHASIS.split(fragment):
        if part.startswith("<em>") and part.endswith("</em>"):
            parts.append(Markup("<mark>%s</mark>") % html.unescape(part[4:-5]))
        else:
            parts.append(escape(html.unescape(part)))
    return Markup("").join(parts)


def page_url(request: Request, **changes: str | None) -> str:
    """This page's path with some query parameters changed (None removes one)."""
    parameters = dict(request.query_params)
    parameters.pop("lang", None)
    for name, value in changes.items():
        if value is None or value == "":
            parameters.pop(name, None)
        else:
            parameters[name] = value
    query = urlencode(parameters)
    return request.url.path + (f"?{query}" if query else "")


_DICT_ATTRIBUTES = frozenset(dir(dict))


class AnswerEnvironment(Environment):
    """Jinja2 for templates of GraphQL answers: dicts, read as ``e.name``.

    Jinja2 reads ``x.name`` as the attribute first and the item after, so every field of an
    answer costs a raised AttributeError first: a tenth of a credit page's time. A dict's
    item is taken at once when the dict has no attribute of that name, which is what
    Jinja2 would have found anyway.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


class Pages:
    """Renders templates in the reader's language, with the headers every page carries.

    With ``reload``, a template is compiled again when its file changes (development); without
    it, the files are not looked at again once compiled, as every render would (``stat``).
    """

    def __init__(self, *, reload: bool = True) -> None:
        self.templates = {language: self._templates(language, reload) for language in Language}

    @staticmethod
    def _templates(language: Language, reload: bool) -> Jinja2Templates:
        environment = AnswerEnvironment(
            auto_reload=reload,
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(default=True),
            undefined=StrictUndefined,
            extensions=["jinja2.ext.i18n", FixedTranslations],
            trim_blocks=True,
            lstrip_blocks=True,
        )
        catalog = translations(language)
        # The literal _("...") of the templates are translated as they compile; a _ with
        # variables is the i18n extension's, at render time.
        environment.fixed_translations = catalog  # type: ignore[attr-defined]
        environment.install_gettext_translations(  # type: ignore[attr-defined]
            catalog, newstyle=True
        )
        environment.filters["highlight"] = highlight
        # The enum values' labels, translated once: a page shows dozens of them.
        environment.globals["labels"] = {
            name: {value: fixed(catalog, label) for value, label in table.items()}
            for name, table in labels.ALL.items()
        }
        environment.globals["lang"] = language
        return Jinja2Templates(env=environment)

    def render(
        self,
        request: Request,
        choice: Choice,
        name: str,
        context: Mapping[str, Any],
        *,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        cacheable: bool = True,
    ) -> Response:
        other = Language.EN if choice.language is Language.ZH else Language.ZH
        response = self.templates[choice.language].TemplateResponse(
            request,
            name,
            {
                **context,
                "page_url": lambda **changes: page_url(request, **changes),
                "switch_url": page_url(request, lang=other.value),
                "other_language": other,
            },
            status_code=status_code,
            headers=dict(headers or {}),
        )
        response.headers["Content-Language"] = choice.language.tag
        # The language comes from the cookie or Accept-Language, so caches must key on them.
        response.headers["Vary"] = "Accept-Language, Cookie"
        if choice.chosen:
            response.set_cookie(
                COOKIE, choice.language.value, max_age=COOKIE_MAX_AGE, samesite="lax"
            )
        if not cacheable or choice.chosen:
            # A response that sets the cookie must reach the browser every time: served from
            # a cache, its Set-Cookie would not apply, and the switch would not stick.
            response.headers["Cache-Control"] = "no-store"
        else:
            response.headers["Cache-Control"] = f"public, max-age={PAGE_MAX_AGE}"
        return response
