"""Tables of the search: the embedded index's documents and the outbox.

``search_document`` is the embedded backend's index: one row per searchable record with its
terms (``search.terms``) and the units of its fields. On PostgreSQL ``tokens`` is a ``text[]``
under a GIN index; on SQLite it is space-separated text that an FTS5 table
(``search_document_fts``, external content, kept in step by triggers) indexes. Both are created
by migrations (0004, then 0009), which is why ``MIGRATION_ONLY`` lists them for the
models-versus-migrations comparison.

``search_outbox`` holds what changed, written in the transaction of the change; the relay
applies it to each backend after the commit and stamps the entry for that backend.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

from hub.db import Base
from hub.kit.time import UTCDateTime, utcnow

FTS_TABLE = "search_document_fts"
GIN_INDEX = "ix_search_document_tokens"
# The statistics of an expression equal to ``tokens`` (migration 0013): its most common
# elements say how common each term is (``search.embedded_statistics``).
TERM_STATISTICS = "search_document_terms"
# Made by migration 0004 with dialect-specific DDL (FTS5 and its shadow tables on SQLite,
# a GIN index on PostgreSQL); the models cannot declare them.
MIGRATION_ONLY = frozenset(
    {
        FTS_TABLE,
        *(f"{FTS_TABLE}_{shadow}" for shadow in ("data", "idx", "docsize", "config", "content")),
        GIN_INDEX,
    }
)


class TokenList(TypeDecorator[list[str]]):
    """A list of tokens: ``text[]`` on PostgreSQL, space-separated text elsewhere."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.ARRAY(Text()))
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: list[str] | None, dialect: Dialect) -> Any:
        if value is None or dialect.name == "postgresql":
            return value
        return " ".join(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> list[str] | None:
        if value is None or dialect.name == "postgresql":
            return value  # type: ignore[no-any-return]
        return str(value).split()


class SearchDocument(Base):
    """One record as the embedded index sees it; ``text_N`` hold the units of field N."""

    __tablename__ = "search_document"
    __table_args__ = (
        UniqueConstraint("kind", "ref_id"),
        # Rows whose time-dependent facts have changed since they were built: few, and found
        # by every search (search.embedded) and the relay that rebuilds them.
        Index(
            "ix_search_document_flags_until",
            "flags_until",
            postgresql_where="flags_until IS NOT NULL",
            sqlite_where="flags_until IS NOT NULL",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    ref_id: Mapped[int]
    tokens: Mapped[list[str]] = mapped_column(TokenList())
    # The bits of the ``search.terms.MARKS`` terms among ``tokens`` (``marks_of``).
    marks: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    text_0: Mapped[str] = mapped_column(Text)
    text_1: Mapped[str] = mapped_column(Text)
    text_2: Mapped[str] = mapped_column(Text)
    text_3: Mapped[str] = mapped_column(Text)
    # The tie-break after the score, smaller first (a shorter name, a newer notice).
    rank: Mapped[int]
    # The original field values, for highlights.
    source: Mapped[dict[str, list[str]]] = mapped_column(JSON)
    # The record's ``search_version`` this document was built from: what ``hub search status``
    # compares with the database.
    version: Mapped[int] = mapped_column(BigInteger, server_default="1")
    # Facet name -> the record's value, as the facets count it. On PostgreSQL ``jsonb``: a
    # search reads a value of every match it counts (``->>``), which ``json`` parsed from text
    # each time (migration 0015).
    facets: Mapped[dict[str, Any]] = mapped_column(
        JSON().with_variant(postgresql.JSONB(), "postgresql"), server_default="{}"
    )
    # When the first time-dependent fact in ``tokens`` changes; None: none ever does.
    flags_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The day date ranges filter on: a recall's start, a warning's issue.
    day: Mapped[date | None]


class OutboxEntry(Base):
    """A record whose documents must be rebuilt, stamped per backend once applied."""

    __tablename__ = "search_outbox"
    __table_args__ = (
        Index("ix_search_outbox_embedded_pending", "embedded_done_at", "id"),
        Index("ix_search_outbox_elasticsearch_pending", "elasticsearch_done_at", "id"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    ref_id: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    embedded_done_at: Mapped[datetime | None]
    elasticsearch_done_at: Mapped[datetime | None]


class SearchHead(Base):
    """The first rows of a class of matches in ranking order: a frequent word's page without
    reading its every match (``search.embedded``).

    A head is keyed by the condition on terms that its rows meet (``SearchHeadBound``: terms
    they all have, ``required``, and terms none has, ``excluded``). It holds every row of its
    kind that meets the condition
    and whose (rank, ref_id) is at most its bound, so writes keep it exact: a changed row leaves
    every head and joins those it belongs to. Built on PostgreSQL by the relay and the reindex,
    for the most frequent words only (``EmbeddedBackend.refresh_heads``); searches only read
    them.
    """

    __tablename__ = "search_head"
    __table_args__ = (Index("ix_search_head_kind_ref_id", "kind", "ref_id"),)

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    rank: Mapped[int] = mapped_column(primary_key=True)
    ref_id: Mapped[int] = mapped_column(primary_key=True)


class SearchHeadBound(Base):
    """A head's condition and where it ends: (rank, ref_id) of its last row when it was built;
    None: it holds every row that meets the condition."""

    __tablename__ = "search_head_bound"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    # One of the terms every row of the head has: where a written row looks for its heads.
    term: Mapped[str] = mapped_column(Text, index=True)
    required: Mapped[list[str]] = mapped_column(TokenList())
    excluded: Mapped[list[str]] = mapped_column(TokenList())
    rank: Mapped[int | None]
    ref_id: Mapped[int | None]


class SearchSchedule(Base):
    """When a periodic task of the relay last ran, by any process (``search.indexer``): the
    heads' build, every 10 minutes, once for all the workers rather than once per worker."""

    __tablename__ = "search_schedule"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    done_at: Mapped[datetime]


class SearchTally(Base):
    """How many rows of a frequent word have each combination of the terms filters ask for
    (``search.terms.tallied``), and their facet values: the total and the facets of a search
    of the word without reading its rows (``search.embedded_tally``).

    Rows are counted with their terms as built; the rows whose time-dependent facts have
    changed since (past ``flags_until``) are taken out again by each search and judged by the
    live tables, as everywhere in the embedded index. Written on PostgreSQL by the relay and
    the reindex only, in the transaction that writes the rows.
    """

    __tablename__ = "search_tally"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    # The word's key (``SearchTallyWord.key``).
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    # The rows' tallied terms, sorted.
    terms: Mapped[list[str]] = mapped_column(TokenList(), primary_key=True)
    # The facet values of every row of these terms, as text, in the order of
    # ``search.terms.FACETS[kind]``: a search groups them by position, with no JSON to read.
    facet_values: Mapped[list[str]] = mapped_column(TokenList())
    rows: Mapped[int]


class SearchTallyWord(Base):
    """A word or a phrase that has a tally. A word: a row has it when it has any of ``terms``
    (the word in any field); ``key`` is those terms, sorted and joined. A phrase its terms
    cannot say (``pattern``, as ``search.tokenize.ParsedQuery.pattern`` writes it): a row has
    it when some text field holds the pattern, and every such row has one of ``terms``.
    ``built_at`` None: chosen, its tally not built yet (the relay builds it,
    ``search.embedded_tally.build_next``)."""

    __tablename__ = "search_tally_word"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    terms: Mapped[list[str]] = mapped_column(TokenList())
    pattern: Mapped[str | None] = mapped_column(Text)
    built_at: Mapped[datetime | None]
