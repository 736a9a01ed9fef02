"""Deploy checks of the project's own settings (`manage.py check --deploy`).

Registered by loyalty_site.apps.LoyaltySiteConfig.ready(). Each reads the
settings as loaded, so a test can call it under override_settings.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from loyalty_site.secret_key import secret_key_advice, secret_key_problem

# Backends whose data lives in one process: counters kept there (API rate limits,
# password-reset throttles) count per gunicorn worker.
PER_PROCESS_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


@register(Tags.security, deploy=True)
def secret_key_check(app_configs=None, **kwargs) -> list[Error]:
    """An Error for a placeholder, short or repetitive SECRET_KEY, DEBUG or not
    (with DEBUG off settings.py already refuses to load it)."""
    problem = secret_key_problem(settings.SECRET_KEY)
    if problem is None:
        return []
    return [Error(secret_key_advice(problem), id="loyalty_site.E001")]


@register(Tags.caches, deploy=True)
def cache_shared_check(app_configs=None, **kwargs) -> list[Warning]:
    """A Warning for each cache that only one process sees."""
    return [
        Warning(
            f"CACHES[{alias!r}] uses {config['BACKEND']}, which every process "
            "keeps for itself: API rate limits and password-reset throttles then "
            "count per worker.",
            hint="Leave CACHE_URL unset (the database cache) or set "
            "CACHE_URL=redis://... (docs/operations.md).",
            id="loyalty_site.W001",
        )
        for alias, config in settings.CACHES.items()
        if config["BACKEND"] in PER_PROCESS_CACHES
    ]


@register(Tags.security, deploy=True)
def site_url_check(app_configs=None, **kwargs) -> list[Warning]:
    """A Warning when SITE_URL is this machine: links in emails and SMS, which
    are read elsewhere, would be dead."""
    host = urlsplit(settings.SITE_URL).hostname or ""
    try:
        local = ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = host in ("", "localhost") or host.endswith(".localhost")
    if not local:
        return []
    return [
        Warning(
            f"SITE_URL is {settings.SITE_URL!r}: links in emails and SMS would "
            "point at this machine.",
            hint="Set SITE_URL to the public address, e.g. https://loyalty.example.com.",
            id="loyalty_site.W002",
        )
    ]


PAYMENT_KEYS = {
    "liqpay": ("LIQPAY_PUBLIC_KEY", "LIQPAY_PRIVATE_KEY"),
    "stripe": ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"),
}


@register(Tags.security, deploy=True)
def payment_provider_check(app_configs=None, **kwargs) -> list[Error]:
    """An Error for the test payment provider on a server (its page pays
    without money), or for a real provider without its keys (every callback
    would be refused)."""
    provider = settings.PAYMENT_PROVIDER
    if provider == "test" and not settings.DEBUG:
        return [
            Error(
                "PAYMENT_PROVIDER is 'test' with DEBUG off: anyone could get a "
                "membership from its Pay button.",
                hint="Set PAYMENT_PROVIDER to liqpay or stripe, or leave it empty.",
                id="loyalty_site.E002",
            )
        ]
    if provider not in ("", "test", *PAYMENT_KEYS):
        return [
            Error(
                f"PAYMENT_PROVIDER is {provider!r}.",
                hint="Use liqpay, stripe, test or leave it empty.",
                id="loyalty_site.E003",
            )
        ]
    missing = [
        key for key in PAYMENT_KEYS.get(provider, ()) if not getattr(settings, key)
    ]
    if missing:
        return [
            Error(
                f"PAYMENT_PROVIDER is {provider!r} but {', '.join(missing)} "
                "is not set.",
                hint="See docs/operations.md, 'Online payment'.",
                id="loyalty_site.E003",
            )
        ]
    return []
