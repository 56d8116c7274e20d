"""Counted limits outside the API's request throttles: sign-up and password reset pages,
and uploads by every route. Rates are written as DRF writes them: "20/minute", "3/hour".

Counts live in the shared cache, so every web process sees them, and are taken with the
cache's atomic increment, so concurrent requests cannot all slip under a limit. A window
slides: it is counted in twelfths, and a charge is weighed against the current twelfth and
the twelve before it. Any span of a window's length then holds at most the limit; a clock
window would let twice the limit through across its edge (the limit at 18:59, again at
19:00). The price is that a charge may be held back up to a twelfth of a window longer."""

import hashlib
import logging
import math
import time
from dataclasses import dataclass

from django.core.cache import cache

log = logging.getLogger(__name__)

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
SLICES = 12


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


@dataclass(frozen=True)
class Refused:
    charge: Charge  # the first charge over its rate
    wait: int  # seconds until it would fit


def _slice_keys(charge: Charge, now: float) -> tuple[list[str], float]:
    """The cache keys of the slices a charge is weighed against, oldest first, and the
    width of one slice in seconds."""
    width = charge.rate.window / SLICES
    current = int(now // width)
    return [f"rate:{charge.key}:{charge.rate.window}:{index}" for index in range(current - SLICES, current + 1)], width


def _wait(counts: list[int], over: int, width: float, now: float) -> int:
    """Seconds until enough of the oldest slices leave the window for `over` to fit."""
    current = int(now // width)
    dropped = 0
    # The slice at position i (0 the oldest) began at current - SLICES + i and is weighed
    # until SLICES + 1 slices later.
    for position, count in enumerate(counts[:-1]):
        dropped += count
        if dropped >= over:
            return max(1, math.ceil((current + position + 1) * width - now))
    # Only the slices still to come can make room: the whole window must pass.
    return max(1, math.ceil((current + SLICES + 1) * width - now))


def take(*charges: Charge) -> Refused | None:
    """Count every charge, or none: None when all are within their rates, else the first
    one over its rate and how long until it would fit. What a refusal took is given back,
    so refused attempts do not use up the allowance.

    A cache that cannot be reached lets the request through (logged): the limits guard
    against abuse, and should not take the site down with them."""
    taken: list[tuple[str, int]] = []
    try:
        now = time.time()
        for charge in charges:
            keys, width = _slice_keys(charge, now)
            # A slice is read for a window and a slice after it began.
            cache.add(keys[-1], 0, timeout=math.ceil(charge.rate.window + 2 * width))
            taken.append((keys[-1], charge.amount))
            cache.incr(keys[-1], charge.amount)
            found = cache.get_many(keys)
            counts = [found.get(key, 0) for key in keys]
            if (total := sum(counts)) > charge.rate.limit:
                for taken_key, amount in taken:
                    cache.decr(taken_key, amount)
                return Refused(charge, _wait(counts, total - charge.rate.limit, width, now))
    except Exception:  # the backend's own error type (redis, files) varies
        log.exception("rate limits unavailable; letting the request through")
    return None


def in_words(seconds: int) -> str:
    """A wait as a sentence says it: "40 seconds", "a minute", "12 minutes"."""
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)
    return "a minute" if minutes == 1 else f"{minutes} minutes"
