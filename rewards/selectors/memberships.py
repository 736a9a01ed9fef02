"""Paid memberships: plans on sale, the subscription in force and its perks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from rewards.models import MembershipPlan, Subscription, SubscriptionStatus


def membership_plans_on_sale() -> QuerySet[MembershipPlan]:
    return (
        MembershipPlan.objects.filter(is_active=True)
        .select_related("monthly_reward", "guaranteed_tier")
        .order_by("price", "name")
    )


def subscriptions_in_force(member_id: int, at: dt.datetime | None):
    """Active and paid until after `at` (a subscription past its end counts as
    over even before the nightly job marks it expired). purchase_record reads
    the same rule in its account-lock SQL (rewards/services/purchases.py)."""
    at = at or timezone.now()
    return Subscription.objects.filter(
        member_id=member_id,
        status=SubscriptionStatus.ACTIVE,
        started_at__lte=at,
        current_period_end__gt=at,
    )


def membership_active_get(
    *, member_id: int, at: dt.datetime | None = None
) -> Subscription | None:
    """The member's subscription whose perks apply at `at`. One query, with the
    plan and its perks."""
    return (
        subscriptions_in_force(member_id, at)
        .select_related("plan__monthly_reward", "plan__guaranteed_tier")
        .first()
    )


def membership_multiplier_get(
    *, member_id: int, at: dt.datetime | None = None
) -> tuple[str, Decimal] | None:
    """(plan name, earn multiplier) of the membership in force at `at`, or None:
    what the earning order's membership stage needs, without building models."""
    return (
        subscriptions_in_force(member_id, at)
        .values_list("plan__name", "plan__earn_multiplier")
        .first()
    )


def membership_earn_multiplier(
    *, member_id: int, at: dt.datetime | None = None
) -> Decimal:
    """The paid membership's earn multiplier for the member at `at`; 1 without one."""
    found = membership_multiplier_get(member_id=member_id, at=at)
    return found[1] if found else Decimal("1")


def membership_guaranteed_ranks(
    *, member_ids: list[int], at: dt.datetime
) -> dict[int, int]:
    """{member id: rank of the (active) tier their paid membership guarantees at `at`},
    one query for any number of members; members without a guarantee are absent."""
    rows = Subscription.objects.filter(
        member_id__in=member_ids,
        status=SubscriptionStatus.ACTIVE,
        started_at__lte=at,
        current_period_end__gt=at,
        plan__guaranteed_tier__is_active=True,
    ).values_list("member_id", "plan__guaranteed_tier__rank")
    return dict(rows)


def subscriptions_for_member(*, member_id: int) -> QuerySet[Subscription]:
    return (
        Subscription.objects.filter(member_id=member_id)
        .select_related("plan")
        .order_by("-started_at", "-id")
    )
