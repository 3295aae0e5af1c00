"""Apollo Federation v2: the hub's graph served as subgraphs that a standard router composes.

The composed graph (``schema.build``) and every subgraph come from the same Strawberry types:
a subgraph schema (``schema``) keeps the fields its package declares (``plan``), serves the
Node types as entities (``entities``), and marks what a router must know (``directives``).
Nothing is declared twice, so a subgraph cannot drift from the composed graph.

This module stays light: the CLI reads the subgraph names without building any schema.
"""

from __future__ import annotations

from enum import StrEnum


class Subgraph(StrEnum):
    """The subgraphs, one per package of ``schema``; each can be served by its own process."""

    CREDIT = "credit"
    QUALITY = "quality"
    LICENSING = "licensing"
    RECALLS = "recalls"
    WARNINGS = "warnings"
    COMPLAINTS = "complaints"
    SEARCH = "search"
    STATISTICS = "statistics"
