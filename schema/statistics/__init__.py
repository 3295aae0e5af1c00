"""The statistics subgraph: public figures computed from published records, with small counts
withheld; what the portal's statistics page draws."""
