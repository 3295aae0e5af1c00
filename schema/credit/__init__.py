"""The credit subgraph: enterprises' identity, credit grades and blacklist listings."""
