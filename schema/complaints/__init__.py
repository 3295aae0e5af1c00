"""12365 complaints: records for partners (de-identified) and internal callers, counts for all."""
