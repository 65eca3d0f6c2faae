"""Who may query ``msmult serve``, how much, how fast, and what each key was answered.

Keys are sent as ``Authorization: Bearer <key>`` (RFC 6750). Each key has a budget of rows and a
request rate (a token bucket: ``rate`` requests per second, bursts of up to ``max(1, rate)``);
past either the server answers 429 (Too Many Requests, RFC 6585), with ``Retry-After`` in whole
seconds when waiting helps (the rate), without it when it does not (a spent budget). Keys are
reported by the first 8 hex digits of their sha256, never in clear.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field


@dataclass
class KeyUse:
    """One key's requests, rows answered (repeats included) and distinct rows answered."""

    requests: int = 0
    rows_answered: int = 0
    distinct: set[int] = field(default_factory=set)
    tokens: float = 0.0
    refilled: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class Refusal:
    """An HTTP error answer: status, message and, when waiting helps, seconds to wait."""

    status: int
    message: str
    retry_after: int | None = None


class KeyLimits:
    """``keys``: the accepted keys (``None``: anyone, counted as one anonymous key);
    ``budget``: rows per key (``None``: no limit); ``rate``: requests per second per key."""

    def __init__(
        self,
        keys: frozenset[str] | None = None,
        budget: int | None = None,
        rate: float | None = None,
    ) -> None:
        self.keys = keys
        self.budget = budget
        self.rate = rate
        self.uses: dict[str, KeyUse] = {}

    def key_of(self, authorization: str | None) -> str | Refusal:
        """The caller's key from its ``Authorization`` header, or a 401 refusal."""
        if self.keys is None:
            return ""
        scheme, _, key = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or key.strip() not in self.keys:
            return Refusal(401, "a valid key is required: send `Authorization: Bearer <key>`")
        return key.strip()

    def admit(self, key: str, rows: int) -> Refusal | None:
        """``None`` when ``key`` may have ``rows`` more rows answered now, else the refusal."""
        use = self.uses.setdefault(key, KeyUse(tokens=max(1.0, self.rate or 0.0)))
        if self.budget is not None and use.rows_answered + rows > self.budget:
            return Refusal(
                429,
                f"this key's budget of {self.budget} rows is spent "
                f"({use.rows_answered} answered; this request asks for {rows})",
            )
        if self.rate is not None:
            now = time.monotonic()
            use.tokens = min(max(1.0, self.rate), use.tokens + (now - use.refilled) * self.rate)
            use.refilled = now
            if use.tokens < 1.0:
                wait = math.ceil((1.0 - use.tokens) / self.rate)
                return Refusal(429, f"rate limit of {self.rate} requests per second", wait)
            use.tokens -= 1.0
        return None

    def record(self, key: str, row_hashes: list[int]) -> None:
        """Count an answered request and its rows (``row_hashes``: one hash per raw row)."""
        use = self.uses.setdefault(key, KeyUse())
        use.requests += 1
        use.rows_answered += len(row_hashes)
        use.distinct.update(row_hashes)

    def stats(self) -> dict:
        """Per key (by sha256 prefix) and in all: requests, rows answered, distinct rows."""
        every: set[int] = set()
        keys = {}
        for key, use in self.uses.items():
            every |= use.distinct
            name = hashlib.sha256(key.encode()).hexdigest()[:8] if key else "anonymous"
            keys[name] = {
                "requests": use.requests,
                "rows_answered": use.rows_answered,
                "distinct_rows": len(use.distinct),
            }
        return {
            "requests": sum(u.requests for u in self.uses.values()),
            "rows_answered": sum(u.rows_answered for u in self.uses.values()),
            "distinct_rows": len(every),
            "keys": keys,
        }
