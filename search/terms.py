"""The terms of the embedded index: what a document stores in ``tokens``, and what a search asks.

One column of terms under one index (a GIN index on PostgreSQL, FTS5 on SQLite) answers the
text, the filters and the sample of a search at once, so that a search reads only the rows it
returns or counts. Every term has a prefix that no token of the tokenizer can have (tokens hold
only letters, digits and CJK characters, never ``:``):

- ``<f>:<token>``: a token of field ``f`` (its position in the kind's profile); recalls' and
  warnings' text terms have a namespace (``r0:``, ``w0:``, ``rx:``...), kept apart. A phrase of
  one unit, or of two CJK units, occurs in field ``f`` exactly when its token there is a term;
  a longer phrase needs all of its tokens there, and is confirmed against the field's units.
- ``x:<unit>`` and ``x:<unit><unit>``: the primary field starts with that unit (those two CJK
  units): what the prefix bonus needs.
- ``e:<digest>``: the primary field is exactly these units: what the exact bonus needs.
- Attributes the filters ask for: ``r:44``, ``r:4403``, ``r:440305`` (each level of the region
  code), ``i:`` industry, ``g:`` credit grade (``g:-`` for none), ``s:`` status, ``k:`` recall
  kind, ``v:`` severity, ``c:`` a digest of a category (free text, any characters).
- Facts that change with time, true at the moment the document was built: ``p:1``/``p:0``
  (published), and for enterprises ``b:1``/``b:0`` (a blacklist listing in force) and
  ``l:1``/``l:0`` (a valid licence). ``flags_until`` says when the first of them changes; a row
  past it is judged by the live tables instead (``search.embedded``) until the relay rebuilds it.
- ``h:<j>``: the record is in the first ``BUCKETS >> j`` of ``BUCKETS`` buckets, by a hash of
  its id that has nothing to do with its text: the matches with ``h:<j>`` are a uniform sample
  of all matches, about one in ``2 ** j``, for ``j`` from 1 to ``LEVELS``.

The attributes and facts (``tallied``, the region at its first level) are also what a tally of
a frequent word counts its rows by (``search.embedded_tally``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from hub.kit.codes import region_prefix
from hub.kit.repository import PUBLISHED as PUBLISHED_WINDOW
from search.documents import PROFILES, Document, Kind
from search.tokenize import is_cjk, unit_texts, value_tokens

LEVELS = 10
BUCKETS = 1 << LEVELS


# Text terms of each kind apart: a recall's title holds its producer's name, and a search of
# enterprises must not read recalls to find it. Enterprises' terms have no namespace.
NAMESPACES: dict[Kind, str] = {Kind.ENTERPRISE: "", Kind.RECALL: "r", Kind.WARNING: "w"}


def field_term(field: int, token: str, namespace: str = "") -> str:
    return f"{namespace}{field}:{token}"


def digest(text: str) -> str:
    """A short digest of free text, as a term: hex only, whatever the text holds."""
    return hashlib.blake2b(text.encode(), digest_size=10).hexdigest()


def bucket(ref_id: int) -> int:
    """The record's sample bucket: Fibonacci hashing spreads consecutive ids evenly."""
    return ((ref_id * 0x9E3779B1) & 0xFFFFFFFF) * BUCKETS >> 32


def level_term(level: int) -> str:
    return f"h:{level}"


def in_level(ref_id: int, level: int) -> bool:
    """Whether the record is in sample level ``level`` (level 0: every record)."""
    return bucket(ref_id) < BUCKETS >> level


def sample_terms(ref_id: int) -> list[str]:
    return [level_term(level) for level in range(1, LEVELS + 1) if in_level(ref_id, level)]


def prefix_terms(units: list[str] | tuple[str, ...], namespace: str = "") -> list[str]:
    """The prefix terms of a value's (or a phrase's) units."""
    if not units:
        return []
    found = [f"{namespace}x:{units[0]}"]
    if len(units) > 1 and _is_cjk_unit(units[0]) and _is_cjk_unit(units[1]):
        found.append(f"{namespace}x:{units[0]}{units[1]}")
    return found


def exact_term(units: list[str] | tuple[str, ...], namespace: str = "") -> str:
    return f"{namespace}e:{digest(' '.join(units))}"


def region_terms(code: str) -> list[str]:
    """A region code's terms, one per level: province, city, county."""
    return [f"r:{code[:2]}", f"r:{code[:4]}", f"r:{code}"]


def region_term(code: str) -> str:
    """The term of every region inside division ``code``: one of ``region_terms``."""
    return f"r:{region_prefix(code)}"


def grade_term(grade: str | None) -> str:
    return f"g:{grade or '-'}"


def category_term(category: str) -> str:
    return f"c:{digest(category)}"


def flag_term(name: str, value: bool) -> str:
    return f"{name}:{1 if value else 0}"


PUBLISHED = "p"
BLACKLISTED = "b"
VALID_LICENCE = "l"

# Terms a row also carries as a bit of ``search_document.marks``: the absence asked by almost
# every search (not unpublished, not blacklisted) is a test of a small integer there, where
# the terms took a scan of the row's whole term array (at 1M, 20 ms of 45 for 广东 食品's
# 3,445 rows). Rare terms each: most rows have no bit set.
MARKS: dict[str, int] = {flag_term(PUBLISHED, False): 1, flag_term(BLACKLISTED, True): 2}


def marks_of(tokens: Sequence[str]) -> int:
    """A row's ``marks``: the bits of the ``MARKS`` terms among its ``tokens``."""
    return sum(bit for term, bit in MARKS.items() if term in tokens)


def without_marks(terms: Sequence[str]) -> list[int]:
    """The values of ``marks`` of the rows that have none of ``terms`` (``MARKS`` terms)."""
    mask = sum(MARKS[term] for term in terms)
    return [value for value in range(1 << len(MARKS)) if not value & mask]


# The terms a tally counts a frequent word's rows by (``search.models.SearchTally``): every
# attribute and fact a filter asks for, the region at its first level only (a tally by county
# would hold a cell for almost every record). A filter of such terms alone is answered from
# the tally; one that names a city or a county is counted from the rows.
TALLIED_PREFIXES = ("p:", "b:", "l:", "i:", "g:", "s:", "k:", "v:", "c:")
_TALLIED_REGION = len("r:44")


def tallied(term: str) -> bool:
    """Whether a tally counts rows by ``term``."""
    return term[:2] in TALLIED_PREFIXES or (term[:2] == "r:" and len(term) == _TALLIED_REGION)


def tallied_sql(term: str) -> str:
    """``tallied`` in PostgreSQL's SQL, of the text expression ``term``: how a tally's build
    picks a row's terms (the one rule, in the two languages that apply it)."""
    prefixes = ", ".join(f"'{prefix}'" for prefix in TALLIED_PREFIXES)
    return (
        f"(left({term}, 2) IN ({prefixes})"
        f" OR (left({term}, 2) = 'r:' AND length({term}) = {_TALLIED_REGION}))"
    )


def _is_cjk_unit(unit: str) -> bool:
    return len(unit) == 1 and is_cjk(unit)


# The facets of each kind's searches, by name: a document's ``Terms.facets`` has these keys.
FACETS: dict[Kind, tuple[str, ...]] = {
    Kind.ENTERPRISE: ("regions", "creditGrades", "industries", "blacklisted"),
    Kind.RECALL: ("categories", "statuses", "kinds"),
    Kind.WARNING: ("severities", "categories"),
}


@dataclass(frozen=True, slots=True)
class Terms:
    """What the embedded index stores for a document besides its texts."""

    tokens: list[str]
    # Facet name -> value, as the facets count them (``search.embedded``).
    facets: dict[str, Any]
    # When the first of the time-dependent facts changes; None when none ever will.
    flags_until: datetime | None


class _Clock:
    """The time-dependent facts of one document at ``now``, and when the first one changes."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.until: datetime | None = None

    def _boundary(self, moment: datetime) -> None:
        if moment > self.now and (self.until is None or moment < self.until):
            self.until = moment

    def published(self, moment: datetime | None) -> bool:
        """``hub.kit.repository.PUBLISHED`` at ``now`` (a draft never is: publishing it is a
        write, which the outbox brings)."""
        period = PUBLISHED_WINDOW.period({"published_at": moment})
        return self.within([] if period is None else [{"gte": period[0]}])

    def within(self, periods: list[dict[str, datetime]]) -> bool:
        """Whether ``now`` falls in one of the half-open periods (``search.documents``; one
        without ``lt`` has no end)."""
        inside = False
        for period in periods:
            start, end = period["gte"], period.get("lt")
            self._boundary(start)
            if end is not None:
                self._boundary(end)
            inside = inside or (start <= self.now and (end is None or self.now < end))
        return inside


def _field_terms(position: int, value: str, namespace: str) -> frozenset[str]:
    if position:
        return _secondary_terms(position, value, namespace)
    prefix = field_term(position, "", namespace)
    return frozenset([prefix + token for token in value_tokens(value)])


# Field terms of the values of secondary fields (brands, products, hazards...), which repeat
# across records: a reindex builds each set once. Primary fields (names, titles) rarely repeat,
# and are not kept. A few hundred bytes an entry.
@lru_cache(maxsize=50_000)
def _secondary_terms(position: int, value: str, namespace: str) -> frozenset[str]:
    prefix = field_term(position, "", namespace)
    return frozenset([prefix + token for token in value_tokens(value)])


def text_terms(document: Document) -> set[str]:
    """The terms of a document's text: field tokens, prefix and exact terms (every backend)."""
    profile = PROFILES[document.kind]
    namespace = NAMESPACES[document.kind]
    tokens: set[str] = set()
    for position, name in enumerate(profile.names):
        for value in document.texts.get(name, []):
            tokens |= _field_terms(position, value, namespace)
    primary = document.texts.get(profile.primary, [])
    if primary:
        units = unit_texts(primary[0])
        tokens.update(prefix_terms(units, namespace))
        if len(primary) == 1:
            tokens.add(exact_term(units, namespace))
    return tokens


def document_terms(document: Document, now: datetime) -> Terms:
    """The terms and facet values of ``document``, its time-dependent facts judged at ``now``."""
    tokens = text_terms(document)
    attributes = document.attributes
    clock = _Clock(now)
    published = clock.published(attributes.get("published_at"))
    tokens.add(flag_term(PUBLISHED, published))
    tokens.update(sample_terms(document.id))
    facets: dict[str, Any]
    if document.kind is Kind.ENTERPRISE:
        blacklisted = clock.within(attributes["blacklisted"])
        valid = clock.within(attributes["valid_licence"])
        tokens.update(region_terms(attributes["region_code"]))
        tokens.update(
            (
                f"i:{attributes['industry_code']}",
                grade_term(attributes["credit_grade"]),
                f"s:{attributes['status']}",
                flag_term(BLACKLISTED, blacklisted),
                flag_term(VALID_LICENCE, valid),
            )
        )
        values: tuple[Any, ...] = (
            attributes["province_code"],
            attributes["credit_grade"],
            attributes["industry_code"],
            blacklisted,
        )
    elif document.kind is Kind.RECALL:
        tokens.update(region_terms(attributes["region_code"]))
        tokens.update(
            (
                category_term(attributes["category"]),
                f"s:{attributes['status']}",
                f"k:{attributes['recall_kind']}",
            )
        )
        values = (attributes["category"], attributes["status"], attributes["recall_kind"])
    else:
        tokens.update((category_term(attributes["category"]), f"v:{attributes['severity']}"))
        values = (attributes["severity"], attributes["category"])
    # Named by ``FACETS``, in its order: the tallies keep them by position.
    facets = dict(zip(FACETS[document.kind], values, strict=True))
    return Terms(tokens=sorted(tokens), facets=facets, flags_until=clock.until)


@dataclass(frozen=True, slots=True)
class PhraseTerms:
    """What a query phrase asks of a field, as terms of field ``f`` once ``at(f)`` is applied."""

    tokens: tuple[str, ...]
    # Whether the tokens say that the phrase occurs, with no need to look at the units.
    exact: bool

    def at(self, field: int, namespace: str = "") -> list[str]:
        return [field_term(field, token, namespace) for token in self.tokens]


def phrase_terms(phrase: tuple[str, ...]) -> PhraseTerms:
    """The tokens every field holding ``phrase`` has: its words, the bigrams of its consecutive
    CJK units, and a CJK unit with no CJK neighbour on its own."""
    tokens: dict[str, None] = {}
    for position, unit in enumerate(phrase):
        if not _is_cjk_unit(unit):
            tokens[unit] = None
            continue
        after = position + 1 < len(phrase) and _is_cjk_unit(phrase[position + 1])
        before = position > 0 and _is_cjk_unit(phrase[position - 1])
        if after:
            tokens[unit + phrase[position + 1]] = None
        elif not before:
            tokens[unit] = None
    exact = len(phrase) == 1 or (len(phrase) == 2 and all(map(_is_cjk_unit, phrase)))
    return PhraseTerms(tuple(tokens), exact)
