"""First touch: where a visitor came from, kept from the first visit to the
online sign-up (members.services.sources, docs/analytics.md "Where members
come from").

The first customer page a visitor opens stamps a signed cookie with the time
and the link's utm_source, utm_medium and utm_campaign (cleaned and cut to
100 characters each). Later visits leave it alone, except that a visit with
UTM parameters fills a cookie that has none yet: the first link that said where
the visitor came from wins. Staff pages, the API and static files never set it;
nor does a logged-in visit (that member's source is known already)."""

from __future__ import annotations

import json

from django.conf import settings

from members.services.sources import UTM_FIELDS, FirstTouch

FIRST_TOUCH_COOKIE = "loyalty_first_touch"
FIRST_TOUCH_SALT = "members.first-touch"
FIRST_TOUCH_MAX_AGE = 90 * 24 * 3600  # a sign-up within 90 days keeps it
_SKIPPED_PREFIXES = ("/api/", "/admin/", "/static/", "/media/")


def first_touch_from_request(request) -> FirstTouch | None:
    """The first touch the visitor's cookie holds, None without a valid one."""
    raw = request.get_signed_cookie(
        FIRST_TOUCH_COOKIE,
        default=None,
        salt=FIRST_TOUCH_SALT,
        max_age=FIRST_TOUCH_MAX_AGE,
    )
    if not raw:
        return None
    try:
        return FirstTouch.from_json(json.loads(raw))
    except ValueError:
        return None


def _has_utm(touch: FirstTouch) -> bool:
    return any(getattr(touch, name) for name in UTM_FIELDS)


class FirstTouchMiddleware:
    """Sets the first-touch cookie on the first customer page a visitor opens."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method != "GET" or request.path.startswith(_SKIPPED_PREFIXES):
            return response
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return response
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        kept = first_touch_from_request(request)
        seen = FirstTouch.from_params(request.GET)
        if kept is not None:
            if _has_utm(kept) or not _has_utm(seen):
                return response
            seen = FirstTouch(
                **{name: getattr(seen, name) for name in UTM_FIELDS},
                first_seen_at=kept.first_seen_at or seen.first_seen_at,
            )
        response.set_signed_cookie(
            FIRST_TOUCH_COOKIE,
            json.dumps(seen.as_json()),
            salt=FIRST_TOUCH_SALT,
            max_age=FIRST_TOUCH_MAX_AGE,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
        return response
