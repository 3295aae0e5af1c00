"""Limits and Redis from the environment; the schemas built from them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from hub.auth.principal import Tier
from hub.config import Settings
from hub.limits import Limits, TierLimits
from hub.ratelimit import InProcessRateLimiter, RedisRateLimiter, create_rate_limiter
from schema.build import build_schema
from schema.limits import QueryLimits


def test_one_number_of_one_tier_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_LIMITS__PUBLIC__MAX_COST", "1234")
    monkeypatch.setenv("HUB_LIMITS__PARTNER__RATE_LIMIT", "99")
    limits = Settings().limits
    defaults = Limits()
    assert limits.public == defaults.public.model_copy(update={"max_cost": 1234})
    assert limits.partner == defaults.partner.model_copy(update={"rate_limit": 99})
    assert limits.internal == defaults.internal


def test_the_public_is_the_strictest_tier() -> None:
    public, partner, internal = (Limits().of(tier) for tier in Tier)
    for name in TierLimits.model_fields:
        if name == "rate_window":
            assert public.rate_window == partner.rate_window == internal.rate_window == 60
        else:
            assert getattr(public, name) < getattr(partner, name) < getattr(internal, name), name


def test_a_limit_must_make_sense(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_LIMITS__PUBLIC__MAX_DEPTH", "0")
    with pytest.raises(ValidationError, match="max_depth"):
        Settings()


def test_redis_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().redis_url is None
    monkeypatch.setenv("HUB_REDIS_URL", "redis://127.0.0.1:6379/2")
    assert Settings().redis_url == "redis://127.0.0.1:6379/2"


async def test_the_limiter_follows_the_redis_setting() -> None:
    in_process = create_rate_limiter(None)
    shared = create_rate_limiter("redis://127.0.0.1:6379/0")
    assert isinstance(in_process, InProcessRateLimiter)
    assert isinstance(shared, RedisRateLimiter)
    await shared.aclose()


def test_schemas_are_cached_by_tier_mode_and_limits() -> None:
    public = Limits().public
    assert build_schema(Tier.PUBLIC) is build_schema(Tier.PUBLIC)
    assert build_schema(Tier.PUBLIC, production=True, limits=public) is build_schema(
        Tier.PUBLIC, production=True, limits=public.model_copy()
    )
    assert build_schema(Tier.PUBLIC, production=True) is not build_schema(Tier.PUBLIC)


def test_the_default_schema_is_the_development_one_with_default_limits() -> None:
    schema = build_schema(Tier.PUBLIC)
    assert schema.production is False
    limits = [e for e in schema.get_extensions() if isinstance(e, QueryLimits)]
    assert [extension.limits for extension in limits] == [Limits().public]
