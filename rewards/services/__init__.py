"""Every write to points: accounts, purchases, returns, redemptions, adjustments,
vouchers and tiers; bonuses, referrals and anomaly flags. One module per area; this package re-exports the public
services for callers outside rewards (modules inside rewards import the area
module).

Each public service runs in its own durable transaction, locks the member's
points account first (rewards.locks), writes the domain row and its ledger
entry together and updates the cached balance in the same transaction, so
`balance == sum(entries)` holds at every commit.

Writes a till can retry are idempotent on (store, receipt_id): the same body
returns the first result (`replayed=True`), a different body raises Conflict
(rewards.services.receipts: the till receipt that purchases, returns and
redemptions share).
"""

from rewards.services.accounts import (  # noqa: F401
    BonusInput,
    points_account_create,
    points_accounts_open,
)
from rewards.services.adjustments import (  # noqa: F401
    adjustment_approve,
    adjustment_refuse,
    adjustment_request,
)
from rewards.services.anomalies import (  # noqa: F401
    anomalies_scan,
    anomaly_digest_send,
    anomaly_flags_review,
)
from rewards.services.bonuses import (  # noqa: F401
    BIRTHDAY_NOTICE_DAYS,
    PROFILE_REASON,
    WELCOME_REASON,
    birthday_bonus_grant_due,
    bonus_grant,
    bonus_settings_ensure,
    bonus_settings_save,
    bonus_settings_update,
    profile_bonus_check,
)
from rewards.services.counter_controls import (  # noqa: F401
    DailyLimitReached,
    counter_hook,
    limit_refusal_record,
    staff_controls_ensure,
    staff_controls_save,
)
from rewards.services.earning import (  # noqa: F401
    earning_rule_activate,
    earning_rule_check,
    earning_rule_pause,
    earning_rule_save,
    program_settings_ensure,
    program_settings_save,
    program_settings_update,
    settings_row_update,
)
from rewards.services.enrolment import (  # noqa: F401
    BulkEnrolmentBonuses,
    enrolment_bonuses_grant,
)
from rewards.services.idempotency import (  # noqa: F401
    MAX_RETRIES,
    RETRYABLE_SQLSTATES,
)
from rewards.services.inputs import (  # noqa: F401
    CENT,
    FUTURE_TOLERANCE,
    MAX_AMOUNT,
    MAX_POINTS,
    MAX_QUANTITY,
)
from rewards.services.ledger import (  # noqa: F401
    MAX_BALANCE,
    points_adjust,
    points_bonus_grant,
    points_expire_due,
)
from rewards.services.lines import LineInput, ReturnLineInput  # noqa: F401
from rewards.services.memberships import (  # noqa: F401
    membership_plan_save,
    membership_reminder_send,
    membership_voucher_key,
    membership_vouchers_issue_due,
    subscription_cancel,
    subscription_sell,
    subscriptions_expire_due,
    subscriptions_remind_due,
)
from rewards.services.purchases import (  # noqa: F401
    purchase_record,
    purchase_time_check,
)
from rewards.services.redemptions import points_redeem  # noqa: F401
from rewards.services.referrals import (  # noqa: F401
    DOTLESS_DOMAINS,
    referral_approve,
    referral_qualify_on_purchase,
    referral_record,
    referral_refuse,
    referral_refuse_enrolled,
)
from rewards.services.returns import purchase_return_record  # noqa: F401
from rewards.services.stamps import (  # noqa: F401
    MAX_STAMPS_PER_PURCHASE,
    stamp_cards_expire_due,
    stamp_program_save,
    stamp_programs_running,
    stamps_award_for_purchase,
    stamps_for_purchase,
    stamps_revoke_for_return,
)
from rewards.services.tiers import (  # noqa: F401
    RATE_PLACES,
    tier_evaluate,
    tier_save,
    tiers_downgrade_due,
)
from rewards.services.vouchers import (  # noqa: F401
    IDEMPOTENCY_KEY_MAX_LENGTH,
    VOUCHER_ALPHABET,
    VOUCHER_CODE_LENGTH,
    category_save,
    reward_redeem,
    reward_save,
    voucher_cancel,
    voucher_code_new,
    voucher_consume,
    voucher_expire_due,
    voucher_grant,
    voucher_validate,
)
