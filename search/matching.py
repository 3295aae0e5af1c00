"""What a search asks of the embedded index, before any SQL: terms to find, and how a row scores.

A row's score is decided here, in Python, from its stored units (``text_0``...), exactly as the
profile defines it (``search.documents.Profile``). The terms only choose which rows to read: each
is a necessary condition, so no matching row is ever left out; the units confirm.

The page is found without scoring every match (a frequent word matches a tenth of a million
records). A matching row whose primary field is not exactly the query belongs to one *class*:
the set of fields that hold every phrase (none, when the phrases are spread over fields) and
whether the primary field starts with the first phrase. Every row of a class has the same
score, so its best rows are its first ones by (rank, id): read from the class's head when it is
large (``search.models.SearchHead``), collected through the index when it is small. Classes
are read best score first, until enough rows score higher than the next class can. The rows
that are the query exactly (the exact bonus) are few, and read apart.

For one phrase whose terms say everything (a word, one or two CJK characters), a class's terms
select its rows and nothing else: what a field holds is one term, so a class can say which
fields must not hold it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations, product
from typing import TypeVar

from hub.enterprise.models import CreditGrade
from search.backend import (
    Conditions,
    EnterpriseConditions,
    RecallConditions,
    SearchRequest,
    WarningConditions,
)
from search.documents import EXACT_BONUS, PREFIX_BONUS, PROFILES, Kind
from search.terms import (
    BLACKLISTED,
    NAMESPACES,
    PUBLISHED,
    VALID_LICENCE,
    PhraseTerms,
    category_term,
    exact_term,
    flag_term,
    grade_term,
    phrase_terms,
    prefix_terms,
    region_term,
)
from search.tokenize import ParsedQuery

# Conditions on the terms of a row --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AllOf:
    """The row has every one of these terms."""

    terms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """The row has at least one of these terms."""

    terms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NoneOf:
    """The row has none of these terms (only beside a positive condition, in ``Both``)."""

    terms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Both:
    parts: tuple[Match, ...]


@dataclass(frozen=True, slots=True)
class Either:
    parts: tuple[Match, ...]


Match = AllOf | AnyOf | NoneOf | Both | Either


def both(*parts: Match | None) -> Match:
    """All of ``parts`` (None left out), with neighbouring ``AllOf`` merged into one."""
    terms: dict[str, None] = {}
    rest: list[Match] = []
    for part in parts:
        if part is None:
            continue
        if isinstance(part, AllOf):
            terms.update(dict.fromkeys(part.terms))
        elif isinstance(part, Both):
            merged = both(*part.parts)
            if isinstance(merged, AllOf):
                terms.update(dict.fromkeys(merged.terms))
            else:
                rest.append(merged)
        else:
            rest.append(part)
    if terms:
        rest.insert(0, AllOf(tuple(terms)))
    if len(rest) == 1:
        return rest[0]
    return Both(tuple(rest))


def terms_of(match: Match | None) -> Iterator[str]:
    """The terms ``match`` names, in order, each as often as it is named."""
    if match is None:
        return
    if isinstance(match, AllOf | AnyOf | NoneOf):
        yield from match.terms
    else:
        for part in match.parts:
            yield from terms_of(part)


def required_terms(match: Match | None) -> tuple[str, ...]:
    """The terms every row that meets ``match`` has (its ``AllOf``, alone or in a ``Both``)."""
    if isinstance(match, AllOf):
        return match.terms
    if isinstance(match, Both):
        return tuple(t for part in match.parts for t in required_terms(part))
    return ()


def holds(match: Match, present: AbstractSet[str]) -> bool:
    """Whether a row whose terms among those ``match`` names are ``present`` meets it: the
    conditions read in Python, as ``search.embedded_match`` writes them in SQL (a search's
    probe counts rows by which of its terms they have, then its classes here)."""
    if isinstance(match, AllOf):
        return all(term in present for term in match.terms)
    if isinstance(match, AnyOf):
        return any(term in present for term in match.terms)
    if isinstance(match, NoneOf):
        return not any(term in present for term in match.terms)
    if isinstance(match, Both):
        return all(holds(part, present) for part in match.parts)
    return any(holds(part, present) for part in match.parts)


def both_or_none(*parts: Match | None) -> Match | None:
    """``both(*parts)``, or None when every part is None."""
    return both(*parts) if any(part is not None for part in parts) else None


# Scoring a row -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Judged:
    """A row as the query sees it."""

    matches: bool
    score: float
    # Fields holding every phrase, by position in the profile.
    fields: frozenset[int]
    prefix: bool
    exact: bool


@dataclass(frozen=True, slots=True)
class RowClass:
    """Rows whose fields holding every phrase are ``fields`` (none: the phrases are spread
    over fields), with or without the prefix bonus, and not the exact key: all score
    ``score``."""

    fields: frozenset[int]
    prefix: bool
    score: float


@dataclass(frozen=True, slots=True)
class Head:
    """The rows with every term of ``required`` and none of ``excluded``, in ranking order,
    kept as ``key``; ``term`` is one of ``required``, by which written rows find their heads."""

    key: str
    term: str
    required: tuple[str, ...]
    excluded: tuple[str, ...]


def head_key(required: Sequence[str], excluded: Sequence[str]) -> str:
    """The key of the head of the rows with every term of ``required`` and none of
    ``excluded``: the same condition, the same key, whichever search or word asks for it."""
    return " ".join(required) + " -" + " ".join(excluded)


def term_head(term: str) -> Head:
    """The head of every row with ``term``, whatever else it has: it holds the first rows of
    any class that needs the term, among others (``search.embedded_heads.readable_head``)."""
    return Head(key=head_key((term,), ()), term=term, required=(term,), excluded=())


F = TypeVar("F")
B = TypeVar("B")


def holding(
    patterns: Sequence[str],
    fields: Sequence[F],
    contains: Callable[[F, str], B],
    every: Callable[[list[B]], B],
    some: Callable[[list[B]], B],
) -> B:
    """Whether a row matches a query's phrases: every pattern (``ParsedQuery.pattern``) in
    some field's units. Written once, rendered by the caller: Python's ``all``/``any`` over
    stored units (``Scorer.judge``), SQL's ``and_``/``or_`` over the columns (the embedded
    count of a phrase its terms cannot say)."""
    return every([some([contains(field, p) for field in fields]) for p in patterns])


class Scorer:
    """Scores rows from their stored units exactly as ``search.documents.Profile`` says."""

    def __init__(self, query: ParsedQuery, weights: Sequence[int]) -> None:
        self.patterns = [query.pattern(phrase) for phrase in query.phrases]
        self.key = f" {query.key} "
        self.weights = list(weights)
        # Judged by (fields holding every phrase as bits, prefix, exact, matches): a few
        # kinds of row at most, each judged once (a search judges up to tens of thousands).
        self._judged: dict[tuple[int, bool, bool, bool], Judged] = {}

    def judge(self, texts: Sequence[str]) -> Judged:
        patterns = self.patterns
        fields = texts[: len(self.weights)]
        holders, bit = 0, 1
        if len(patterns) == 1:  # most queries: one phrase, one substring test per field
            pattern = patterns[0]
            for text in fields:
                if pattern in text:
                    holders |= bit
                bit <<= 1
            matches = holders != 0
        else:
            for text in fields:
                if all(p in text for p in patterns):
                    holders |= bit
                bit <<= 1
            # A field holding every phrase is a match; else the phrases may be spread.
            matches = holders != 0 or holding(patterns, fields, _contains, all, any)
        primary = fields[0]
        prefix = primary.startswith(patterns[0])
        exact = primary == self.key
        key = (holders, prefix, exact, matches)
        judged = self._judged.get(key)
        if judged is None:
            found = frozenset(i for i in range(len(fields)) if holders >> i & 1)
            score = sum(self.weights[i] for i in found)
            score += PREFIX_BONUS * prefix + EXACT_BONUS * exact
            judged = self._judged[key] = Judged(matches, float(score), found, prefix, exact)
        return judged


# The plan of a search ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Filters:
    """The request's conditions: terms of the lasting ones, and the time-dependent facts it
    asks for (flag name -> wanted value), which only a fresh row's terms can answer."""

    static: Match | None
    flags: dict[str, bool]
    frequency: Callable[[str], float] | None = None

    @property
    def fresh(self) -> Match | None:
        """The conditions as terms of a fresh row (a fact most rows have: as the absence of
        its opposite)."""
        wanted: list[str] = []
        opposite: list[str] = []
        for name, value in self.flags.items():
            term = flag_term(name, value)
            if self.frequency is not None and self.frequency(term) > COMMON:
                opposite.append(flag_term(name, not value))
            else:
                wanted.append(term)
        return both_or_none(
            self.static,
            AllOf(tuple(wanted)) if wanted else None,
            NoneOf(tuple(opposite)) if opposite else None,
        )

    def passes(self, live: dict[str, bool]) -> bool:
        """Whether facts judged live (a stale row's) are the ones asked for."""
        return all(live.get(name) == wanted for name, wanted in self.flags.items())


@dataclass(frozen=True, slots=True)
class Plan:
    """The terms of one search: what matches, what each class needs, and the filters."""

    scorer: Scorer
    # Necessary for a match: every phrase in some field.
    text: Match
    filters: Filters
    # The rows that are the query exactly have this term.
    exact: Match
    classes: list[RowClass]
    # Necessary for a row of each class, besides ``text``; and the part of them an index can
    # read (what they hold besides the class's rows: the rows the exclusions drop).
    class_terms: dict[RowClass, Match | None]
    class_positive: dict[RowClass, Match | None]
    # The head (``search.models.SearchHead``) that holds a class's first rows.
    heads: dict[RowClass, Head]
    # Whether the terms say everything (no phrase needs its units checked).
    exact_terms: bool

    @property
    def matching(self) -> Match:
        """A fresh matching row that passes the conditions has these terms."""
        return both(self.text, self.filters.fresh)

    def of(self, terms: Match | None) -> Match:
        """Rows with ``terms`` that pass the conditions, when ``terms`` imply the text's (a
        field holding every phrase does): the text's terms again would only make the planner
        count the same rows twice as rare."""
        if terms is None:
            return self.matching
        return both(terms, self.filters.fresh)

    @property
    def stale_matching(self) -> Match:
        """A stale matching row that passes the lasting conditions has these terms."""
        return both(self.text, self.filters.static)


# A condition most rows meet (published, not blacklisted, graded A or B) is asked as the
# absence of the terms of the rows it leaves out: an index condition on a term of most rows
# would read a posting list of most of the index, where the absence is checked on the few rows
# read anyway.
COMMON = 0.9


def filters(request: SearchRequest, frequency: Callable[[str], float] | None = None) -> Filters:
    """Terms of the request's lasting conditions, and the time-dependent ones by flag;
    ``frequency`` (the index's statistics) tells which conditions most rows meet."""
    given = request.conditions
    terms: list[str] = []
    any_of: list[Match] = []
    flags: dict[str, bool] = {}
    if not request.sees_unpublished:
        flags[PUBLISHED] = True
    if isinstance(given, EnterpriseConditions):
        if given.region_code is not None:
            terms.append(region_term(given.region_code))
        if given.industry_code is not None:
            terms.append(f"i:{given.industry_code}")
        if given.credit_grades:
            wanted = [grade_term(grade) for grade in given.credit_grades]
            others = [
                grade_term(g.value) for g in CreditGrade if g.value not in given.credit_grades
            ]
            others.append(grade_term(None))
            common = frequency is not None and sum(map(frequency, wanted)) > COMMON
            any_of.append(NoneOf(tuple(others)) if common else AnyOf(tuple(wanted)))
        if given.status is not None:
            terms.append(f"s:{given.status}")
        if given.blacklisted is not None:
            flags[BLACKLISTED] = given.blacklisted
        if given.has_valid_licence is not None:
            flags[VALID_LICENCE] = given.has_valid_licence
    elif isinstance(given, RecallConditions):
        if given.region_code is not None:
            terms.append(region_term(given.region_code))
        if given.category is not None:
            terms.append(category_term(given.category))
        if given.status is not None:
            terms.append(f"s:{given.status}")
        if given.kind is not None:
            terms.append(f"k:{given.kind}")
    elif isinstance(given, WarningConditions):
        if given.severity is not None:
            terms.append(f"v:{given.severity}")
        if given.category is not None:
            terms.append(category_term(given.category))
    parts: list[Match] = [AllOf(tuple(terms))] if terms else []
    parts += any_of
    return Filters(both(*parts) if parts else None, flags, frequency)


def flag_match(flags: dict[str, bool]) -> Match | None:
    if not flags:
        return None
    return AllOf(tuple(flag_term(name, value) for name, value in flags.items()))


# A query of several phrases matches when each is in some field: when a phrase needs more than
# one term in a field, as one condition, the union of every way to place them (fields **
# phrases of them), up to this many.
_PLACEMENTS = 64
# Terms of one phrase in one field that an index condition asks for: the rarest. More add
# nothing but work (a long name's bigrams include 有限, 公司... of every record): the units
# confirm the phrase anyway.
_TERMS_ASKED = 2


def plan(request: SearchRequest, frequency: Callable[[str], float] | None = None) -> Plan:
    """The plan of ``request``; ``frequency`` tells how common a term is (the index's
    statistics), to ask the index for the rarest terms of a long phrase only. Kept for the
    searches asked again: a plan depends on nothing else."""
    return _plan(
        request.kind,
        request.query,
        request.conditions,
        request.sees_unpublished,
        frequency,
    )


def forget_plans() -> None:
    """Drop the cached plans: the frequency table they were made with is read again (a plan
    keeps its table alive, and a table holds up to ten thousand terms)."""
    _plan.cache_clear()


@lru_cache(maxsize=1024)
def _plan(
    kind: Kind,
    query: ParsedQuery,
    conditions: Conditions,
    sees_unpublished: bool,
    frequency: Callable[[str], float] | None,
) -> Plan:
    request = SearchRequest(
        kind=kind,
        query=query,
        conditions=conditions,
        first=0,
        sees_unpublished=sees_unpublished,
    )
    profile = PROFILES[request.kind]
    weights = [weight for _, weight in profile.fields]
    count = len(weights)
    phrases = [phrase_terms(phrase) for phrase in query.phrases]
    namespace = NAMESPACES[request.kind]

    def asked(phrase: PhraseTerms, position: int) -> list[str]:
        terms = phrase.at(position, namespace)
        if frequency is None or len(terms) <= _TERMS_ASKED:
            return terms
        return sorted(terms, key=frequency)[:_TERMS_ASKED]

    def in_field(position: int) -> AllOf:
        """Every phrase's (rarest) tokens in field ``position``."""
        return AllOf(tuple(dict.fromkeys(t for p in phrases for t in asked(p, position))))

    def somewhere(phrase: PhraseTerms) -> Match:
        fields = [asked(phrase, i) for i in range(count)]
        if all(len(terms) == 1 for terms in fields):
            # One term a field (a word): any of them, one condition the index answers in one
            # pass over their lists, not one scan a field.
            return AnyOf(tuple(terms[0] for terms in fields))
        return Either(tuple(AllOf(tuple(terms)) for terms in fields))

    placed = [somewhere(phrase) for phrase in phrases]
    if (
        len(phrases) == 1
        or all(isinstance(part, AnyOf) for part in placed)
        or count ** len(phrases) > _PLACEMENTS
    ):
        # Words: each one's condition, together one pass of the index (at 1M, 广东 食品 with
        # two grades: 68-93 ms against 104-110 for its nine placements, each a scan).
        text = both(*placed)
    else:
        placements = product(range(count), repeat=len(phrases))
        text = Either(
            tuple(
                AllOf(
                    tuple(
                        dict.fromkeys(
                            t for p, f in zip(phrases, fields, strict=True) for t in asked(p, f)
                        )
                    )
                )
                for fields in placements
            )
        )
    exact_terms = all(phrase.exact for phrase in phrases)
    units = [unit for phrase in query.phrases for unit in phrase]
    exact = AllOf((exact_term(units, namespace),))
    prefix = AllOf((prefix_terms(query.phrases[0], namespace)[-1],))
    spread = len(query.phrases) > 1
    # A class's terms select its rows alone when every phrase's terms say everything and
    # there is one phrase: then a field holds the phrase exactly when it has its terms.
    precise = exact_terms and not spread
    classes: list[RowClass] = []
    class_terms: dict[RowClass, Match | None] = {}
    class_positive: dict[RowClass, Match | None] = {}
    heads: dict[RowClass, Head] = {}
    sets = [frozenset(c) for n in range(count + 1) for c in combinations(range(count), n)]
    for fields in sets:
        if not fields and not spread:
            continue  # one phrase is always whole in some field
        for with_prefix in (True, False):
            if with_prefix and 0 not in fields and not spread:
                continue  # one phrase at the start of the primary field is in it
            score = sum(weights[f] for f in fields) + (PREFIX_BONUS if with_prefix else 0)
            row_class = RowClass(fields, with_prefix, float(score))
            classes.append(row_class)
            if not fields:  # the phrases are spread over fields: only the text's terms say so
                class_terms[row_class] = both(text, prefix) if with_prefix else None
                class_positive[row_class] = class_terms[row_class]
                continue
            # One phrase at the start of the primary field is in it: the prefix term says so
            # alone (both would make the planner count the class rarer, as if apart).
            implied = precise and with_prefix
            held = [in_field(f) for f in sorted(fields) if not (implied and f == 0)]
            positive = both(*held, prefix if with_prefix else None)
            class_positive[row_class] = positive
            outside: NoneOf | None = None
            if precise:
                terms = [t for g in range(count) if g not in fields for t in in_field(g).terms]
                terms += exact.terms
                if not with_prefix and 0 in fields:
                    terms += prefix.terms
                outside = NoneOf(tuple(terms))
            class_terms[row_class] = both(positive, outside)
            # The class's head: its rows in order, whatever else has the same terms.
            having = tuple(sorted(positive.terms)) if isinstance(positive, AllOf) else ()
            if having:
                lacking = tuple(sorted(outside.terms)) if outside is not None else ()
                rarest = min(having, key=lambda t: (frequency(t) if frequency else 0.0, -len(t)))
                heads[row_class] = Head(
                    key=head_key(having, lacking),
                    term=rarest,
                    required=having,
                    excluded=lacking,
                )
    classes.sort(key=lambda c: -c.score)
    return Plan(
        scorer=Scorer(query, weights),
        text=text,
        filters=filters(request, frequency),
        exact=exact,
        classes=classes,
        class_terms=class_terms,
        class_positive=class_positive,
        heads=heads,
        exact_terms=exact_terms,
    )


def class_of(judged: Judged) -> RowClass | None:
    """The class of a matching row; None for the exact key's rows (few: read apart)."""
    if judged.exact:
        return None
    return RowClass(judged.fields, judged.prefix, judged.score)


def _contains(text: str, pattern: str) -> bool:
    return pattern in text
