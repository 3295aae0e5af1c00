"""Interface strings translated once, when a template is compiled, instead of at every render.

Each language has a Jinja2 environment of its own (hub.portal.render), so a literal
``_("Summary")`` has one answer per environment. ``FixedTranslations`` puts that answer in the
template's token stream in place of the call, and Jinja2 writes it into the compiled template
as static text. Through the i18n extension, each call costs a context lookup, two context
calls, a ``Markup`` and a formatting at every render: a credit page makes about a hundred of
them, about a fifth of the page's time in Python.

The constant is exactly what the i18n extension's newstyle ``gettext`` returns at run time
(``fixed``): the translation as markup, formatted with no variables, so ``%%`` becomes ``%``.
A call with variables (``_("%(count)s in all", count=n)``), with anything but one string
literal, or whose text would not format, is left to the run-time ``_``.
"""

from __future__ import annotations

import gettext
from collections import deque
from collections.abc import Iterator

from jinja2 import Environment
from jinja2.ext import Extension
from jinja2.lexer import (
    TOKEN_DOT,
    TOKEN_LPAREN,
    TOKEN_NAME,
    TOKEN_PIPE,
    TOKEN_RPAREN,
    TOKEN_STRING,
    Token,
    TokenStream,
)
from markupsafe import Markup


def fixed(translations: gettext.NullTranslations, message: str) -> Markup:
    """What ``_(message)`` renders in a template of the i18n extension's newstyle gettext.

    ValueError (or KeyError, TypeError) if the text is not a format string without variables.
    """
    return Markup(translations.gettext(message)) % {}


class FixedTranslations(Extension):
    """Replaces ``_("literal")`` by its translation in ``environment.fixed_translations``.

    The translation enters the stream as ``("…"|safe)``: a constant that Jinja2 folds into
    the template's static text, kept as markup as the run-time ``_`` keeps it, and in
    parentheses so that whatever follows the call (``|lower``, ``.upper()``) still applies
    to the whole string.
    """

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.extend(fixed_translations=None)

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        translations: gettext.NullTranslations | None = getattr(
            self.environment, "fixed_translations", None
        )
        if translations is None:
            yield from stream
            return
        tokens = iter(stream)
        # The call's three tokens after ``_``: ``(``, the string, ``)``.
        ahead: deque[Token] = deque()
        previous: Token | None = None
        while True:
            while len(ahead) < 4 and (token := next(tokens, None)) is not None:
                ahead.append(token)
            if not ahead:
                return
            token = ahead.popleft()
            constant = (
                _translated_call(previous, ahead, translations)
                if token.type == TOKEN_NAME and token.value == "_"
                else None
            )
            if constant is None:
                yield token
                previous = token
                continue
            lineno = token.lineno
            yield Token(lineno, TOKEN_LPAREN, "(")
            yield Token(lineno, TOKEN_STRING, str(constant))
            yield Token(lineno, TOKEN_PIPE, "|")
            yield Token(lineno, TOKEN_NAME, "safe")
            yield Token(lineno, TOKEN_RPAREN, ")")
            for _ in range(3):
                previous = ahead.popleft()


def _translated_call(
    previous: Token | None,
    ahead: deque[Token],
    translations: gettext.NullTranslations,
) -> Markup | None:
    """The constant of the call that the ``_`` just taken opens, if ``ahead`` starts with a lone
    string literal in parentheses and ``_`` is not an attribute (``x._``); else None."""
    if previous is not None and previous.type == TOKEN_DOT:
        return None
    if len(ahead) < 3 or [t.type for t in list(ahead)[:3]] != [
        TOKEN_LPAREN,
        TOKEN_STRING,
        TOKEN_RPAREN,
    ]:
        return None
    try:
        return fixed(translations, ahead[1].value)
    except (ValueError, KeyError, TypeError):
        return None  # not a format string without variables: the run-time _ says why
