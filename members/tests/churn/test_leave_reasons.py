"""The leaving question: the seeded reasons, the answer service (one answer per
occasion, text only for "Other", an offered reason only), the signed link and
its page (no login, one tap), deletion and "every channel off" leading to it,
erasure keeping the answer without its text, the admin pages."""

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import translation

from members.errors import InvalidInput
from members.models import (
    Channel,
    ConsentSource,
    ErasureSource,
    LeaveAnswer,
    LeaveReason,
    LeaveTrigger,
)
from members.privacy import member_anonymize, member_data_export
from members.services import (
    leave_occasion_read,
    leave_reason_link,
    leave_reason_path,
    leave_reason_record,
    member_consent_set,
)
from members.services.churn import LEAVE_LINK_SALT

pytestmark = pytest.mark.django_db

PASSWORD = "pass-word-123"
DEFAULT_CODES = [
    "price",
    "quality",
    "service",
    "moved",
    "competitor",
    "not_interested",
    "too_many_messages",
    "other",
]


def _record(member, reason="price", text="", key="k1", trigger=LeaveTrigger.DELETED):
    return leave_reason_record(
        member=member, trigger=trigger, reason=reason, text=text, key=key
    )


class TestSeededReasons:
    def test_the_default_list_is_seeded_in_order_in_every_language(self):
        reasons = list(LeaveReason.objects.all())
        assert [r.code for r in reasons] == DEFAULT_CODES
        price = reasons[0]
        assert (price.name_uk, price.name_ru, price.name_ro, price.name_en) == (
            "Ціна",
            "Цена",
            "Prețul",
            "Price",
        )
        with translation.override("ro"):
            assert LeaveReason.objects.get(code="moved").name == "M-am mutat"
        assert [r.code for r in reasons if r.asks_text] == ["other"]


class TestRecord:
    def test_records_the_reason_with_the_home_store(self, member, store):
        answer = _record(member)
        assert (answer.reason.code, answer.trigger, answer.store_id) == (
            "price",
            "deleted",
            store.pk,
        )

    def test_same_occasion_again_changes_the_answer_instead_of_adding_one(self, member):
        first = _record(member, "price")
        same = _record(member, "price")
        assert same.pk == first.pk and same.answered_at == first.answered_at
        changed = _record(member, "service")
        assert changed.pk == first.pk
        assert LeaveAnswer.objects.get().reason.code == "service"
        # Another occasion is another answer.
        _record(member, "price", key="k2")
        assert LeaveAnswer.objects.count() == 2

    def test_text_is_kept_only_for_a_reason_that_asks_for_it(self, member):
        assert _record(member, "other", text="  Parking is awful ").text == (
            "Parking is awful"
        )
        assert _record(member, "price", text="secret", key="k2").text == ""

    def test_refuses_an_unknown_or_switched_off_reason(self, member):
        with pytest.raises(InvalidInput, match="Choose one of the reasons offered."):
            _record(member, "nonsense")
        LeaveReason.objects.filter(code="price").update(active=False)
        with pytest.raises(InvalidInput, match="Choose one of the reasons offered."):
            _record(member, "price")
        assert not LeaveAnswer.objects.exists()

    def test_refuses_an_unknown_trigger_and_a_long_text(self, member):
        with pytest.raises(InvalidInput, match="Unknown leaving trigger.") as err:
            _record(member, trigger="bored")
        assert err.value.field == "trigger"
        with pytest.raises(InvalidInput, match="at most 1000") as err:
            _record(member, "other", text="x" * 1001)
        assert err.value.field == "text"


class TestErasure:
    def test_erasure_keeps_the_answer_and_drops_its_text(self, member, store):
        _record(
            member,
            "other",
            text="My neighbour Ivan works here",
            trigger=LeaveTrigger.UNSUBSCRIBED,
        )
        member_anonymize(member=member, actor=None, source=ErasureSource.PORTAL)
        answer = LeaveAnswer.objects.get()
        assert (answer.reason.code, answer.text, answer.store_id) == (
            "other",
            "",
            store.pk,
        )

    def test_an_erased_member_answering_the_win_back_link_leaves_no_text(self, member):
        member_anonymize(member=member, actor=None, source=ErasureSource.PORTAL)
        answer = _record(member, "other", text="call me", trigger=LeaveTrigger.WIN_BACK)
        assert answer.text == ""

    def test_the_export_lists_the_members_answers(self, member):
        _record(member, "other", text="Too far")
        data = member_data_export(member=member)
        assert [
            (a["reason"], a["text"], a["trigger"]) for a in data["leaving_answers"]
        ] == [("other", "Too far", "deleted")]


class TestLink:
    def test_link_reads_back_and_a_forged_one_does_not(self, member):
        link = leave_reason_link(member=member, trigger="win_back", key="journey:x")
        token = link.rstrip("/").rsplit("/", 1)[1]
        occasion = leave_occasion_read(token)
        assert (occasion.member_id, occasion.trigger, occasion.key) == (
            member.pk,
            "win_back",
            "journey:x",
        )
        assert leave_occasion_read(token[:-2] + "xx") is None
        forged = signing.dumps(
            {"m": member.pk, "t": "win_back", "k": "x"}, salt="other"
        )
        assert leave_occasion_read(forged) is None
        bad_trigger = signing.dumps(
            {"m": member.pk, "t": "bored", "k": "x"}, salt=LEAVE_LINK_SALT
        )
        assert leave_occasion_read(bad_trigger) is None


class TestPage:
    def _path(self, member, trigger=LeaveTrigger.WIN_BACK, key="journey:winback:1"):
        return leave_reason_path(member=member, trigger=trigger, key=key)

    def test_get_shows_every_offered_reason_and_records_nothing(self, client, member):
        LeaveReason.objects.filter(code="moved").update(active=False)
        response = client.get(self._path(member))
        html = response.content.decode()
        assert response.status_code == 200
        assert 'data-testid="leave-reason-price"' in html
        assert 'data-testid="leave-reason-moved"' not in html
        assert not LeaveAnswer.objects.exists()

    def test_one_tap_records_without_a_login_and_a_second_tap_changes_it(
        self, client, member
    ):
        path = self._path(member)
        response = client.post(path, {"reason": "too_many_messages"})
        assert response.status_code == 200
        assert 'data-testid="leave-reason-thanks"' in response.content.decode()
        client.post(path, {"reason": "too_many_messages"})
        client.post(path, {"reason": "other", "text": "Moved to Lviv"})
        answer = LeaveAnswer.objects.get()
        assert (answer.member_id, answer.trigger, answer.key) == (
            member.pk,
            "win_back",
            "journey:winback:1",
        )
        assert (answer.reason.code, answer.text) == ("other", "Moved to Lviv")

    def test_a_bad_reason_is_a_400_naming_it(self, client, member):
        response = client.post(self._path(member), {"reason": "nope"})
        assert response.status_code == 400
        assert response.context["form"].errors["reason"] == [
            "Choose one of the reasons offered."
        ]
        assert not LeaveAnswer.objects.exists()

    def test_a_damaged_link_is_a_400_and_records_nothing(self, client, member):
        path = self._path(member)
        response = client.post(path[:-3] + "zz/", {"reason": "price"})
        assert response.status_code == 400
        assert "This link is not valid" in response.content.decode()
        assert not LeaveAnswer.objects.exists()


class TestLeavingLeadsToTheQuestion:
    def test_deleting_the_account_then_answering_keeps_an_anonymous_answer(
        self, client, customer, store
    ):
        user, member = customer
        client.force_login(user)
        response = client.post(reverse("portal:privacy_delete"), {"password": PASSWORD})
        assert response.status_code == 302
        question = response.headers["Location"]
        occasion = leave_occasion_read(question.rstrip("/").rsplit("/", 1)[1])
        assert occasion.trigger == "deleted" and occasion.member_id == member.pk
        # Logged out by now: the signed link is enough.
        client.post(question, {"reason": "other", "text": "Not for me"})
        answer = LeaveAnswer.objects.get()
        member.refresh_from_db()
        assert member.first_name == "" and answer.member_id == member.pk
        assert (answer.reason.code, answer.text) == ("other", "Not for me")

    def test_switching_every_channel_off_asks_and_one_channel_does_not(
        self, client, customer
    ):
        user, member = customer
        member_consent_set(
            member=member,
            channel=Channel.EMAIL,
            granted=True,
            source=ConsentSource.PORTAL,
        )
        member_consent_set(
            member=member,
            channel=Channel.SMS,
            granted=True,
            source=ConsentSource.PORTAL,
        )
        client.force_login(user)
        base = {"preferred_channel": "", "preferred_send_hour": ""}
        response = client.post(reverse("portal:preferences"), {**base, "email": "on"})
        assert response.headers["Location"] == reverse("portal:preferences")
        response = client.post(reverse("portal:preferences"), base)
        occasion = leave_occasion_read(
            response.headers["Location"].rstrip("/").rsplit("/", 1)[1]
        )
        assert (occasion.member_id, occasion.trigger) == (member.pk, "unsubscribed")


class TestAdmin:
    def test_marketer_edits_the_list_in_every_language(self, client, marketer):
        client.force_login(marketer)
        assert (
            client.get(reverse("admin:members_leavereason_changelist")).status_code
            == 200
        )
        response = client.get(
            reverse("admin:members_leavereason_changelist"), {"q": "Prețul"}
        )
        assert response.context["cl"].result_count == 1
        assert client.get(reverse("admin:members_leavereason_add")).status_code == 200
        price = LeaveReason.objects.get(code="price")
        response = client.post(
            reverse("admin:members_leavereason_change", args=[price.pk]),
            {
                "code": "price",
                "name_uk": "Ціни",
                "name_ru": "Цены",
                "name_ro": "Prețurile",
                "name_en": "Prices",
                "position": 5,
                "active": "on",
            },
        )
        assert response.status_code == 302
        price.refresh_from_db()
        assert (price.name_en, price.name_ro, price.position) == (
            "Prices",
            "Prețurile",
            5,
        )

    def test_answers_are_read_only(self, client, marketer, member):
        _record(member, "other", text="Queue too long")
        client.force_login(marketer)
        response = client.get(
            reverse("admin:members_leaveanswer_changelist"), {"q": "Queue"}
        )
        assert response.context["cl"].result_count == 1
        assert client.get(reverse("admin:members_leaveanswer_add")).status_code == 403
