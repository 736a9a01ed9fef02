"""Reads of the fitted customer-value model (written nightly by
analytics.services.clv): the newest fit and a member's predictions."""

from __future__ import annotations

from analytics.models import CLVModelFit, MemberCLV


def clv_latest_fit() -> CLVModelFit | None:
    return CLVModelFit.objects.order_by("-fitted_at", "-id").first()


def member_clv_get(*, member_id: int) -> MemberCLV | None:
    return MemberCLV.objects.filter(member_id=member_id).first()
