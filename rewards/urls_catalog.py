"""The rewards catalog, the customer's vouchers, tiers, stamp cards and partners, mounted at "/"."""

from django.urls import path

from rewards import views

app_name = "catalog"
urlpatterns = [
    path("rewards/", views.catalog, name="catalog"),
    path("rewards/redeem/", views.redeem, name="redeem"),
    path("rewards/code/", views.promo_code_enter, name="promo_code"),
    path("vouchers/", views.vouchers, name="vouchers"),
    path("tiers/", views.tiers, name="tiers"),
    path("partners/", views.partners, name="partners"),
    path("stamps/", views.stamps, name="stamps"),
    path("membership/", views.membership, name="membership"),
    # The code is looked up among the logged-in member's own vouchers only.
    path("vouchers/<str:code>/", views.voucher, name="voucher"),
]
