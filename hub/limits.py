"""What one caller may ask of the hub, per tier: the size of a request, of its query, and the
rate of requests.

The public gets the strictest limits and internal agencies the loosest. Each number can be
changed from the environment (``HUB_LIMITS__PUBLIC__MAX_COST=20000``); a tier keeps the
defaults of every number that is not set.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from hub.auth.principal import Tier


class TierLimits(BaseModel):
    """The limits of one tier; frozen, so that schemas can be cached by their limits."""

    model_config = ConfigDict(frozen=True)

    max_depth: int = Field(ge=1, description="fields nested in one another on any path")
    max_aliases: int = Field(ge=0, description="aliased fields, fragments expanded")
    max_directives: int = Field(ge=0, description="directive uses, fragments expanded")
    max_tokens: int = Field(ge=1, description="lexical tokens (comments included) of a document")
    max_cost: int = Field(
        ge=1, description="cost computed before execution: see schema/limits.py for the rule"
    )
    max_body_bytes: int = Field(ge=1, description="bytes of a POST body, read no further")
    max_query_length: int = Field(ge=1, description="characters of the query text, before parsing")
    max_url_length: int = Field(ge=1, description="characters of a GET request's path and query")
    max_variables_depth: int = Field(
        ge=1, description="objects and lists nested in a variable's value (or in extensions)"
    )
    rate_limit: int = Field(ge=1, description="requests per rate window and caller")
    rate_window: int = Field(ge=1, description="seconds in which rate_limit requests may come")


class Limits(BaseModel):
    """The limits of every tier, and of the federation routers in front of the hub."""

    model_config = ConfigDict(frozen=True)

    public: TierLimits = TierLimits(
        max_depth=10,
        max_aliases=20,
        max_directives=20,
        max_tokens=2_000,
        max_cost=50_000,
        max_body_bytes=100_000,
        max_query_length=20_000,
        max_url_length=8_000,
        max_variables_depth=10,
        rate_limit=120,
        rate_window=60,
    )
    partner: TierLimits = TierLimits(
        max_depth=12,
        max_aliases=50,
        max_directives=50,
        max_tokens=5_000,
        max_cost=200_000,
        max_body_bytes=1_000_000,
        max_query_length=50_000,
        max_url_length=16_000,
        max_variables_depth=15,
        rate_limit=1_200,
        rate_window=60,
    )
    internal: TierLimits = TierLimits(
        max_depth=15,
        max_aliases=100,
        max_directives=100,
        max_tokens=10_000,
        max_cost=1_000_000,
        max_body_bytes=4_000_000,
        max_query_length=100_000,
        max_url_length=32_000,
        max_variables_depth=20,
        rate_limit=6_000,
        rate_window=60,
    )
    # A configured router (HUB_TRUSTED_ROUTERS) enforces its caller's tier on the whole client
    # document; a subgraph sees only its part, rewritten: entity fetches one level deeper,
    # Hive Gateway's `_vN_` aliases on merged root fields, fragments inlined (489 tokens become
    # 2,051), and every representation of the entities in the variables. These numbers are the
    # backstop behind that: loose enough for any part of a document within the internal
    # tier's limits. Rate: what a router spends when it forwards no client (its own requests).
    router: TierLimits = TierLimits(
        max_depth=20,
        max_aliases=1_000,
        max_directives=1_000,
        max_tokens=100_000,
        max_cost=10_000_000,
        max_body_bytes=16_000_000,
        max_query_length=1_000_000,
        max_url_length=32_000,
        max_variables_depth=20,
        rate_limit=6_000,
        rate_window=60,
    )

    def of(self, tier: Tier) -> TierLimits:
        limits: TierLimits = getattr(self, tier.label)
        return limits
