"""``hub clients`` create, list, revoke and rotate-secret, on a migrated SQLite file."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from hub.auth.credentials import hash_secret
from hub.cli import main
from hub.config import get_settings


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A migrated SQLite database that ``hub`` uses through HUB_DATABASE_URL."""
    path = tmp_path / "hub.db"
    monkeypatch.setenv("HUB_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    get_settings.cache_clear()
    upgraded = CliRunner().invoke(main, ["db", "upgrade"], catch_exceptions=False)
    assert upgraded.exit_code == 0, upgraded.output
    yield path
    get_settings.cache_clear()


def hub(*arguments: str) -> Result:
    return CliRunner().invoke(main, list(arguments), catch_exceptions=False)


def created(*arguments: str) -> dict[str, Any]:
    result = hub("clients", "create", *arguments)
    assert result.exit_code == 0, result.output
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def stored(database: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(database) as connection:
        return connection.execute(
            "SELECT client_id, name, tier, scope, secret_hash, revoked_at IS NOT NULL,"
            " secret_rotated_at IS NOT NULL FROM oauth_client ORDER BY created_at"
        ).fetchall()


def test_create_prints_the_credentials_once_and_stores_a_hash(database: Path) -> None:
    client = created(
        "--name", "Ministry of Commerce", "--tier", "partner",
        "--scope", "credit:read", "--scope", "licences:read",
    )  # fmt: skip

    assert sorted(client) == [
        "client_id",
        "client_secret",
        "created_at",
        "name",
        "revoked_at",
        "scopes",
        "secret_rotated_at",
        "tier",
    ]
    assert client["client_id"].startswith("qch_")
    assert client["client_secret"].startswith("qchs_") and len(client["client_secret"]) == 48
    assert (client["name"], client["tier"], client["scopes"]) == (
        "Ministry of Commerce",
        "partner",
        ["credit:read", "licences:read"],
    )
    assert (client["revoked_at"], client["secret_rotated_at"]) == (None, None)
    assert stored(database) == [
        (
            client["client_id"],
            "Ministry of Commerce",
            "PARTNER",
            "credit:read licences:read",
            hash_secret(client["client_secret"]),
            0,
            0,
        )
    ]


def test_create_an_internal_client(database: Path) -> None:
    client = created("--name", "SAMR analytics", "--tier", "internal")
    assert (client["tier"], client["scopes"]) == ("internal", [])


def test_list_shows_every_client_without_secrets(database: Path) -> None:
    first = created("--name", "Ministry of Commerce", "--tier", "partner", "--scope", "credit:read")
    second = created("--name", "SAMR analytics", "--tier", "internal")
    assert hub("clients", "revoke", second["client_id"]).exit_code == 0

    result = hub("clients", "list")

    assert result.exit_code == 0
    listed = json.loads(result.stdout)
    assert [(c["client_id"], c["tier"], c["revoked_at"] is None) for c in listed] == [
        (first["client_id"], "partner", True),
        (second["client_id"], "internal", False),
    ]
    assert "client_secret" not in result.stdout
    assert first["client_secret"] not in result.stdout


def test_revoke(database: Path) -> None:
    client = created("--name", "Ministry of Commerce", "--tier", "partner")

    result = hub("clients", "revoke", client["client_id"])

    assert result.exit_code == 0
    assert json.loads(result.stdout)["revoked_at"] is not None
    assert [row[5] for row in stored(database)] == [1]


def test_rotate_secret(database: Path) -> None:
    client = created("--name", "Ministry of Commerce", "--tier", "partner")

    result = hub("clients", "rotate-secret", client["client_id"])

    assert result.exit_code == 0
    rotated = json.loads(result.stdout)
    assert rotated["client_id"] == client["client_id"]
    assert rotated["client_secret"] != client["client_secret"]
    assert rotated["secret_rotated_at"] is not None
    [row] = stored(database)
    assert (row[4], row[6]) == (hash_secret(rotated["client_secret"]), 1)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["create", "--name", "  ", "--tier", "partner"],
            "Error: Invalid value for 'name': must not be empty",
        ),
        (
            ["create", "--name", "x" * 201, "--tier", "partner"],
            "Error: Invalid value for 'name': at most 200 characters",
        ),
        (
            ["create", "--name", "Press office", "--tier", "public"],
            "Error: Invalid value for 'tier': must be one of partner, internal",
        ),
        (
            ["create", "--name", "M", "--tier", "partner", "--scope", "credit:write"],
            "Error: Invalid value for 'scope': unknown scope(s) credit:write; known scopes: "
            "complaints:read, credit:read, licences:read, personal:read, quality:read, "
            "recalls:read",
        ),
        (["revoke", "qch_nobody"], "Error: no client 'qch_nobody'"),
        (["rotate-secret", "qch_nobody"], "Error: no client 'qch_nobody'"),
    ],
)
def test_invalid_input_is_a_clear_error(database: Path, arguments: list[str], message: str) -> None:
    result = hub("clients", *arguments)

    assert (result.exit_code, result.stdout, result.stderr) == (1, "", message + "\n")
    assert stored(database) == []


def test_a_revoked_client_cannot_be_revoked_or_rotated_again(database: Path) -> None:
    client = created("--name", "Ministry of Commerce", "--tier", "partner")
    hub("clients", "revoke", client["client_id"])

    for command in ("revoke", "rotate-secret"):
        result = hub("clients", command, client["client_id"])
        assert result.exit_code == 1
        assert result.stderr.startswith(
            f"Error: Invalid value for 'client_id': client '{client['client_id']}' was revoked at "
        )


def test_an_unmigrated_database_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    try:
        result = hub("clients", "list")
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: database error (is the database migrated? try 'hub db upgrade'): "
    )
    assert "Traceback" not in result.output
