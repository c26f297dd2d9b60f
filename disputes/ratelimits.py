"""Per-user rate limits on writes (messages, filings, evidence files), counted in Django's cache.

On Redis every worker counts against the same limit. Each limit is `settings.RATE_LIMITS[action]`,
"count/period", over fixed windows: the counter for (action, user, window) is created at zero with
`cache.add` and raised with `cache.incr`, both atomic on Redis, so concurrent requests never get
more than the limit between them. A refused request gives its count back: it stored nothing.
The services call `rate_limit` so pages, the API and sockets share one allowance.
"""

import logging
import math
import time
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.core.cache import cache

from disputes.exceptions import DisputeError

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
WHAT = {"message": "messages", "filing": "new cases", "upload": "evidence files"}
logger = logging.getLogger(__name__)
_suspended = ContextVar("rate_limits_suspended", default=False)


class RateLimited(DisputeError):
    """Too many of one action for now; `retry_after` is in seconds."""

    def __init__(self, message: str, *, action: str, retry_after: int):
        super().__init__(message)
        self.action = action
        self.retry_after = retry_after


def parse_rate(rate: str) -> tuple[int, int]:
    """"30/minute" → (30, 60); as in Django REST framework, the period's first letter counts
    ("30/min", "30/m")."""
    count, _, period = rate.partition("/")
    by_letter = {name[0]: seconds for name, seconds in PERIODS.items()}
    return int(count), by_letter[period.strip().lower()[:1]]


def rate_limit(*, user, **costs: int) -> None:
    """Count `costs` (action → how many, e.g. filing=1, upload=2) against the user's limits;
    raise RateLimited, counting nothing, if any would go over."""
    if _suspended.get():
        return
    counted: list[tuple[str, int]] = []
    for action, cost in costs.items():
        if cost <= 0:
            continue
        limit, period = parse_rate(settings.RATE_LIMITS[action])
        now = time.time()
        window = int(now // period)
        window_left = (window + 1) * period - now
        key = f"ratelimit:{action}:{user.pk}:{window}"
        try:
            count = _incr(key, cost, timeout=math.ceil(window_left) + 1)
        except Exception:  # the cache is down: let the write through rather than refuse everyone
            logger.warning("Rate limits not counted: the cache is unavailable", exc_info=True)
            return
        counted.append((key, cost))
        if count > limit:
            for counted_key, counted_cost in counted:
                _decr(counted_key, counted_cost)
            retry_after = max(1, math.ceil(window_left))
            raise RateLimited(
                f"You can send at most {limit} {WHAT[action]} per {_period_name(period)}. "
                f"Please try again in {_wait(retry_after)}.",
                action=action,
                retry_after=retry_after,
            )


@contextmanager
def rate_limits_suspended():
    """For writes made on people's behalf in bulk (the demo data), not by them."""
    token = _suspended.set(True)
    try:
        yield
    finally:
        _suspended.reset(token)


def _incr(key: str, cost: int, *, timeout: int) -> int:
    # Raise the window's counter; only the first write of a window (no counter yet) creates it.
    for _ in range(3):
        try:
            return cache.incr(key, cost)
        except ValueError:  # no counter for this window yet, or it expired meanwhile
            cache.add(key, 0, timeout=timeout)
    raise RuntimeError(f"The rate-limit counter {key} cannot be kept in the cache.")


def _decr(key: str, cost: int) -> None:
    try:
        cache.decr(key, cost)
    except ValueError:  # already expired: nothing left to give back
        pass
    except Exception:  # the cache went away meanwhile: its counts went with it
        logger.warning("Could not give back a rate-limit count", exc_info=True)


def _period_name(seconds: int) -> str:
    return next(name for name, length in PERIODS.items() if length == seconds)


def _wait(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minutes"
