"""The hub against PostGraphile v5 and PostgreSQL itself (pgbench), side by side in one run.

``benchmarks/run`` is the command; ``python -m benchmarks.compare --help`` lists its options.
"""
