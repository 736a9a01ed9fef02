from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from rewards.models import MembershipPlan, Reward, RewardType, Tier


class RewardFactory(DjangoModelFactory):
    class Meta:
        model = Reward

    name = factory.Sequence(lambda n: f"Reward {n}")
    type = RewardType.FREE_PRODUCT
    points_cost = 150
    voucher_valid_days = 30


class TierFactory(DjangoModelFactory):
    class Meta:
        model = Tier

    name = factory.Sequence(lambda n: f"Tier {n}")
    rank = factory.Sequence(lambda n: n + 1)
    threshold = Decimal("0")
    earn_multiplier = Decimal("1.00")
    grace_days = 30


class MembershipPlanFactory(DjangoModelFactory):
    class Meta:
        model = MembershipPlan

    name = factory.Sequence(lambda n: f"Club {n}")
    price = Decimal("99.00")
    period_months = 1
    earn_multiplier = Decimal("1.50")
