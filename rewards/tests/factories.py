from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from rewards.models import (
    EarningRule,
    MembershipPlan,
    PromoCode,
    PromoCodeKey,
    PromoEffect,
    Reward,
    RewardType,
    RuleKind,
    RuleStatus,
    StampProgram,
    StampTrigger,
    Tier,
)


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


class EarningRuleFactory(DjangoModelFactory):
    class Meta:
        model = EarningRule
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Rule {n}")
    kind = RuleKind.MULTIPLIER
    status = RuleStatus.ACTIVE
    category = "coffee"
    multiplier = Decimal("2")

    @factory.post_generation
    def stores(self, create, extracted, **kwargs):
        if create and extracted:
            self.stores.set(extracted)


class StampProgramFactory(DjangoModelFactory):
    """Default: one stamp per purchase, 10 for a full card, cards never expire."""

    class Meta:
        model = StampProgram

    name = factory.Sequence(lambda n: f"Stamp card {n}")
    trigger = StampTrigger.PURCHASE
    stamps_needed = 10
    reward = factory.SubFactory(RewardFactory, name="Free coffee")


class MembershipPlanFactory(DjangoModelFactory):
    class Meta:
        model = MembershipPlan

    name = factory.Sequence(lambda n: f"Club {n}")
    price = Decimal("99.00")
    period_months = 1
    earn_multiplier = Decimal("1.50")


class PromoCodeFactory(DjangoModelFactory):
    """A shared code giving 100 bonus points, no limits; `code` makes its key."""

    class Meta:
        model = PromoCode
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Promo {n}")
    effect = PromoEffect.BONUS_POINTS
    points = 100

    @factory.post_generation
    def code(self, create, extracted, **kwargs):
        if create and extracted:
            PromoCodeKey.objects.create(code=extracted, promo=self)
