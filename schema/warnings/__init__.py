"""The warnings subgraph: consumer warnings."""
