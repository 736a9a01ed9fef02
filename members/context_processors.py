from django.conf import settings


def loyalty(request):
    return {"LOYALTY_CURRENCY": settings.LOYALTY_CURRENCY}
