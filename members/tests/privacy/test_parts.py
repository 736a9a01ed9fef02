"""The parts that rewards and campaigns add to a member's export and erasure
(members.privacy's registry) keep the export's keys in their documented order."""

import pytest

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
    "ledger_entries",
    "purchases",
    "returns",
    "redemptions",
    "vouchers",
    "tier_history",
    "referrals_made",
    "referred_by",
    "payments",
]


def test_export_keys_come_in_the_documented_order(customer):
    _user, member = customer

    assert list(member_data_export(member=member)) == EXPORT_KEYS


def test_export_of_a_member_takes_a_fixed_number_of_queries(
    customer, django_assert_max_num_queries
):
    _user, member = customer

    with django_assert_max_num_queries(11):  # 10 + the picked interests
        member_data_export(member=member)
