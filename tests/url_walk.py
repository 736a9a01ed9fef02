"""Every URL the project serves, from the resolver: the one walk the tests share
(the URL inventory, escaping, CSV exports, number formatting, typed numbers,
API errors, portal URLs). A page added later is walked by all of them."""

from __future__ import annotations

from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver

# Namespaces of the customer portal's pages.
PORTAL_NAMESPACES = {"portal", "catalog", "rewards", "campaigns", "analytics"}


def url_routes(
    patterns=None, prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str, URLPattern]]:
    """(route, name, pattern) of every URL pattern, depth first.

    `route` is the whole route ("admin/members/member/<path:object_id>/change/"),
    `name` the namespaced name ("admin:members_member_change", "" when the
    pattern has none)."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            yield from url_routes(
                pattern.url_patterns, prefix + str(pattern.pattern), inner
            )
        elif isinstance(pattern, URLPattern):
            name = namespace + pattern.name if pattern.name else ""
            yield prefix + str(pattern.pattern), name, pattern
