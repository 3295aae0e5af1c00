"""A test that cannot fail: ``assert a == b if c else d`` asserts ``(a == b) if c else d``.

``tests/search/test_backends.py`` once held ``assert answer.backend == service.elastic.name if
service.elastic else "embedded"``, which asserted the string ``"embedded"`` whenever
Elasticsearch was not configured. No assertion of the suite may take that form again.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def conditional_assertions(source: str) -> list[int]:
    """Lines of ``assert`` statements whose test is a conditional expression as a whole."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Assert) and isinstance(node.test, ast.IfExp)
    ]


def test_the_check_finds_the_pattern_and_passes_the_parenthesised_form() -> None:
    assert conditional_assertions("assert x == y if c else 'z'\n") == [1]
    assert conditional_assertions("assert x == (y if c else 'z')\n") == []


def test_no_assertion_of_the_suite_is_a_conditional_expression() -> None:
    found = {
        str(path.relative_to(TESTS)): lines
        for path in sorted(TESTS.rglob("*.py"))
        if "node_modules" not in path.parts
        and (lines := conditional_assertions(path.read_text(encoding="utf-8")))
    }
    assert found == {}
