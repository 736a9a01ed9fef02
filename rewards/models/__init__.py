"""The points ledger and what moves it: purchases, returns, redemptions, adjustments,
rewards, vouchers, tiers and paid memberships; bonuses and referrals, staff
controls and anomaly flags. One module per area; everything is importable from here."""

from rewards.models.anomalies import (  # noqa: F401
    AnomalyFlag,
    AnomalyRule,
    AnomalyStatus,
    AnomalySubject,
)
from rewards.models.catalog import (  # noqa: F401
    Reward,
    RewardType,
    Voucher,
    VoucherSource,
    VoucherStatus,
)
from rewards.models.categories import (  # noqa: F401
    Category,
)
from rewards.models.controls import (  # noqa: F401
    AdjustmentRequest,
    AdjustmentStatus,
    StaffControls,
)
from rewards.models.earning import (  # noqa: F401
    EarningRule,
    RuleKind,
    RuleStatus,
)
from rewards.models.ledger import (  # noqa: F401
    AppendOnlyError,
    LedgerEntry,
    LedgerEntryQuerySet,
    LedgerKind,
    LotDraw,
    PointsAccount,
    PointsLot,
)
from rewards.models.memberships import (  # noqa: F401
    MembershipPlan,
    RefundEnds,
    Subscription,
    SubscriptionEvent,
    SubscriptionEventKind,
    SubscriptionStatus,
)
from rewards.models.payments import (  # noqa: F401
    CallbackOutcome,
    Payment,
    PaymentCallback,
    PaymentProviderName,
    PaymentPurpose,
    PaymentStatus,
)
from rewards.models.program import (  # noqa: F401
    ProgramSettings,
)
from rewards.models.promocodes import (  # noqa: F401
    PromoChannel,
    PromoCode,
    PromoCodeBatch,
    PromoCodeKey,
    PromoCodeMode,
    PromoCodeUse,
    PromoEffect,
    PromoStacking,
    PromoUseSource,
)
from rewards.models.purchases import (  # noqa: F401
    Purchase,
    PurchaseLine,
    PurchaseReturn,
    Redemption,
)
from rewards.models.referrals import (  # noqa: F401
    BonusSettings,
    Referral,
    ReferralStatus,
    RefusalReason,
)
from rewards.models.stamps import (  # noqa: F401
    StampCard,
    StampCardStatus,
    StampEntry,
    StampEntryKind,
    StampProgram,
    StampTrigger,
)
from rewards.models.tiers import (  # noqa: F401
    Tier,
    TierHistory,
    TierQualification,
    TierWindow,
)
from rewards.models.wallet import (  # noqa: F401
    AppleDeviceRegistration,
    WalletPass,
)
