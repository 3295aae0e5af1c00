"""Deterministic, realistic demo data, and the bulk loader benchmarks use."""
