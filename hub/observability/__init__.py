"""What an operator watches: request ids, structured logs, Prometheus metrics and tracing.

Domain-free, like ``hub.kit``: the domains and the GraphQL layer report to it through
one-line hooks (``note``, ``count_verifications``, ``count_admission``); ``hub.app``, the
composition root, hands it what only the domains can read (the outbox's lag, the breakers).
"""
