"""12365 complaints and reports: internal records; complainants never leave the internal tier."""
