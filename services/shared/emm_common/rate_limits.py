"""Rate limits at the edges (sign-in link requests, invitation-based enrollment, the public
certificate check): per address and per IP, answered with a 429 and `Retry-After`.

The count lives in the service's database, so it holds across processes: a fixed window per
key, whose `count` places are documents inserted once (`{limit}|{key digest}|{window}|{n}`); a
hit takes the first free place, and of two processes taking the same place exactly one wins
(an insert of a unique _id, FerretDB v1 too). Keys are stored as digests, never as addresses.
Places of past windows are never read again (FerretDB v1 has no TTL index to drop them).
"""

from __future__ import annotations

import hashlib
import ipaddress
import time
from dataclasses import dataclass
from typing import Any, Callable

from fastapi import Request

from emm_common.store import DocumentStore

COLLECTION = "rate_limits"


@dataclass(frozen=True)
class Limit:
    """At most `count` hits per `window_seconds` for one key; `per` says what the key is: "ip",
    or a body or path field ("body:email", "path:certificate_reference")."""

    name: str
    per: str
    count: int
    window_seconds: int


class RateLimited(Exception):
    """Too many requests for one key: try again in `retry_after` seconds."""

    def __init__(self, limit: Limit, retry_after: int) -> None:
        super().__init__(f"{limit.name}: at most {limit.count} per {limit.per.split(':')[-1]} every "
                         f"{limit.window_seconds // 60} minutes")
        self.limit = limit
        self.retry_after = retry_after


class RateLimiter:
    def __init__(self, store: DocumentStore, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    async def hit(self, limit: Limit, key: str) -> None:
        """Count one hit of `key`, or raise RateLimited when its window is full (counting nothing)."""
        now = self.clock()
        window = int(now // limit.window_seconds)
        digest = hashlib.sha256(f"{limit.name}\x1f{key}".encode()).hexdigest()[:32]
        places = [f"{limit.name}|{digest}|{window}|{n}" for n in range(limit.count)]
        taken = await self.store.get_many(COLLECTION, places)
        for place in places:
            if place not in taken and await self.store.insert(COLLECTION, {"_id": place, "at": now}):
                return
        raise RateLimited(limit, max(1, int((window + 1) * limit.window_seconds - now) + 1))


def client_address(request: Request, trusted_proxies: frozenset[str] = frozenset()) -> str:
    """The caller's IP: the peer's, or the first `X-Forwarded-For` entry when the peer is a
    trusted proxy (the portal, an ingress): an address or a network (`10.0.0.0/8`)."""
    peer = request.client.host if request.client else "unknown"
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded and _trusted(peer, trusted_proxies):
        return forwarded.split(",")[0].strip()
    return peer


def _trusted(peer: str, trusted_proxies: frozenset[str]) -> bool:
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(proxy, strict=False) for proxy in trusted_proxies)


class RateLimit:
    """A route dependency applying `limits` (per IP, per body or path field). `only_if(request)`
    (default: always) says whether the call is one the limits are for, e.g. an invitation's."""

    def __init__(self, *limits: Limit, only_if: Callable[[Request], bool] = lambda request: True) -> None:
        self.limits = limits
        self.only_if = only_if

    async def __call__(self, request: Request) -> None:
        if not self.only_if(request):
            return
        limiter: RateLimiter = request.app.state.rate_limiter
        for limit in self.limits:
            key = await _key(request, limit.per, request.app.state.trusted_proxies)
            if key is not None:
                await limiter.hit(limit, key)


async def _key(request: Request, per: str, trusted_proxies: frozenset[str]) -> str | None:
    if per == "ip":
        return client_address(request, trusted_proxies)
    where, name = per.split(":", 1)
    if where == "path":
        return request.path_params.get(name)
    body: Any = None
    try:
        body = await request.json()
    except ValueError:
        return None  # the route's validation answers 422
    value = body.get(name) if isinstance(body, dict) else None
    return value.strip().lower() if isinstance(value, str) else None
