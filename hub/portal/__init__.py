"""The public portal: server-rendered pages for the media and the public, at ``/``.

A client of the hub's own reads: every page runs GraphQL documents (``queries/``) through the
callable the composition root gives it, against the public tier's schema and row rules, and
spends the caller's public rate budget. It never imports ``schema/``.
"""
