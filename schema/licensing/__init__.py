"""The licensing subgraph: production licences and their status history."""
