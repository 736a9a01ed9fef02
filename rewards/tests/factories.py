import factory
from factory.django import DjangoModelFactory

from rewards.models import Reward, RewardType


class RewardFactory(DjangoModelFactory):
    class Meta:
        model = Reward

    name = factory.Sequence(lambda n: f"Reward {n}")
    type = RewardType.FREE_PRODUCT
    points_cost = 150
    voucher_valid_days = 30
