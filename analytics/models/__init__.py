"""Models of the analytics app (a package: each area keeps its own module)."""

from analytics.models.recommend import CoPurchase, ItemStat, RewardCategory
from analytics.models.rfm import ChurnRisk, MemberRFM, RFMSegment

__all__ = [
    "ChurnRisk",
    "CoPurchase",
    "ItemStat",
    "MemberRFM",
    "RFMSegment",
    "RewardCategory",
]
