"""The partner of W1p: a real OAuth client of the hub, its bearer tokens, and the hub's keys.

The client is made as an operator makes one (`hub clients create`), its tokens come from the
hub's token endpoint (client credentials), and they are the hub's own ES256 JWT access tokens.
PostGraphile verifies the very same tokens against the hub's published keys (its JWKS, saved to
a file for ``peers/graphile.config.mjs``), so both servers check the same kind of token on every
request: the hub its signature, claims and client standing, PostGraphile its signature and
claims, before switching to the partner's database role.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks.compare.loadtime import hub_command
from benchmarks.compare.postgres import Server

SCOPES = ("credit:read", "licences:read", "quality:read", "recalls:read")
"""What a ministry reading credit files is granted: every field of W1, no personal data."""


@dataclass(frozen=True, slots=True)
class PartnerClient:
    client_id: str
    client_secret: str

    def token(self, hub: str) -> str:
        """A fresh access token from the hub at ``hub`` (its base URL)."""
        answer = httpx.post(
            f"{hub}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(self.client_id, self.client_secret),
            timeout=30,
        )
        if answer.status_code != 200:
            raise RuntimeError(f"the hub refused the partner a token: {answer.text[:300]}")
        token: str = answer.json()["access_token"]
        return token

    def authorization(self, hub: str) -> str:
        return f"Bearer {self.token(hub)}"


def create_client(server: Server, database: str) -> PartnerClient:
    """A partner client in the benchmark database, made with `hub clients create`."""
    scopes = [argument for scope in SCOPES for argument in ("--scope", scope)]
    printed = hub_command(
        "clients",
        "create",
        "--name",
        "benchmarks/run partner",
        "--tier",
        "partner",
        *scopes,
        database_url=server.sqlalchemy_url(database),
    )
    issued = json.loads(printed)
    return PartnerClient(issued["client_id"], issued["client_secret"])


def save_jwks(hub: str, path: Path) -> Path:
    """The hub's published keys (``/.well-known/jwks.json``), for PostGraphile to trust."""
    answer = httpx.get(f"{hub}/.well-known/jwks.json", timeout=30)
    answer.raise_for_status()
    keys = answer.json()
    if not keys.get("keys"):
        raise RuntimeError(f"the hub publishes no keys: {answer.text[:300]}")
    path.write_text(json.dumps(keys))
    return path
