"""Verifiable credit reports: the ledger of issued reports, their codes and their signature.

A credit report is a PDF of an enterprise's public credit file at one instant (the portal
makes it from the public tier's reads). The hub records each one it issues (number, USCC,
instant, SHA-256 of the file and a hash of its verification code) so that anyone holding a
report can check it at ``/verify``, and signs it (PAdES) with a key whose certificate it
publishes.
"""
