"""Rate limit per till token, so one misbehaving till cannot starve the others."""

from __future__ import annotations

import math

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from members.models import ApiToken


class ApiTokenRateThrottle(SimpleRateThrottle):
    """`REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["api_token"]` requests per token.

    Counters live in the default cache: per process with local memory, shared
    across gunicorn workers once CACHE_URL points at Redis. Calls without a
    token are not counted here; they are refused by authentication anyway.

    A sliding window of two counters rather than DRF's list of timestamps: DRF
    reads, unpickles, prepends to and writes back a list with one float per
    request of the last period (36 000 of them for a till at 600/min... or at a
    generous rate), on every request. Here the request is counted in the
    current period's counter (one atomic `incr`), and the previous period's
    count weighs in by the share of it still inside the sliding period (the
    approximation Cloudflare and nginx use): one `get_many` and one `incr`,
    whatever the rate; with Redis (loyalty_site.redis_cache) one script that
    does both, one round trip."""

    scope = "api_token"

    def get_rate(self):
        # Read the rate on each request, not once at import as DRF's class
        # attribute does, so a changed setting (tests, reload) takes effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self.now = self.timer()
        period = int(self.now // self.duration)
        current, previous = f"{key}:{period}", f"{key}:{period - 1}"
        into_period = (self.now % self.duration) / self.duration
        window_hit = getattr(self.cache, "sliding_window_hit", None)
        if window_hit is not None:
            # The same in one round trip (loyalty_site.redis_cache with Redis).
            self.estimate = window_hit(
                current,
                previous,
                previous_weight=1 - into_period,
                limit=self.num_requests,
                timeout=2 * self.duration,
            )
            if self.estimate >= self.num_requests:
                return self.throttle_failure()
            return True
        counts = self.cache.get_many([current, previous])
        self.estimate = counts.get(previous, 0) * (1 - into_period) + counts.get(
            current, 0
        )
        if self.estimate >= self.num_requests:
            return self.throttle_failure()
        # Kept two periods: the next period still reads it as its previous one.
        try:
            self.cache.incr(current)
        except ValueError:  # the period's first request
            if not self.cache.add(current, 1, 2 * self.duration):
                self.cache.incr(current)  # another worker's first came between
        return True

    def wait(self):
        """A hint for Retry-After: the rest of this period, after which this
        period's count starts to fade."""
        return max(1, math.ceil(self.duration - self.now % self.duration))
