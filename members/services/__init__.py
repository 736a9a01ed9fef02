"""Every write to members, consent, logins, API tokens and stores goes through
here. One module per area; callers import from here.

What the apps above add to an enrolment or a profile change (rewards: points
accounts, bonuses, referrals) plugs in through members.services.hooks.
"""

from members.services.branding import (  # noqa: F401
    branding_ensure,
    branding_save,
    branding_update,
)
from members.services.churn import (  # noqa: F401
    LeaveOccasion,
    leave_occasion_read,
    leave_reason_link,
    leave_reason_path,
    leave_reason_record,
    leave_reason_save,
    leave_reason_token,
    leave_reasons_ensure,
)
from members.services.consent import (  # noqa: F401
    consent_apply,
    consent_write,
    member_consent_set,
)
from members.services.enrolment import (  # noqa: F401
    CARD_MAX_LENGTH,
    PROFILE_FIELDS,
    REFERRAL_ALPHABET,
    REFERRAL_CODE_LENGTH,
    MemberAlreadyEnrolled,
    member_change,
    member_enroll,
    member_update_profile,
    referral_code_new,
)
from members.services.enrolment_bulk import (  # noqa: F401
    CARD_DRAWS,
    EnrollInput,
    EnrollOutcome,
    members_enroll_many,
)
from members.services.interests import (  # noqa: F401
    interest_save,
    interests_ensure,
    interests_match_text,
    member_interests_set,
)
from members.services.push import (  # noqa: F401
    push_subscription_delete,
    push_subscription_gone,
    push_subscription_result_record,
    push_subscription_save,
)
from members.services.signup import (  # noqa: F401
    OTP_MAX_ATTEMPTS,
    OTP_MAX_PER_HOUR,
    OTP_MESSAGE_KIND,
    SignupResult,
    WrongCode,
    member_claim_verify,
    member_signup,
    otp_purge_expired,
    otp_send,
)
from members.services.sources import (  # noqa: F401
    UTM_FIELDS,
    FirstTouch,
    member_source_clean,
    member_source_for,
    member_source_set,
    utm_value_check,
)
from members.services.stores import (  # noqa: F401
    partner_create,
    partner_save,
    store_delete,
    store_get_or_create,
    store_save,
)
from members.services.telegram import (  # noqa: F401
    telegram_link,
    telegram_link_code_issue,
    telegram_unlink,
)
from members.services.tokens import (  # noqa: F401
    api_token_check,
    api_token_create,
    api_token_delete,
    api_token_hash,
    api_token_revoke,
)
from members.services.users import user_delete, user_save  # noqa: F401
from members.services.webhook_delivery import (  # noqa: F401
    webhook_deliveries_due_send,
    webhook_delivery_resend,
    webhook_delivery_send,
)
from members.services.webhooks import (  # noqa: F401
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_save,
    webhook_endpoint_secret_rotate,
    webhook_event_record,
)
