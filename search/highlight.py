"""Highlights: where a query's phrases occur in a hit's fields, computed the same for every
backend from the original text, so what is marked is exactly what matched."""

from __future__ import annotations

import html
from dataclasses import dataclass
from functools import lru_cache

from search.tokenize import ParsedQuery, Unit, units

FRAGMENT_LENGTH = 80
OPEN, CLOSE = "<em>", "</em>"


@dataclass(frozen=True, slots=True)
class Highlight:
    field: str
    fragments: list[str]


@dataclass(frozen=True, slots=True)
class _Units:
    """A value's units, their texts, and where each text occurs (a phrase is looked for only
    where its first unit is)."""

    units: tuple[Unit, ...]
    texts: tuple[str, ...]
    starts: dict[str, tuple[int, ...]]


@lru_cache(maxsize=4096)
def _units(value: str) -> _Units:
    """The units of a value, kept for the values shown again (brands, products, categories):
    a page's highlights split about a hundred values."""
    found = tuple(units(value))
    starts: dict[str, list[int]] = {}
    for position, unit in enumerate(found):
        starts.setdefault(unit.text, []).append(position)
    return _Units(
        found,
        tuple(unit.text for unit in found),
        {text: tuple(positions) for text, positions in starts.items()},
    )


def _spans(value: str, query: ParsedQuery) -> list[tuple[int, int]]:
    """Character spans of ``value`` covered by an occurrence of a phrase, merged."""
    found = _units(value)
    spans: list[tuple[int, int]] = []
    for phrase in query.phrases:
        size = len(phrase)
        for start in found.starts.get(phrase[0], ()):
            if found.texts[start : start + size] == phrase:
                spans.append((found.units[start].start, found.units[start + size - 1].end))
    if len(spans) < 2:
        return spans
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def mark(value: str, spans: list[tuple[int, int]]) -> str:
    """``value`` HTML-escaped, the spans in <em>, cut to a window around the first one."""
    window_start = 0
    window_end = len(value)
    if len(value) > FRAGMENT_LENGTH:
        window_start = max(0, spans[0][0] - FRAGMENT_LENGTH // 4)
        window_end = min(len(value), window_start + FRAGMENT_LENGTH)
    parts: list[str] = ["…" if window_start > 0 else ""]
    position = window_start
    for start, end in spans:
        if start >= window_end:
            break
        parts.append(html.escape(value[position:start]))
        parts.append(OPEN + html.escape(value[start : min(end, window_end)]) + CLOSE)
        position = min(end, window_end)
    parts.append(html.escape(value[position:window_end]))
    parts.append("…" if window_end < len(value) else "")
    return "".join(parts)


def highlights(
    texts: dict[str, list[str]], query: ParsedQuery, fields: tuple[str, ...]
) -> list[Highlight]:
    """For each field (in profile order) with a match, its values that match, marked."""
    found: list[Highlight] = []
    for name in fields:
        fragments = [
            mark(value, spans) for value in texts.get(name, []) if (spans := _spans(value, query))
        ]
        if fragments:
            found.append(Highlight(field=name, fragments=fragments))
    return found
