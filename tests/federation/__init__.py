"""Federation: subgraph schemas, composition by Apollo's tooling, a gateway in front of them."""
