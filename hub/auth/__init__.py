"""Who is calling: tiers, scopes and the principal every repository filters rows by."""
