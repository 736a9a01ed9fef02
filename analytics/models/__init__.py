"""Analytics models, one module per area; everything is importable from here."""

from analytics.models.clv import CLVMethod, CLVModelFit, MemberCLV
from analytics.models.inputs import MarketingSpend, SpendKind, StoreSales
from analytics.models.recommend import CoPurchase, ItemStat, RewardCategory
from analytics.models.rfm import ChurnRisk, MemberRFM, RFMSegment
from analytics.models.snapshots import (
    DailyStoreSnapshot,
    DailyVoucherSnapshot,
    MemberMonthActivity,
    MonthlyCohortSnapshot,
    PeriodMemberStats,
    ProgramStateSnapshot,
    RefreshState,
)

__all__ = [
    "CLVMethod",
    "CLVModelFit",
    "MemberCLV",
    "ChurnRisk",
    "CoPurchase",
    "DailyStoreSnapshot",
    "DailyVoucherSnapshot",
    "ItemStat",
    "MarketingSpend",
    "MemberMonthActivity",
    "MemberRFM",
    "MonthlyCohortSnapshot",
    "PeriodMemberStats",
    "ProgramStateSnapshot",
    "RFMSegment",
    "RefreshState",
    "RewardCategory",
    "SpendKind",
    "StoreSales",
]
