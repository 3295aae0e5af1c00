"""12365 complaints and reports: internal records whose complainants never leave the internal tier."""
