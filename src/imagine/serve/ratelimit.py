"""Fairness: per-user, per-IP and log-in rate limits with the `limits` library.

Memory storage by default; Redis storage when a Redis URL is configured, so several server processes share one
budget. A moving window is exact; 429 answers carry `Retry-After` (seconds until the window frees a slot).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from imagine.serve.errors import ApiError


@dataclass(frozen=True)
class RateLimits:
    user: RateLimitItem
    ip: RateLimitItem
    login: RateLimitItem
    login_ip: RateLimitItem


class RateLimiter:
    """Named limits over one storage; `namespace` keeps tests and deployments apart in a shared Redis."""

    def __init__(self, *, user: str, ip: str, login: str, login_ip: str, redis_url: str | None = None,
                 namespace: str = "imagine") -> None:
        self.items = RateLimits(user=parse(user), ip=parse(ip), login=parse(login), login_ip=parse(login_ip))
        uri = redis_url if redis_url else "memory://"
        self.storage = storage_from_string(uri)
        if redis_url and not self.storage.check():
            raise ConnectionError(f"Redis at {redis_url} is not reachable for rate limits")
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.namespace = namespace

    def _retry_after(self, item: RateLimitItem, *keys: str) -> int:
        stats = self.limiter.get_window_stats(item, self.namespace, *keys)
        return max(1, math.ceil(stats.reset_time - time.time()))

    def hit_generation(self, *, user_id: str, ip: str, cost: int = 1) -> None:
        """Count one generation request against the user and the IP; raise 429 when either is spent."""
        for item, kind, key in ((self.items.user, "user", user_id), (self.items.ip, "ip", ip)):
            if not self.limiter.test(item, self.namespace, kind, key, cost=cost):
                wait = self._retry_after(item, kind, key)
                raise ApiError("rate_limited", f"Too many requests for this {kind}; try again in {wait} s.",
                               retry_after=wait)
        for item, kind, key in ((self.items.user, "user", user_id), (self.items.ip, "ip", ip)):
            self.limiter.hit(item, self.namespace, kind, key, cost=cost)

    def check_login(self, *, account: str, ip: str) -> None:
        """Raise 429 when this account or this IP has too many recent failed log-ins (brute-force slowing)."""
        for item, kind, key in ((self.items.login, "login-account", account), (self.items.login_ip, "login-ip", ip)):
            if not self.limiter.test(item, self.namespace, kind, key):
                wait = self._retry_after(item, kind, key)
                raise ApiError("rate_limited", f"Too many failed log-ins; try again in {wait} s.", retry_after=wait)

    def failed_login(self, *, account: str, ip: str) -> None:
        self.limiter.hit(self.items.login, self.namespace, "login-account", account)
        self.limiter.hit(self.items.login_ip, self.namespace, "login-ip", ip)
