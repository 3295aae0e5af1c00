"""The interface's languages: the catalog covers every string, and the reader's choice wins."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from hub.portal.language import LOCALE_DIR, Language, from_accept_language, translations
from hub.portal.render import highlight

PORTAL = Path(__file__).resolve().parents[2] / "hub" / "portal"


def extracted() -> set[str]:
    """Every string the portal marks for translation, found as `pybabel extract` finds them."""
    with (PORTAL / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = set()
    for _, _, message, _, _ in extract_from_dir(
        str(PORTAL), method_map, options_map, keywords={"_": None, "N_": None, "gettext": None}
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_the_chinese_catalog_translates_every_string_and_nothing_else() -> None:
    with (LOCALE_DIR / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalog = read_po(source, locale="zh_Hans_CN")
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    wanted = extracted()
    assert len(wanted) > 150
    assert wanted - translated == set()
    assert {m.id for m in catalog if m.id} - wanted == set()
    # placeholders such as %(count)s survive translation
    assert [(message.id, errors) for message, errors in catalog.check()] == []


def test_the_catalog_is_compiled_when_the_portal_starts() -> None:
    assert translations(Language.ZH).gettext("Blacklist") == "黑名单"
    assert translations(Language.EN).gettext("Blacklist") == "Blacklist"


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("", Language.ZH),
        ("en", Language.EN),
        ("en-US,en;q=0.9", Language.EN),
        ("zh-CN,zh;q=0.9,en;q=0.8", Language.ZH),
        ("en;q=0.5,zh-TW;q=0.8", Language.ZH),
        ("fr-FR,en;q=0.3", Language.EN),
        ("fr, de", Language.ZH),
        ("en;q=0", Language.ZH),
        ("en;q=abc", Language.ZH),
    ],
)
def test_accept_language(header: str, language: Language) -> None:
    assert from_accept_language(header) is language


@pytest.mark.parametrize(
    ("fragment", "html"),
    [
        ("深圳<em>华为</em>技术", "深圳<mark>华为</mark>技术"),
        ("&lt;b&gt;<em>A&amp;B</em>", "&lt;b&gt;<mark>A&amp;B</mark>"),
        # markup that is not the API's <em> never reaches the page, escaped or not
        (
            "<script>alert(1)</script><em>x</em>",
            "&lt;script&gt;alert(1)&lt;/script&gt;<mark>x</mark>",
        ),
        (
            "<em><img src=x onerror=alert(1)></em>",
            "<mark>&lt;img src=x onerror=alert(1)&gt;</mark>",
        ),
    ],
)
def test_search_highlights_keep_only_their_emphasis(fragment: str, html: str) -> None:
    assert str(highlight(fragment)) == html
