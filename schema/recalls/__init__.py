"""The recalls subgraph: defective product recall notices."""
