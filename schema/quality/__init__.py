"""The quality subgraph: the product quality archive and supervisory spot checks."""
