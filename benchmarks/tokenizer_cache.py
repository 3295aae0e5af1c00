"""The tokenizer's cache (``search.tokenize.CACHE``) against the hand-written cache it replaced.

A reindex-like stream: each of 200,000 unique names once, then two brands and three products
drawn from a few thousand that repeat. Prints the best of six passes of each, and the load.

    python benchmarks/tokenizer_cache.py
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import cachetools

from search import tokenize
from search.tokenize import Analysed


class Generations:  # search/tokenize.py before the issue-15 review, as it was
    """A cache bounded by bytes that keeps what was used last, in two generations of plain
    dicts: new entries go to the young one; when it holds half the bytes, it becomes the old
    one and the old one is dropped; an old entry that is used again is copied to the young.

    An LRU cache (cachetools) did the same with a Python step per read to move the entry to
    the end, which cost a reindex more than the tokenizing it saved; here a read is one or two
    dict lookups. Each generation holds at most half the bytes, so both at most ``maxsize``.
    """

    def __init__(self, maxsize: int, getsizeof: Callable[[tuple[str, Analysed]], int]) -> None:
        self.maxsize = maxsize
        self.getsizeof = getsizeof
        self._young: dict[str, tuple[str, Analysed]] = {}
        self._old: dict[str, tuple[str, Analysed]] = {}
        self._young_bytes = 0
        self._old_bytes = 0
        # Writes change both generations and the byte counts, so they take the lock when the
        # app tokenizes in worker threads too. Reads do not: each is one atomic dict lookup.
        self._lock = threading.Lock()

    @property
    def currsize(self) -> int:
        return self._young_bytes + self._old_bytes

    def get(self, text: str) -> tuple[str, Analysed] | None:
        found = self._young.get(text)
        if found is None:
            found = self._old.get(text)
            if found is not None:
                self.put(found)
        return found

    def put(self, entry: tuple[str, Analysed]) -> None:
        cost = self.getsizeof(entry)
        if cost > self.maxsize // 2:
            return
        with self._lock:
            if self._young_bytes + cost > self.maxsize // 2:
                self._old, self._old_bytes = self._young, self._young_bytes
                self._young, self._young_bytes = {}, 0
            self._young[entry[0]] = entry
            self._young_bytes += cost

    def clear(self) -> None:
        with self._lock:
            self._young, self._old = {}, {}
            self._young_bytes = self._old_bytes = 0

    def __contains__(self, text: object) -> bool:
        return text in self._young or text in self._old

    def __len__(self) -> int:
        return len(self._young.keys() | self._old.keys())

    def values(self) -> list[tuple[str, Analysed]]:
        return [*self._old.values(), *self._young.values()]


def stream() -> list[str]:
    pick = random.Random(7)
    cjk = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]

    def word(length: int) -> str:
        return "".join(pick.choice(cjk) for _ in range(length))

    names = [word(pick.randint(6, 14)) + "有限公司" for _ in range(200_000)]
    brands = [word(2) for _ in range(5_000)]
    products = [word(4) for _ in range(3_000)]
    values = []
    for name in names:
        values.append(name)
        values += pick.choices(brands, k=2) + pick.choices(products, k=3)
    return values


class _Adapter:
    """``Generations`` behind the mapping interface ``search.tokenize`` uses now."""

    def __init__(self, cache: Generations) -> None:
        self.cache = cache

    def get(self, text: str) -> Any:
        return self.cache.get(text)

    def __setitem__(self, text: str, entry: Any) -> None:
        self.cache.put(entry)


def best(cache: Any, values: list[str], passes: int = 6) -> float:
    fastest = float("inf")
    for _ in range(passes):
        tokenize.CACHE = cache()
        started = time.perf_counter()
        for value in values:
            tokenize._analysed(value)
        fastest = min(fastest, time.perf_counter() - started)
    return fastest


def main() -> None:
    values = stream()
    print(f"{len(values):,} values; load {os.getloadavg()}")
    lru = best(
        lambda: cachetools.LRUCache(tokenize.CACHE_BYTES, getsizeof=tokenize.cache_cost), values
    )
    generations = best(
        lambda: _Adapter(Generations(tokenize.CACHE_BYTES, tokenize.cache_cost)), values
    )
    print(f"cachetools.LRUCache {lru:.2f} s, two generations {generations:.2f} s")
    print(f"load {os.getloadavg()}")


if __name__ == "__main__":
    main()
