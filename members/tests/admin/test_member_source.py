"""Staff correct where a member came from on a small admin form, through
member_source_set, with an audit row; the change page and Member 360 link to
it and show the source."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from members.models import AuditAction, MemberSource, StaffAuditEvent
from members.tests.factories import MemberFactory, StoreFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def _url(member) -> str:
    return reverse("admin:members_member_source", args=[member.pk])


def test_a_manager_corrects_the_source_with_an_audit_row(client, manager, store):
    member = MemberFactory(store=store)
    friend = MemberFactory(store=store)
    partner_counter = StoreFactory(name="Bakery counter")
    client.force_login(manager)
    page = client.get(_url(member))
    assert page.status_code == 200
    assert page.context["form"].initial["source"] == MemberSource.TILL

    response = client.post(
        _url(member),
        {
            "source": "referral",
            "store": partner_counter.pk,
            "referred_by": friend.card_number,
            "utm_source": "flyer",
            "utm_medium": "print",
            "utm_campaign": "",
        },
    )

    assert response.status_code == 302, response.context["form"].errors
    member.refresh_from_db()
    assert (
        member.source,
        member.referred_by,
        member.enrolled_store,
        member.utm_source,
        member.utm_medium,
    ) == (MemberSource.REFERRAL, friend, partner_counter, "flyer", "print")
    event = StaffAuditEvent.objects.get(
        member=member, actor=manager, action=AuditAction.MEMBER_CHANGED
    )
    assert event.details == {
        "fields": [
            "source",
            "referred_by",
            "enrolled_store",
            "utm_source",
            "utm_medium",
        ]
    }


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"source": "tv"}, "source", "Select a valid choice"),
        ({"source": "referral"}, "referred_by", "needs the friend's card number"),
        (
            {"source": "referral", "referred_by": "0000 0000 0000"},
            "referred_by",
            "No member has card number",
        ),
        ({"source": "online", "utm_source": "x" * 101}, "utm_source", "at most 100"),
        ({"source": "online", "utm_medium": "a\x07b"}, "utm_medium", "control"),
    ],
)
def test_bad_input_is_a_form_error_and_changes_nothing(
    client, manager, store, body, field, message
):
    member = MemberFactory(store=store)
    client.force_login(manager)
    response = client.post(_url(member), body)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    member.refresh_from_db()
    assert member.source == MemberSource.TILL
    assert not StaffAuditEvent.objects.filter(
        member=member, action=AuditAction.MEMBER_CHANGED
    ).exists()


def test_a_self_referral_is_a_form_error(client, manager, store):
    member = MemberFactory(store=store)
    client.force_login(manager)
    response = client.post(
        _url(member), {"source": "referral", "referred_by": member.card_number}
    )
    assert response.status_code == 200
    assert "cannot refer themselves" in str(response.context["form"].errors)


def test_staff_without_the_change_permission_are_refused(client, store):
    member = MemberFactory(store=store)
    viewer = UserFactory(username="viewer", is_staff=True, store=store)
    viewer.user_permissions.add(
        Permission.objects.get(
            codename="view_member", content_type__app_label="members"
        )
    )
    client.force_login(viewer)
    assert client.get(_url(member)).status_code == 403
    assert client.post(_url(member), {"source": "online"}).status_code == 403
    change = client.get(reverse("admin:members_member_change", args=[member.pk]))
    assert _url(member) not in change.content.decode()


def test_the_change_page_shows_the_source_and_links_to_the_form(client, manager, store):
    member = MemberFactory(store=store)
    client.force_login(manager)
    page = client.get(reverse("admin:members_member_change", args=[member.pk]))
    html = page.content.decode()
    assert _url(member) in html
    assert "Till or counter in a store" in html
