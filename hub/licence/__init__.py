"""Industrial product production licences and their status history."""
