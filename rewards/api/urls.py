"""Points endpoints of the POS API, mounted under /api/v1/ (namespace "api-v1")."""

from django.urls import path

from rewards.api import members, memberships, views

urlpatterns = [
    # <str:...>, not a stricter converter: a malformed card is a JSON 404 from
    # the view rather than Django's HTML one. members.api.urls' "members/lookup"
    # is mounted before it.
    path(
        "members/<str:card_number>",
        members.MemberDetailApi.as_view(),
        name="member-detail",
    ),
    path("purchases", views.PurchaseCreateApi.as_view(), name="purchase-create"),
    # <str:...> so that a malformed id is the view's JSON 404, not Django's HTML one.
    path(
        "purchases/<str:purchase_id>/returns",
        views.PurchaseReturnCreateApi.as_view(),
        name="purchase-return-create",
    ),
    path("redemptions", views.RedemptionCreateApi.as_view(), name="redemption-create"),
    path(
        "vouchers/<str:code>/validate",
        views.VoucherValidateApi.as_view(),
        name="voucher-validate",
    ),
    path(
        "vouchers/<str:code>/consume",
        views.VoucherConsumeApi.as_view(),
        name="voucher-consume",
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
