"""A rate limiter per organisation and per vendor, shared by every worker through Redis.

Each organisation has its own Jira site, Slack workspace and HubSpot account, and so its own vendor
quota: one organisation's backfill must never use up another's. The bucket key therefore carries the
organisation and the provider (in the same ``org:<id>:...`` form as ``tenant_cache_key``).

The algorithm is a token bucket kept in one Redis hash and updated by one Lua script, so concurrent
workers take tokens atomically, and the clock is Redis's own (``TIME``), so workers whose clocks differ
still agree. The bucket refills at the provider's rate per minute and holds one second's worth of tokens
(at least one): a short burst is allowed, a sustained one is smoothed.

Without Redis (the embedded development mode) the bucket lives in the process.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from functools import cache
from typing import Any, Protocol

import redis
from django.conf import settings

from okrsignal.tenancy import require_organization_id

PROVIDERS = ("jira", "slack", "hubspot")

# KEYS[1] bucket; ARGV[1] capacity (tokens); ARGV[2] refill rate (tokens per second).
# Returns {1, "0"} when a token was taken, {0, seconds_to_wait} otherwise.
_BUCKET_LUA = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = capacity
  at = now
end
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local taken = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  taken = 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return {taken, tostring(wait)}
"""


class RateLimitWaitTooLong(Exception):
    """Waiting for the next request slot would take longer than the caller allows."""

    def __init__(self, provider: str, wait_seconds: float) -> None:
        super().__init__(
            f"The {provider} request budget for this organisation is used up for the next "
            f"{wait_seconds:.1f} s."
        )
        self.provider = provider
        self.wait_seconds = wait_seconds


class RateLimiter(Protocol):
    """What the vendor clients need: wait for, and take, one request slot."""

    def acquire(self) -> None: ...


def rate_limit_key(organization_id: int, provider: str) -> str:
    """The bucket's key; the same shape as ``tenant_cache_key("rate-limit", provider)``."""
    return f"org:{organization_id}:rate-limit:{provider}"


def requests_per_minute(provider: str) -> int:
    """The configured rate for a provider (``<PROVIDER>_REQUESTS_PER_MINUTE``)."""
    if provider not in PROVIDERS:
        raise ValueError(f"Unknown provider {provider!r}; expected one of {', '.join(PROVIDERS)}.")
    limit: int = settings.VENDOR_REQUESTS_PER_MINUTE[provider]
    return limit


@cache
def _token_bucket_script(url: str) -> Any:
    """The script registered once per Redis: later calls send only its digest (EVALSHA)."""
    return redis.Redis.from_url(url).register_script(_BUCKET_LUA)


class _InProcessBuckets:
    """The same token bucket, for a process with no Redis."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}

    def take(self, key: str, capacity: float, rate: float) -> float:
        with self._lock:
            now = time.monotonic()
            tokens, at = self._state.get(key, (capacity, now))
            tokens = min(capacity, tokens + max(0.0, now - at) * rate)
            if tokens >= 1:
                self._state[key] = (tokens - 1, now)
                return 0.0
            self._state[key] = (tokens, now)
            return (1 - tokens) / rate


_in_process_buckets = _InProcessBuckets()


class ProviderRateLimiter:
    """The request budget of one organisation with one provider.

    ``acquire()`` takes a slot, sleeping (through the injectable ``sleep``) until one is free; if the wait
    would exceed ``max_wait_seconds`` it raises ``RateLimitWaitTooLong`` instead, so a task can be
    rescheduled rather than hold a worker. ``try_acquire()`` never waits: it returns 0.0 when a slot was
    taken, otherwise the seconds until the next one.
    """

    def __init__(
        self,
        *,
        organization_id: int,
        provider: str,
        per_minute: int | None = None,
        redis_url: str | None = None,
        sleep: Callable[[float], Any] = time.sleep,
        max_wait_seconds: float = 60.0,
    ) -> None:
        rate_per_minute = requests_per_minute(provider) if per_minute is None else per_minute
        if rate_per_minute < 1:
            raise ValueError(f"The {provider} rate must be at least one request per minute.")
        self.organization_id = organization_id
        self.provider = provider
        self.key = rate_limit_key(organization_id, provider)
        self.rate_per_second = rate_per_minute / 60
        self.capacity = float(max(1, rate_per_minute // 60))
        self._redis_url = redis_url if redis_url is not None else settings.CACHE_URL
        self._sleep = sleep
        self.max_wait_seconds = max_wait_seconds

    @classmethod
    def for_current_organization(cls, provider: str, **kwargs: Any) -> ProviderRateLimiter:
        """The limiter of the organisation in context (raises outside a tenant context)."""
        return cls(organization_id=require_organization_id(), provider=provider, **kwargs)

    def try_acquire(self) -> float:
        if not self._redis_url:
            return _in_process_buckets.take(self.key, self.capacity, self.rate_per_second)
        taken, wait = _token_bucket_script(self._redis_url)(
            keys=[self.key], args=[repr(self.capacity), repr(self.rate_per_second)]
        )
        return 0.0 if int(taken) == 1 else float(wait)

    def acquire(self) -> None:
        waited = 0.0
        while True:
            wait = self.try_acquire()
            if wait <= 0:
                return
            if waited + wait > self.max_wait_seconds:
                raise RateLimitWaitTooLong(self.provider, math.ceil((waited + wait) * 10) / 10)
            self._sleep(wait)
            waited += wait
