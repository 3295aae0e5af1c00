"""``hub keys`` list, rotate and retire, on a migrated SQLite file."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from hub.auth.keys import SigningKey, load_or_create, new_signing_key
from hub.cli import main
from hub.config import get_settings

DELAY = "HUB_SIGNING_KEY_ACTIVATION_DELAY_SECONDS"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A migrated SQLite database and a key file, which ``hub`` uses through HUB_ variables."""
    path = tmp_path / "hub.db"
    monkeypatch.setenv("HUB_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.setenv("HUB_SIGNING_KEY_PATH", str(tmp_path / "signing-key.pem"))
    monkeypatch.delenv(DELAY, raising=False)
    get_settings.cache_clear()
    upgraded = CliRunner().invoke(main, ["db", "upgrade"], catch_exceptions=False)
    assert upgraded.exit_code == 0, upgraded.output
    yield path
    get_settings.cache_clear()


@pytest.fixture
def file_key(tmp_path: Path, database: Path) -> SigningKey:
    """The key the hub signed with before its keys were kept in the database."""
    return load_or_create(tmp_path / "signing-key.pem")


def hub(*arguments: str) -> Result:
    return CliRunner().invoke(main, list(arguments), catch_exceptions=False)


def answer(*arguments: str) -> Any:
    result = hub(*arguments)
    assert result.exit_code == 0, result.output
    assert "PRIVATE KEY" not in result.output
    return json.loads(result.stdout)


def refusal(*arguments: str) -> str:
    result = hub(*arguments)
    assert (result.exit_code, result.stdout) == (1, ""), result.output
    assert "Traceback" not in result.output
    return result.stderr


def retire(kid: str, *options: str) -> tuple[str, ...]:
    """The arguments of ``hub keys retire``: a kid may start with '-', so it goes after '--'."""
    return ("keys", "retire", *options, "--", kid)


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def stored(database: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(database) as connection:
        return connection.execute(
            "SELECT serial, kid, private_pem IS NOT NULL, retired_at IS NOT NULL"
            " FROM signing_key ORDER BY serial"
        ).fetchall()


def test_list_is_empty_before_the_first_key(database: Path) -> None:
    assert answer("keys", "list") == []


def test_rotate_needs_the_key_the_hub_signs_with(database: Path, tmp_path: Path) -> None:
    assert refusal("keys", "rotate") == (
        f"Error: no signing key in the database yet, and none at {tmp_path / 'signing-key.pem'}: "
        "start the hub once, or set HUB_SIGNING_KEY_PATH to the key it signs with\n"
    )
    assert stored(database) == []


def test_rotate_imports_the_key_file_and_adds_a_key_that_signs_after_the_delay(
    database: Path, file_key: SigningKey
) -> None:
    # when
    new = answer("keys", "rotate")

    # then
    assert sorted(new) == [
        "activates_at",
        "alg",
        "created_at",
        "kid",
        "retirable_at",
        "retired_at",
        "signing_until",
        "state",
    ]
    assert (new["alg"], new["state"], new["signing_until"], new["retired_at"]) == (
        "ES256",
        "pending",
        None,
        None,
    )
    assert at(new["activates_at"]) - at(new["created_at"]) == timedelta(hours=1)
    listed = answer("keys", "list")
    assert [(key["kid"], key["state"]) for key in listed] == [
        (file_key.kid, "signing"),
        (new["kid"], "pending"),
    ]
    old = listed[0]
    assert old["signing_until"] == new["activates_at"]
    assert at(old["retirable_at"]) - at(new["activates_at"]) == timedelta(seconds=300 + 30)
    assert stored(database) == [(1, file_key.kid, 1, 0), (2, new["kid"], 1, 0)]


def test_a_waiting_rotation_refuses_another_and_can_be_called_off(
    database: Path, file_key: SigningKey
) -> None:
    # given
    pending = answer("keys", "rotate")

    # then
    assert refusal("keys", "rotate") == (
        f"Error: key {pending['kid']} is already waiting to sign from "
        f"{pending['activates_at']}; rotate again after that, or retire it\n"
    )

    # when: the waiting key is retired, it never signs, and a new rotation may start
    retired = answer(*retire(pending["kid"]))
    assert (retired["kid"], retired["state"], retired["retirable_at"]) == (
        pending["kid"],
        "retired",
        None,
    )
    assert at(retired["retired_at"]) >= at(pending["created_at"])
    assert answer("keys", "rotate")["state"] == "pending"
    assert stored(database) == [
        (1, file_key.kid, 1, 0),
        (2, pending["kid"], 0, 1),
        (3, stored(database)[2][1], 1, 0),
    ]


def test_retire_refuses_the_signing_key_and_live_tokens_unless_forced(
    database: Path, file_key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a rotation with no delay: the new key signs at once
    monkeypatch.setenv(DELAY, "0")
    get_settings.cache_clear()
    new = answer("keys", "rotate")
    assert new["state"] == "signing"

    # then: the new key is never retired; the old one only by force while its tokens may live
    for force in ((), ("--force",)):
        assert refusal(*retire(new["kid"], *force)) == (
            f"Error: key {new['kid']} signs the tokens issued now; rotate first, and retire it "
            "once the new key signs and its tokens have expired\n"
        )
    old = answer("keys", "list")[0]
    assert (old["kid"], old["state"], old["signing_until"]) == (
        file_key.kid,
        "verifying",
        new["activates_at"],
    )
    assert refusal(*retire(file_key.kid)) == (
        f"Error: tokens signed with key {file_key.kid} may be live until {old['retirable_at']}; "
        "retire it then, or pass --force to refuse them from now on\n"
    )

    # when
    retired = answer(*retire(file_key.kid, "--force"))

    # then: out of the JWKS, its private key erased
    assert (retired["kid"], retired["state"]) == (file_key.kid, "retired")
    assert stored(database) == [(1, file_key.kid, 0, 1), (2, new["kid"], 1, 0)]
    assert refusal(*retire(file_key.kid)) == (
        f"Error: key {file_key.kid} was retired at {retired['retired_at']}\n"
    )


def test_retiring_an_unknown_key_is_a_clear_error(database: Path) -> None:
    assert refusal("keys", "retire", "no-such-kid") == "Error: no signing key no-such-kid\n"


def test_a_kid_that_starts_with_a_dash_is_a_kid_not_an_option(
    database: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: the key file holds a key whose kid starts with '-' (one in 64 does) and holds an
    # 'h' (which a short option cluster would read as -h), superseded
    dashed = new_signing_key()
    while not dashed.kid.startswith("-") or "h" not in dashed.kid:  # -h, the help of others
        dashed = new_signing_key()
    (tmp_path / "signing-key.pem").write_text(dashed.private_pem())
    monkeypatch.setenv(DELAY, "0")
    get_settings.cache_clear()
    answer("keys", "rotate")

    # when: the kid is given as is, before or after the option
    refused = refusal("keys", "retire", dashed.kid)
    retired = answer("keys", "retire", "--force", dashed.kid)

    # then
    assert refused.startswith(f"Error: tokens signed with key {dashed.kid} may be live until ")
    assert (retired["kid"], retired["state"]) == (dashed.kid, "retired")
