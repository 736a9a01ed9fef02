from django.conf import settings

from members.branding import branding_get


def loyalty(request):
    # The branding comes from the shared cache (members.branding): no query on
    # a page, read at most once a request.
    return {"LOYALTY_CURRENCY": settings.LOYALTY_CURRENCY, "brand": branding_get()}
