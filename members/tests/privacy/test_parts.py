"""The parts that rewards and campaigns add to a member's export and erasure
(members.privacy's registry) keep the export's keys in their documented order,
and every model that points at a member is exported or left out for a reason."""

import pytest
from django.apps import apps

from members.models import Member
from members.privacy import member_data_export

pytestmark = pytest.mark.django_db

EXPORT_KEYS = [
    "format",
    "version",
    "exported_at",
    "member",
    "login",
    "points_account",
    "consent_history",
    "leaving_answers",
    "push_subscriptions",
    "ledger_entries",
    "purchases",
    "returns",
    "redemptions",
    "vouchers",
    "tier_history",
    "referrals_made",
    "referred_by",
    "payments",
    "subscriptions",
    "stamp_cards",
    "promo_code_uses",
    "messages",
    "complaints",
    "survey_invitations",
    "survey_responses",
    "event_rsvps",
]

# Every model with a foreign key to Member: the export key that holds its rows,
EXPORTED = {
    "members.ConsentEvent": "consent_history",
    "members.LeaveAnswer": "leaving_answers",
    "members.PushSubscription": "push_subscriptions",
    "rewards.PointsAccount": "points_account",
    "rewards.Purchase": "purchases",
    "rewards.Redemption": "redemptions",
    "rewards.Voucher": "vouchers",
    "rewards.TierHistory": "tier_history",
    "rewards.Referral": "referrals_made",
    "rewards.Payment": "payments",
    "rewards.Subscription": "subscriptions",
    "rewards.StampCard": "stamp_cards",
    "rewards.PromoCodeUse": "promo_code_uses",
    "campaigns.Message": "messages",
    "campaigns.Complaint": "complaints",
    "campaigns.SurveyInvitation": "survey_invitations",
    "campaigns.SurveyResponse": "survey_responses",
    "campaigns.EventRsvp": "event_rsvps",
}
# or why it is not the member's own data to hand over.
NOT_EXPORTED = {
    "members.Member": "the member's own row (exported as `member`): referred_by",
    "members.StaffAuditEvent": "the staff's security log of who opened the data",
    "members.OneTimeCode": "short-lived login secrets, deleted when used or expired",
    "members.MemberErasure": "written only when the member is erased",
    "members.WebhookSequence": "a counter for numbering webhook events",
    "members.WebhookEvent": "copies, sent to the shop's systems, of exported events",
    "rewards.AnomalyFlag": "staff's fraud review; its findings are not the member's",
    "rewards.AdjustmentRequest": "staff's request; what it changed is a ledger entry",
    "campaigns.CampaignRecipient": "the campaign's choice of recipients; what was "
    "sent is in messages",
    "campaigns.SegmentStaticMember": "a marketer's uploaded list of phones or cards",
    "rewards.WalletPass": "the card's copy in a phone's wallet (its keys, not the "
    "member's data); erasure deletes it",
    "analytics.MemberRFM": "figures computed from the exported purchases",
    "analytics.MemberMonthActivity": "figures computed from the exported purchases",
    "analytics.MemberCLV": "figures computed from the exported purchases",
}


def _models_pointing_at_members() -> set[str]:
    return {
        model._meta.label
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if field.is_relation and field.concrete and field.related_model is Member
    }


def test_every_model_about_a_member_is_exported_or_left_out_for_a_reason(customer):
    _user, member = customer
    pointing = _models_pointing_at_members()

    unaccounted = pointing - set(EXPORTED) - set(NOT_EXPORTED)
    assert not unaccounted, f"add to the export or to NOT_EXPORTED: {unaccounted}"
    assert not (set(EXPORTED) | set(NOT_EXPORTED)) - pointing  # no stale names
    keys = set(member_data_export(member=member))
    assert set(EXPORTED.values()) <= keys


def test_export_keys_come_in_the_documented_order(customer):
    _user, member = customer

    assert list(member_data_export(member=member)) == EXPORT_KEYS


def test_export_of_a_member_takes_a_fixed_number_of_queries(
    customer, django_assert_max_num_queries
):
    _user, member = customer

    # One query per kind of row (two for rows with their own lines), none per row.
    with django_assert_max_num_queries(21):
        member_data_export(member=member)
