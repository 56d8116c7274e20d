"""Counted limits outside the API's request throttles: sign-up and password reset pages,
and uploads by every route. Counts live in the shared cache, in fixed windows, and are
taken with the cache's atomic increment, so concurrent requests cannot all slip under
a limit. Rates are written as DRF writes them: "20/minute", "3/hour"."""

import hashlib
import logging
import time
from dataclasses import dataclass

from django.core.cache import cache

log = logging.getLogger(__name__)

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Rate:
    limit: int
    window: int  # seconds

    @classmethod
    def parse(cls, rate: str) -> "Rate":
        count, period = rate.split("/")
        return cls(int(count), PERIODS[period.strip()[0]])

    @property
    def per(self) -> str:
        return {1: "a second", 60: "a minute", 3600: "an hour", 86400: "a day"}[self.window]

    def __str__(self) -> str:
        return f"{self.limit:,} {self.per}"


@dataclass(frozen=True)
class Charge:
    """An amount to count against a rate under a key (a client address, a user id...)."""

    key: str
    rate: Rate
    amount: int = 1


def hashed(value: str) -> str:
    """A cache-safe key part for user input such as an e-mail address."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def take(*charges: Charge) -> int:
    """Count every charge, or none: 0 when all are within their rates, else the seconds
    until the window of the first one over its rate ends. What a refusal took is given
    back, so refused attempts do not use up the allowance.

    A cache that cannot be reached lets the request through (logged): the limits guard
    against abuse, and should not take the site down with them."""
    taken: list[tuple[str, int]] = []
    try:
        now = time.time()
        for charge in charges:
            start = int(now // charge.rate.window) * charge.rate.window
            key = f"rate:{charge.key}:{charge.rate.window}:{start}"
            cache.add(key, 0, timeout=charge.rate.window)
            taken.append((key, charge.amount))
            if cache.incr(key, charge.amount) > charge.rate.limit:
                for taken_key, amount in taken:
                    cache.decr(taken_key, amount)
                return max(1, round(start + charge.rate.window - now))
    except Exception:  # the backend's own error type (redis, files) varies
        log.exception("rate limits unavailable; letting the request through")
    return 0


def in_words(seconds: int) -> str:
    """A wait as a sentence says it: "40 seconds", "a minute", "12 minutes"."""
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)
    return "a minute" if minutes == 1 else f"{minutes} minutes"
