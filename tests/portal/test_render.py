"""The portal's template environment: answers read as Jinja2 reads them, templates compiled once."""

from __future__ import annotations

from typing import Any

import pytest
from jinja2 import Environment

from hub.portal.language import Language
from hub.portal.render import AnswerEnvironment, Pages

ANSWER = {
    "name": "泉州市达鑫制衣有限公司",
    "items": [1, 2],
    "nodes": None,
    "region": {"code": "350500"},
}

EXPRESSIONS = {
    "{{ e.name }}": "泉州市达鑫制衣有限公司",
    "{{ e.region.code }}": "350500",
    "{{ e.nodes }}": "None",
    "{{ e.missing is undefined }}": "True",
    "{{ e.region.missing is undefined }}": "True",
    # a dict's own attribute comes first, as in Jinja2: the method, not the item
    "{{ e.items is callable }}": "True",
    "{{ e.get('name') }}": "泉州市达鑫制衣有限公司",
    "{{ e['items'] }}": "[1, 2]",
    "{{ e.name.upper is callable }}": "True",
    "{{ pairs.0 }}": "('a', 1)",
}


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_an_answer_reads_as_jinja2_reads_it(expression: str) -> None:
    context: dict[str, Any] = {"e": ANSWER, "pairs": [("a", 1)]}
    rendered = AnswerEnvironment().from_string(expression).render(context)
    assert rendered == EXPRESSIONS[expression]
    assert rendered == Environment().from_string(expression).render(context)


def test_templates_are_compiled_once_in_production_and_reloaded_in_development() -> None:
    for language in Language:
        assert Pages(reload=False).templates[language].env.auto_reload is False
        assert Pages(reload=True).templates[language].env.auto_reload is True
