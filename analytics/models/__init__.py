"""Analytics models, one module per area; everything is importable from here."""

from analytics.models.inputs import MarketingSpend, StoreSales  # noqa: F401
from analytics.models.snapshots import (  # noqa: F401
    DailyStoreSnapshot,
    DailyVoucherSnapshot,
    MemberMonthActivity,
    MonthlyCohortSnapshot,
    PeriodMemberStats,
    ProgramStateSnapshot,
    RefreshState,
)
