"""Every rate limit of the service, with the `limits` library: what is counted, keyed by what, and what a 429 says.

Memory storage by default; Redis storage when a Redis URL is configured, so several server processes share one
budget. A moving window is exact; every 429 carries ``Retry-After`` (seconds until the window frees a slot),
computed here from the window that refused.

Keys are chosen so that a limit protects without letting anyone lock others out:

- log-in failures count per (account, client IP) pair and per client IP, never per account alone, so a few
  addresses cannot lock a victim's account, and one address cannot try many accounts;
- sign-ups with a taken e-mail count per (e-mail, IP) pair and per IP, so failures from some addresses never
  close sign-up for everyone else;
- wrong claim codes count per account and per IP; uploads ("was this photo used?") and generation requests
  count per account and per IP.

The client IP is the TCP peer, or the address a configured trusted proxy forwarded (``middleware.TrustedProxies``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from imagine.config import ServeSettings
from imagine.serve.errors import ApiError


@dataclass(frozen=True)
class Limit:
    setting: str  # the `serve.<setting>` that holds the rate, in `limits` notation ("5/minute")
    refusal: str  # what the 429 says, before "; try again in N s."


# name -> (setting, message). One home for every limit's key and wording; docs/api.md's security model lists them.
LIMITS: dict[str, Limit] = {
    "generation-user": Limit("rate_user", "Too many requests for this user"),
    "generation-ip": Limit("rate_ip", "Too many requests from your address"),
    "login-pair": Limit("rate_login", "Too many failed log-ins for this account from your address"),
    "login-ip": Limit("rate_login_ip", "Too many failed log-ins from your address"),
    "signup-pair": Limit("rate_login", "Too many sign-up attempts with this e-mail from your address"),
    "signup-ip": Limit("rate_signup_ip", "Too many failed sign-ups from your address"),
    "claim-user": Limit("rate_claim", "Too many wrong claim codes for this account"),
    "claim-ip": Limit("rate_claim_ip", "Too many wrong claim codes from your address"),
    "upload-user": Limit("rate_upload", "Too many image look-ups from this account"),
    "upload-ip": Limit("rate_upload_ip", "Too many image look-ups from your address"),
}


class RateLimiter:
    """Named limits over one storage; `namespace` keeps tests and deployments apart in a shared Redis."""

    def __init__(self, rates: dict[str, str], *, redis_url: str | None = None, namespace: str = "imagine") -> None:
        missing = set(LIMITS) - set(rates)
        if missing:
            raise ValueError(f"no rate for {sorted(missing)}")
        self.items: dict[str, RateLimitItem] = {name: parse(rates[name]) for name in LIMITS}
        self.storage = storage_from_string(redis_url if redis_url else "memory://")
        if redis_url and not self.storage.check():
            raise ConnectionError(f"Redis at {redis_url} is not reachable for rate limits")
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.namespace = namespace

    @classmethod
    def from_settings(cls, serve: ServeSettings, *, redis_url: str | None = None,
                      namespace: str = "imagine") -> "RateLimiter":
        return cls({name: getattr(serve, limit.setting) for name, limit in LIMITS.items()}, redis_url=redis_url,
                   namespace=namespace)

    # -- the mechanics --------------------------------------------------------------------------------------

    def _refusal(self, name: str, keys: tuple[str, ...]) -> ApiError:
        stats = self.limiter.get_window_stats(self.items[name], self.namespace, name, *keys)
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        return ApiError("rate_limited", f"{LIMITS[name].refusal}; try again in {wait} s.", retry_after=wait)

    def check(self, *limits: tuple[str, tuple[str, ...]], cost: int = 1) -> None:
        """Raise the 429 of the first of ``(name, keys)`` that has no room for ``cost`` more; count nothing."""
        for name, keys in limits:
            if not self.limiter.test(self.items[name], self.namespace, name, *keys, cost=cost):
                raise self._refusal(name, keys)

    def count(self, *limits: tuple[str, tuple[str, ...]], cost: int = 1) -> None:
        """Count ``cost`` against each of ``(name, keys)`` (a failure that has already been answered)."""
        for name, keys in limits:
            self.limiter.hit(self.items[name], self.namespace, name, *keys, cost=cost)

    def hit(self, *limits: tuple[str, tuple[str, ...]], cost: int = 1) -> None:
        """Check every limit, then count against all of them (a request that is counted whether it succeeds)."""
        self.check(*limits, cost=cost)
        self.count(*limits, cost=cost)

    # -- what the routes call -------------------------------------------------------------------------------

    def hit_generation(self, *, user_id: str, ip: str, cost: int = 1) -> None:
        """One generation request against the user and the IP; 429 when either is spent."""
        self.hit(("generation-user", (user_id,)), ("generation-ip", (ip,)), cost=cost)

    def hit_upload(self, *, user_id: str, ip: str) -> None:
        """One "was this photo used?" look-up (each decodes an image) against the user and the IP."""
        self.hit(("upload-user", (user_id,)), ("upload-ip", (ip,)))

    def check_login(self, *, account: str, ip: str) -> None:
        """429 when this (account, IP) pair or this IP has too many recent failed log-ins."""
        self.check(("login-pair", (account, ip)), ("login-ip", (ip,)))

    def failed_login(self, *, account: str, ip: str) -> None:
        self.count(("login-pair", (account, ip)), ("login-ip", (ip,)))

    def check_signup(self, *, email: str, ip: str) -> None:
        """429 when this (e-mail, IP) pair or this IP has too many recent failed sign-ups."""
        self.check(("signup-pair", (email, ip)), ("signup-ip", (ip,)))

    def failed_signup(self, *, email: str, ip: str) -> None:
        self.count(("signup-pair", (email, ip)), ("signup-ip", (ip,)))

    def check_claim(self, *, user_id: str, ip: str) -> None:
        """429 when this account or this IP has sent too many wrong claim codes."""
        self.check(("claim-user", (user_id,)), ("claim-ip", (ip,)))

    def failed_claim(self, *, user_id: str, ip: str) -> None:
        self.count(("claim-user", (user_id,)), ("claim-ip", (ip,)))
