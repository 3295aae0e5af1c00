"""The public contract does not break by accident: graphql-inspector against the last release."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import graphql

from tests.federation.peers import ROOT, inspector_diff

RELEASED = ROOT / "schema" / "released" / "public.graphql"
CURRENT = ROOT / "schema" / "public.graphql"
RECORD = ROOT / "schema" / "released" / "deliberate-breaking-changes.json"


def _without_field(type_name: str, field_name: str, directory: Path) -> Path:
    """The current public schema with one field removed: a breaking change."""

    class Remove(graphql.Visitor):
        def enter_field_definition(
            self, node: graphql.FieldDefinitionNode, _key: Any, _parent: Any, _path: Any,
            ancestors: list[Any],
        ) -> object:  # fmt: skip
            owner = ancestors[-1]
            if node.name.value == field_name and owner.name.value == type_name:
                return graphql.REMOVE
            return None

    document = graphql.visit(graphql.parse(CURRENT.read_text(encoding="utf-8")), Remove())
    path = directory / "public.graphql"
    path.write_text(graphql.print_ast(document), encoding="utf-8")
    return path


def _record(directory: Path, *entries: dict[str, str]) -> Path:
    """The committed record plus ``entries``: the breaks already recorded stay declared."""
    committed = json.loads(RECORD.read_text(encoding="utf-8"))
    path = directory / "deliberate-breaking-changes.json"
    path.write_text(json.dumps([*committed, *entries]), encoding="utf-8")
    return path


def test_the_public_schema_breaks_nothing_undeclared_since_the_last_release() -> None:
    done = inspector_diff(RELEASED, CURRENT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_removed_field_fails_the_check(tmp_path: Path) -> None:
    broken = _without_field("Enterprise", "creditGrade", tmp_path)
    done = inspector_diff(RELEASED, broken, record=_record(tmp_path))
    assert done.returncode == 1
    assert "Field creditGrade was removed from object type Enterprise" in done.stdout
    assert "Detected 1 breaking change" in done.stdout + done.stderr


def test_a_recorded_break_passes(tmp_path: Path) -> None:
    broken = _without_field("Enterprise", "creditGrade", tmp_path)
    record = _record(
        tmp_path,
        {"type": "FIELD_REMOVED", "path": "Enterprise.creditGrade", "reason": "moved to credit"},
    )
    done = inspector_diff(RELEASED, broken, record=record)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No breaking changes detected" in done.stdout


def test_a_record_that_matches_nothing_fails_the_check(tmp_path: Path) -> None:
    record = _record(
        tmp_path,
        {"type": "FIELD_REMOVED", "path": "Enterprise.creditGrade", "reason": "moved to credit"},
    )
    done = inspector_diff(RELEASED, CURRENT, record=record)
    assert done.returncode == 1
    assert "no breaking change matches FIELD_REMOVED Enterprise.creditGrade" in done.stderr


def test_a_record_without_a_reason_fails_the_check(tmp_path: Path) -> None:
    broken = _without_field("Enterprise", "creditGrade", tmp_path)
    record = _record(tmp_path, {"type": "FIELD_REMOVED", "path": "Enterprise.creditGrade"})
    done = inspector_diff(RELEASED, broken, record=record)
    assert done.returncode == 1
    assert "every entry needs a type, a path and a reason" in done.stderr
