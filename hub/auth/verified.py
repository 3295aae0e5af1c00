"""The tokens of the hub this process has verified, so that their next use skips the signature.

Checking an ES256 signature and the claims costs about a tenth of a millisecond of CPU, a large
share of what a compiled read costs the hub, and a partner presents the same token for
minutes. What verifying decides depends on the token's exact bytes, the keys and the clock. For
the same bytes the keys matter only through the key that signed it, which must still be live
(the caller asks the key ring on every use, so a retired key's tokens are refused as before),
and the clock only through ``exp``: a token that was valid once stays valid until then, and one
presented at or after its ``exp`` is verified again in full, which applies the leeway exactly
as before. Whether its client still backs it is asked on every use (``hub.auth.standing``).

Only tokens that verified are kept, so the memo cannot be filled by made-up tokens; it holds at
most ``capacity`` of them and forgets the oldest first.
"""

from __future__ import annotations

from time import time

from hub.auth.tokens import HubToken

#: Distinct live tokens kept: a partner holds a few at a time, and a token is about a kilobyte.
CAPACITY = 10_000


class VerifiedTokens:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._tokens: dict[str, HubToken] = {}

    def get(self, token: str) -> HubToken | None:
        """``token`` as verified before, unless it has reached its ``exp`` since."""
        verified = self._tokens.get(token)
        if verified is None:
            return None
        if time() >= verified.token.expires_at:
            del self._tokens[token]
            return None
        return verified

    def add(self, token: str, verified: HubToken) -> None:
        if len(self._tokens) >= self.capacity:
            del self._tokens[next(iter(self._tokens))]
        self._tokens[token] = verified
