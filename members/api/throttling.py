"""Rate limit per till token, so one misbehaving till cannot starve the others."""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from members.models import ApiToken


class ApiTokenRateThrottle(SimpleRateThrottle):
    """`REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["api_token"]` requests per token.

    Counters live in the default cache: per process with local memory, shared
    across gunicorn workers once CACHE_URL points at Redis. Calls without a
    token are not counted here; they are refused by authentication anyway."""

    scope = "api_token"

    def get_rate(self):
        # Read the rate on each request, not once at import as DRF's class
        # attribute does, so a changed setting (tests, reload) takes effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
