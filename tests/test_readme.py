"""The README's example queries, run against the demo data they promise to find something in."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.app import create_app
from hub.config import Settings
from hub.db import create_engine, create_sessionmaker
from hub.demo.seed import seed
from hub.migrate import upgrade
from search.indexer import reindex
from search.outbox import EMBEDDED

README = Path(__file__).resolve().parents[1] / "README.md"


def _examples() -> list[str]:
    """Each top-level `{ ... }` document of the README's first graphql block."""
    block = re.search(r"```graphql\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert block is not None
    documents, depth, current = [], 0, ""
    for line in block.group(1).splitlines():
        if not current and not line.startswith("{"):
            continue
        current += line + "\n"
        depth += line.count("{") - line.count("}")
        if depth == 0:
            documents.append(current)
            current = ""
    return documents


EXAMPLES = _examples()


@pytest.fixture(scope="module")
async def demo_client(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[httpx.AsyncClient]:
    folder = tmp_path_factory.mktemp("readme")
    engine = create_engine(f"sqlite+aiosqlite:///{folder / 'hub.db'}")
    await upgrade(engine)
    await seed(engine, enterprises=2000, as_of=date.today())
    maker = create_sessionmaker(engine)
    await reindex(maker, EMBEDDED)
    app = create_app(Settings(signing_key_path=folder / "key.pem"), sessionmaker=maker)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub.test"
    ) as client:
        yield client
    await engine.dispose()


def test_the_readme_has_its_examples() -> None:
    assert len(EXAMPLES) == 14


def _sizes(data: Any) -> list[int]:
    """The lengths of every list in an answer: an example must find something."""
    if isinstance(data, dict):
        return [n for value in data.values() for n in _sizes(value)]
    if isinstance(data, list):
        return [len(data), *(n for item in data for n in _sizes(item))]
    return []


@pytest.mark.parametrize("document", EXAMPLES, ids=[f"example-{i}" for i in range(len(EXAMPLES))])
async def test_example_answers_with_data(demo_client: httpx.AsyncClient, document: str) -> None:
    response = await demo_client.post("/graphql", json={"query": document})
    assert response.status_code == 200
    answer = response.json()
    assert "errors" not in answer, answer
    (root,) = answer["data"].values()
    assert root is not None, document
    if isinstance(root, dict) and any(k in root for k in ("nodes", "edges")):
        assert _sizes(root)[0] > 0, (document, root)
    if isinstance(root, list):
        assert root, document
