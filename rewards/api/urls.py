"""Points endpoints of the POS API, mounted under /api/v1/ (namespace "api-v1")."""

from django.urls import path

from rewards.api import (
    members,
    memberships,
    promocodes,
    purchases,
    redemptions,
    vouchers,
)

urlpatterns = [
    # <str:...>, not a stricter converter: a malformed card is a JSON 404 from
    # the view rather than Django's HTML one. members.api.urls' "members/lookup"
    # is mounted before it.
    path(
        "members/<str:card_number>",
        members.MemberDetailApi.as_view(),
        name="member-detail",
    ),
    path("purchases", purchases.PurchaseCreateApi.as_view(), name="purchase-create"),
    # <str:...> so that a malformed id is the view's JSON 404, not Django's HTML one.
    path(
        "purchases/<str:purchase_id>/returns",
        purchases.PurchaseReturnCreateApi.as_view(),
        name="purchase-return-create",
    ),
    path(
        "redemptions",
        redemptions.RedemptionCreateApi.as_view(),
        name="redemption-create",
    ),
    path(
        "vouchers/<str:code>/validate",
        vouchers.VoucherValidateApi.as_view(),
        name="voucher-validate",
    ),
    path(
        "vouchers/<str:code>/consume",
        vouchers.VoucherConsumeApi.as_view(),
        name="voucher-consume",
    ),
    path(
        "promo-codes/<str:code>/validate",
        promocodes.PromoCodeValidateApi.as_view(),
        name="promo-code-validate",
    ),
    path(
        "membership-plans",
        memberships.MembershipPlanListApi.as_view(),
        name="membership-plan-list",
    ),
    path(
        "memberships", memberships.MembershipSellApi.as_view(), name="membership-sell"
    ),
]
