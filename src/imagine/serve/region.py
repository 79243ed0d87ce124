"""Region policy: the client's country comes from a header set by a *trusted* proxy, checked against lists.

A header from anyone else is ignored (a client could set it to anything): the header is read only when
``middleware.TrustedProxies`` found the TCP peer in ``serve.trusted_proxies`` (empty by default). With an
allow list, an unknown region is refused (fail closed); the deny list always wins.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from imagine.serve.errors import ApiError
from imagine.serve.middleware import VIA_TRUSTED_PROXY


@dataclass(frozen=True)
class RegionPolicy:
    header: str
    allow: frozenset[str]
    deny: frozenset[str]

    @classmethod
    def from_lists(cls, header: str, allow: list[str], deny: list[str]) -> "RegionPolicy":
        return cls(header, frozenset(c.upper() for c in allow),
                   frozenset(c.upper() for c in deny))

    @property
    def active(self) -> bool:
        return bool(self.allow or self.deny)

    def region_of(self, request: Request) -> str | None:
        if not getattr(request.state, VIA_TRUSTED_PROXY, False):
            return None
        value = request.headers.get(self.header, "").strip().upper()
        return value if len(value) == 2 and value.isalpha() else None

    def refusal(self, request: Request) -> str | None:
        """Why this request is refused, or None when it may proceed."""
        if not self.active:
            return None
        region = self.region_of(request)
        if region is not None and region in self.deny:
            return f"Image generation is not available in your region ({region})."
        if self.allow and region not in self.allow:
            where = region or "unknown"
            return f"Image generation is not available in your region ({where})."
        return None

    def check(self, request: Request) -> None:
        reason = self.refusal(request)
        if reason is not None:
            raise ApiError("region_unavailable", reason)
