"""django-csp's middleware, with the policy built once per process instead of
on every response.

django-csp builds the Content-Security-Policy header from the settings on
every response (a dataclass copied to a dict, the directives merged and
joined, twice: the policy and the report-only one): a fifth of /healthz's CPU
and a few per cent of the till's earn request (bench/request_cpu.py). Nearly
every response uses the settings' policy as it is: no nonce was asked for and
no view decorator changed it. Those get the policy built once; any other
response goes through django-csp unchanged. The headers are the same.
"""

from __future__ import annotations

import functools
import http.client

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

# What a view's csp_* decorators leave on its response.
_PER_RESPONSE = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
)
# As django-csp: (header, the setting, the response's exemption attribute).
_HEADERS = (
    (HEADER, "CONTENT_SECURITY_POLICY", "_csp_exempt", False),
    (HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY", "_csp_exempt_ro", True),
)
_DEBUG_EXEMPT = (http.client.INTERNAL_SERVER_ERROR, http.client.NOT_FOUND)


@functools.cache
def _settings_policies() -> tuple[tuple[str, str, str, tuple[str, ...]], ...]:
    """(header, policy, exemption attribute, excluded path prefixes) of the
    settings' policies, as django-csp builds them with nothing per response."""
    policies = []
    for header, setting, exempt, report_only in _HEADERS:
        policy = build_policy(report_only=report_only)
        if policy:
            config = getattr(settings, setting, None) or {}
            prefixes = tuple(config.get("EXCLUDE_URL_PREFIXES", None) or ())
            policies.append((header, policy, exempt, prefixes))
    return tuple(policies)


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _settings_policies.cache_clear()


class CSPMiddleware(BaseCSPMiddleware):
    def process_response(self, request, response):
        if getattr(request, "_csp_nonce", None) is not None or any(
            getattr(response, name, None) is not None for name in _PER_RESPONSE
        ):
            return super().process_response(request, response)
        if response.status_code in _DEBUG_EXEMPT and settings.DEBUG:
            return response
        for header, policy, exempt, prefixes in _settings_policies():
            if (
                header not in response
                and getattr(response, exempt, False) is False
                and not request.path_info.startswith(prefixes)
            ):
                response[header] = policy
        # As django-csp: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
