"""Literal interface strings are translated when a template compiles, exactly as at run time."""

from __future__ import annotations

import gettext

import pytest
from jinja2 import Environment, select_autoescape

from hub.portal.fixed_translations import FixedTranslations
from hub.portal.language import Language, translations

MESSAGES = {
    "Summary": "概况",
    "Rate": "100%% <b>sure</b>",
    "%(count)s in all": "共 %(count)s 条",
    "Tom & Jerry": "汤姆 & 杰瑞",
}


class Catalog(gettext.NullTranslations):
    """A catalog of a few strings, some with what HTML or formatting treats specially."""

    def gettext(self, message: str) -> str:
        return MESSAGES.get(message, message)


def environment(catalog: gettext.NullTranslations, *, fixed: bool) -> Environment:
    """The portal's kind of environment (hub.portal.render), with the extension or without."""
    extensions: list[str | type[FixedTranslations]] = ["jinja2.ext.i18n"]
    if fixed:
        extensions.append(FixedTranslations)
    env = Environment(autoescape=select_autoescape(default=True), extensions=extensions)
    if fixed:
        env.fixed_translations = catalog  # type: ignore[attr-defined]
    env.install_gettext_translations(catalog, newstyle=True)  # type: ignore[attr-defined]
    env.globals["helper"] = {"_": lambda text: f"[{text}]"}
    return env


TEMPLATES = {
    '<h2>{{ _("Summary") }}</h2>': "<h2>概况</h2>",
    # a translation is markup, not escaped, and formatted with no variables: %% is %
    '{{ _("Rate") }}': "100% <b>sure</b>",
    "{{ _('Tom & Jerry') }}": "汤姆 & 杰瑞",
    '{{ _("Summary")|length }}': "2",
    '{{ _("Summary") ~ "!" }}': "概况!",
    '{{ _("Untranslated") }}': "Untranslated",
    '<input placeholder="{{ _("Summary") }}">': '<input placeholder="概况">',
    '{% set s = _("Summary") %}{{ s }}{{ s }}': "概况概况",
    # with variables, at run time: the variables are escaped, the translation is not
    '{{ _("%(count)s in all", count="<3>") }}': "共 &lt;3&gt; 条",
    # not the translation function: an attribute called _, and a call with an expression
    '{{ helper._("Summary") }}': "[Summary]",
    '{{ _("Sum" ~ "mary") }}': "概况",
}


@pytest.mark.parametrize("template", TEMPLATES)
def test_a_template_renders_what_the_runtime_translation_renders(template: str) -> None:
    catalog = Catalog()
    fixed = environment(catalog, fixed=True).from_string(template).render()
    assert fixed == TEMPLATES[template]
    assert fixed == environment(catalog, fixed=False).from_string(template).render()


def test_a_literal_is_static_text_of_the_compiled_template() -> None:
    env = environment(translations(Language.ZH), fixed=True)
    template = '<h2>{{ _("Summary") }}</h2><p>{{ _("%(count)s in all", count=n) }}</p>'
    code = env.compile(template, raw=True)
    assert "'<h2>概况</h2><p>'" in code
    # the one call with variables is left to the i18n extension's _, at render time
    assert code.count("context.call(") == 1


def test_a_text_that_does_not_format_fails_at_render_as_before() -> None:
    template = '{{ _("Half: 50%") }}'
    for fixed in (True, False):
        with pytest.raises(ValueError, match="incomplete format"):
            environment(Catalog(), fixed=fixed).from_string(template).render()
