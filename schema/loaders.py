"""Building blocks for the per-request DataLoaders of every subgraph."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

K = TypeVar("K", bound=Hashable)
G = TypeVar("G", bound=Hashable)
V = TypeVar("V")


class SharedLoader(DataLoader[K, V]):
    """A DataLoader whose cached futures no caller can cancel for the others.

    The same key is loaded by fields at several places of one document (an enterprise's
    blacklist entries, and its licences' enterprise's). When a field fails so that its parent
    becomes null, graphql-core cancels the parent's other fields; a field awaiting the loader's
    own future would cancel that future, and every other field awaiting the same key would get
    a CancelledError, which is no GraphQL error and escapes the request. Each caller awaits a
    shield of the future instead: a cancelled caller lets go of it, and the others still get
    the value.
    """

    def load(self, key: K) -> Awaitable[V]:
        return asyncio.shield(super().load(key))


def keyed(
    fetch: Callable[[list[K]], Awaitable[dict[K, V]]], missing: Any = None
) -> DataLoader[K, Any]:
    """One statement for all keys asked for in a tick; a key not found loads ``missing``."""

    async def load(keys: Sequence[K]) -> list[Any]:
        found = await fetch(list(dict.fromkeys(keys)))
        return [found.get(key, missing) for key in keys]

    return SharedLoader(load_fn=load)


def grouped(fetch: Callable[[list[K], G], Awaitable[dict[K, V]]]) -> DataLoader[tuple[K, G], V]:
    """Keys are (parent, arguments): one statement per distinct arguments, not per parent.

    In practice every parent in a GraphQL list asks with the same arguments, so a page of a
    hundred enterprises' licences is one statement.
    """

    async def load(keys: Sequence[tuple[K, G]]) -> list[V]:
        by_arguments: dict[G, list[K]] = defaultdict(list)
        for parent, arguments in keys:
            by_arguments[arguments].append(parent)
        results: dict[tuple[K, G], V] = {}
        for arguments, parents in by_arguments.items():
            found = await fetch(list(dict.fromkeys(parents)), arguments)
            for parent in parents:
                results[(parent, arguments)] = found[parent]
        return [results[key] for key in keys]

    return SharedLoader(load_fn=load)
