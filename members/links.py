"""Absolute links: the one place that knows the site's public address.

Every link that leaves a page (emails, SMS, unsubscribe and tracking links, the
password-reset link, the referral link a member copies) is `absolute_url(path)`,
built from settings.SITE_URL, never from the request's Host header (a worker has
no request, and a proxy may rewrite the host). Under `make run` SITE_URL follows
the port served (settings.py reads PORT, which bin/run exports).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings


def absolute_url(path: str) -> str:
    """`path` (from reverse(), starting with "/") on the site's public address."""
    return settings.SITE_URL.rstrip("/") + path


def site_host() -> str:
    """The host (and port) of SITE_URL, e.g. to name the site in a message."""
    return urlsplit(settings.SITE_URL).netloc
