"""The one tokenizer of every backend: Chinese-aware, in Python, so all backends agree.

Text becomes a sequence of *units*: each CJK character is a unit, and each run of other
letters and digits (lower-cased after NFKC, so ``ＴＣＬ`` and ``TCL`` are ``tcl``) is one.
Everything else separates.

- Index *tokens* are the units of a value plus the bigrams of every two consecutive CJK units
  in it: ``华为技术`` gives 华 为 技 术 华为 为技 技术. Consecutive, not adjacent: in ``华-为``
  the phrase 华为 occurs (its units follow each other), so the bigram 华为 is a token too, and
  a two-character phrase occurs in a value exactly when its bigram is one of the value's tokens.
- A query is a list of *phrases*, one per chunk between separators (``TCL科技 手机`` is the
  phrases ``tcl 科 技`` and ``手 机``). A phrase matches a field when its units occur there
  contiguously; a query matches a document when every phrase matches some field.
- The *query tokens* (bigrams of each CJK run, its unigram when it has one character, and the
  word units) are all in any document that matches, so backends find candidates with them
  and confirm with the phrases: a two-character query such as 华为 is one bigram lookup.
"""

from __future__ import annotations

import re
import sys
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import cachetools

# Elasticsearch's standard tokenizer cuts longer tokens; cutting them here keeps us equal.
MAX_UNIT_LENGTH = 255
MAX_QUERY_LENGTH = 100


def is_cjk(char: str) -> bool:
    """Han ideographs (with the extensions), kana and hangul: each character is a unit."""
    code = ord(char)
    return (
        0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x3FFFF
        or 0x3040 <= code <= 0x30FF
        or 0xAC00 <= code <= 0xD7AF
        or code == 0x3007
    )


@lru_cache(maxsize=4096)
def _fold(char: str) -> str:
    return unicodedata.normalize("NFKC", char).lower()


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit of text, with the span of the original string it came from."""

    text: str
    start: int
    end: int
    cjk: bool
    # Index of the chunk (the run between separators) the unit belongs to.
    chunk: int


def units(text: str) -> list[Unit]:
    """The units of ``text`` in order, with their spans in ``text``."""
    found: list[Unit] = []
    word: list[str] = []
    word_start = 0
    chunk = 0
    separated = True

    def close_word(end: int) -> None:
        nonlocal word
        if word:
            joined = "".join(word)
            for offset in range(0, len(joined), MAX_UNIT_LENGTH):
                piece = joined[offset : offset + MAX_UNIT_LENGTH]
                found.append(Unit(piece, word_start, end, False, chunk))
            word = []

    for position, raw in enumerate(text):
        for char in _fold(raw):
            if is_cjk(char):
                close_word(position)
                if separated and found:
                    chunk += 1
                separated = False
                found.append(Unit(char, position, position + 1, True, chunk))
            elif char.isalnum():
                if not word:
                    if separated and found:
                        chunk += 1
                    separated = False
                    word_start = position
                word.append(char)
            else:
                close_word(position)
                separated = True
    close_word(len(text))
    return found


def unit_texts(text: str) -> list[str]:
    return list(_analysed(text)[0])


def _run_tokens(run: list[str]) -> list[str]:
    """Query tokens of a run of adjacent CJK characters: its bigrams, or its one character."""
    bigrams = [run[i] + run[i + 1] for i in range(len(run) - 1)]
    return bigrams or run


def _value_tokens(found: list[Unit]) -> frozenset[str]:
    """Index tokens of one value: its units and the bigrams of consecutive CJK units."""
    tokens = {unit.text for unit in found}
    tokens.update(
        found[i].text + found[i + 1].text
        for i in range(len(found) - 1)
        if found[i].cjk and found[i + 1].cjk
    )
    return frozenset(tokens)


def _query_tokens(found: list[Unit]) -> list[str]:
    tokens: list[str] = []
    run: list[str] = []
    previous: Unit | None = None
    for unit in found:
        adjacent = previous is not None and previous.cjk and previous.end == unit.start
        if not unit.cjk or not adjacent:
            tokens += _run_tokens(run)
            run = []
        if unit.cjk:
            run.append(unit.text)
        else:
            tokens.append(unit.text)
        previous = unit
    tokens += _run_tokens(run)
    return tokens


Analysed = tuple[tuple[str, ...], frozenset[str]]

# Brands, product names, categories and hazards repeat across records, and a document uses
# each of its values three or four times (tokens, stored units, Elasticsearch fields): a reindex
# spends most of its time here without the cache. It is bounded by bytes, not entries: 65,536
# entries of long hazards and addresses held about 290 MB per process for good.
CACHE_BYTES = 32 * 2**20
# What the cache spends on an entry besides the strings (its dict slots), and an
# upper bound of a str object's header (``sys.getsizeof("华")`` is 76).
_ENTRY_OVERHEAD = 200
_STR_HEADER = 80


def cache_cost(entry: tuple[str, Analysed]) -> int:
    """An upper bound of the bytes an entry (the text and its analysis) keeps alive.

    Estimated, not summed string by string (that cost as much as the analysis): units hold at
    most the text's characters, tokens at most three times as many (each CJK character is a
    unigram and in two bigrams), and a character takes at most 4 bytes.
    """
    text, (found, tokens) = entry
    return (
        _ENTRY_OVERHEAD
        + sys.getsizeof(text)
        + sys.getsizeof(found)
        + sys.getsizeof(tokens)
        + _STR_HEADER * (len(found) + len(tokens))
        + 4 * 4 * len(text)
    )


# Text -> (text, analysis): the entry holds the text so that its cost counts the key too.
# Least recently used out first, bounded by bytes. A hand-written cache of two generations of
# dicts stood here; on a reindex-like stream (1.2M values: 200,000 unique names, brands and
# products that repeat) it took 4.51 s where this one, with its lock, took 4.10 s (load 2.0
# on 2 cores), and 7.64 s against 6.57 s under load 4-5 (``benchmarks/tokenizer_cache.py``).
CACHE: cachetools.LRUCache[str, tuple[str, Analysed]] = cachetools.LRUCache(
    CACHE_BYTES, getsizeof=cache_cost
)
# Every read reorders the cache: reads and writes take the lock when the app tokenizes in
# worker threads too.
_CACHE_LOCK = threading.Lock()


def _analysed(text: str) -> Analysed:
    """The unit texts and the index tokens of one value."""
    with _CACHE_LOCK:
        found = CACHE.get(text)
    if found is not None:
        return found[1]
    analysed = _analysed_plain(text) or _analysed_any(text)
    entry = (text, analysed)
    if cache_cost(entry) <= CACHE_BYTES // 2:  # one value never takes half the cache
        with _CACHE_LOCK:
            CACHE[text] = entry
    return analysed


def _analysed_any(text: str) -> Analysed:
    found = units(text)
    return tuple(unit.text for unit in found), _value_tokens(found)


# Text of ASCII and basic CJK ideographs only (most names and products): NFKC leaves every
# character as it is and lower-casing changes only A-Z, so regular expressions give the units
# and tokens ``units`` would, without a Python step per character.
_PLAIN = re.compile(r"[\x00-\x7f\u4e00-\u9fff]*")
_PLAIN_UNIT = re.compile(r"[\u4e00-\u9fff]|[a-z0-9]+")
# Two consecutive units that are both CJK: with nothing but separators between them.
_PLAIN_PAIR = re.compile(r"(?=([\u4e00-\u9fff])[^\u4e00-\u9fffa-z0-9]*([\u4e00-\u9fff]))")


def _analysed_plain(text: str) -> Analysed | None:
    """``_analysed_any`` of plain text, or None for other text (and overlong words)."""
    if not _PLAIN.fullmatch(text):
        return None
    text = text.lower()
    found = _PLAIN_UNIT.findall(text)
    if any(len(unit) > MAX_UNIT_LENGTH for unit in found):
        return None
    tokens = set(found)
    tokens.update(first + second for first, second in _PLAIN_PAIR.findall(text))
    return tuple(found), frozenset(tokens)


def value_tokens(text: str) -> frozenset[str]:
    """The index tokens of one value."""
    return _analysed(text)[1]


def index_tokens(*texts: str) -> list[str]:
    """The distinct tokens of ``texts``, sorted: what an index stores for a document."""
    found: set[str] = set()
    for text in texts:
        found.update(_analysed(text)[1])
    return sorted(found)


def field_units(values: list[str]) -> str:
    """A field's units as the SQL backends store them: `` a b | c `` (values apart by ``|``).

    A phrase ``x y`` occurs in the field exactly when `` x y `` is a substring of this.
    """
    return " " + " | ".join(" ".join(unit_texts(value)) for value in values) + " "


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    """What a query means to every backend."""

    text: str
    phrases: tuple[tuple[str, ...], ...]
    tokens: tuple[str, ...]

    @property
    def key(self) -> str:
        """All units in order: a field whose units are exactly these equals the query."""
        return " ".join(unit for phrase in self.phrases for unit in phrase)

    def pattern(self, phrase: tuple[str, ...]) -> str:
        """The substring of ``field_units`` that shows ``phrase`` occurs."""
        return " " + " ".join(phrase) + " "


def parse_query(text: str) -> ParsedQuery:
    """Phrases and tokens of a query; no phrases when it has no letter, digit or CJK."""
    found = units(text)
    phrases: dict[tuple[str, ...], None] = {}
    current: list[str] = []
    chunk = -1
    for unit in found:
        if unit.chunk != chunk and current:
            phrases[tuple(current)] = None
            current = []
        chunk = unit.chunk
        current.append(unit.text)
    if current:
        phrases[tuple(current)] = None
    tokens = dict.fromkeys(_query_tokens(found))
    return ParsedQuery(text=text, phrases=tuple(phrases), tokens=tuple(tokens))
