"""The Telegram bot against a local fake of the Bot API: linking by the
portal's one-time code, each command's answer, the offers button, /stop, the
webhook's secret and idempotency, and polling."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.core.management import call_command
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import ngettext

from campaigns.models import TelegramUpdate
from campaigns.telegram import replies
from campaigns.tests.telegram.conftest import SECRET
from members.models import Channel, ConsentEvent, ConsentSource, OneTimeCode
from members.services import member_consent_set, telegram_link_code_issue
from members.tests.factories import MemberFactory
from rewards.models import VoucherSource
from rewards.services import points_adjust, voucher_grant
from rewards.tests.factories import RewardFactory, TierFactory

pytestmark = pytest.mark.django_db

CHAT = 777001
_ids = itertools.count(1000)


def _update(text: str, *, chat=CHAT, language="en", update_id=None) -> dict:
    return {
        "update_id": update_id if update_id is not None else next(_ids),
        "message": {
            "message_id": 1,
            "from": {"id": chat, "is_bot": False, "language_code": language},
            "chat": {"id": chat, "type": "private"},
            "date": 1_780_000_000,
            "text": text,
        },
    }


def _press(data: str, *, chat=CHAT) -> dict:
    return {
        "update_id": next(_ids),
        "callback_query": {
            "id": "cb-1",
            "from": {"id": chat, "is_bot": False},
            "message": {"message_id": 5, "chat": {"id": chat, "type": "private"}},
            "data": data,
        },
    }


def _webhook(client, update, secret=SECRET):
    """The webhook call, then what it queued on commit (its answers' task; run in
    place: the suite's Celery is eager)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            reverse("campaigns:telegram_webhook"),
            update,
            content_type="application/json",
            headers={"X-Telegram-Bot-Api-Secret-Token": secret},
        )


@pytest.fixture
def linked(store, bot_api):
    """A member whose chat CHAT is linked, with 230 points."""
    member = MemberFactory(store=store, first_name="Olena", language="en")
    member.telegram_chat_id = str(CHAT)
    member.save(update_fields=["telegram_chat_id"])
    points_adjust(member=member, points=230, reason="Test", created_by=None)
    return member


class TestLinking:
    def test_portal_code_links_the_chat_and_the_bot_asks_about_offers(
        self, client, customer, bot_api
    ):
        user, member = customer
        client.force_login(user)
        client.post(reverse("portal:telegram_link"))
        page = client.get(reverse("portal:preferences"))
        code = page.context["telegram"]["code"]
        assert page.context["telegram"]["link"] == (
            f"https://t.me/zerno_test_bot?start={code}"
        )
        assert f"https://t.me/zerno_test_bot?start={code}" in page.content.decode()

        assert _webhook(client, _update(f"/start {code}")).status_code == 200

        member.refresh_from_db()
        assert member.telegram_chat_id == str(CHAT)
        assert member.telegram_consent is False  # linking is not consent
        texts = bot_api.texts(CHAT)
        assert texts[0].startswith("Done: this chat is linked to card ")
        assert texts[1] == "May we send you our offers here?"
        buttons = bot_api.of("sendMessage")[1]["params"]["reply_markup"]
        assert [b["callback_data"] for b in buttons["inline_keyboard"][0]] == [
            "offers:yes",
            "offers:no",
        ]
        # The page now offers to unlink, and shows no code.
        page = client.get(reverse("portal:preferences"))
        assert page.context["telegram"]["linked"] is True
        assert "Unlink Telegram" in page.content.decode()

    @pytest.mark.parametrize(
        ("case", "answer"),
        [
            ("wrong", "This code is not valid."),
            ("used", "This code was used already."),
            ("expired", "This code has expired."),
        ],
    )
    def test_a_bad_code_is_answered_politely_and_links_nothing(
        self, client, store, bot_api, case, answer
    ):
        member = MemberFactory(store=store)
        _otp, code = telegram_link_code_issue(member=member)
        if case == "wrong":
            code = "ABCDEFGHJK"
        elif case == "used":
            OneTimeCode.objects.update(used_at=timezone.now())
        else:
            OneTimeCode.objects.update(
                expires_at=timezone.now() - dt.timedelta(seconds=1)
            )

        _webhook(client, _update(f"/start {code}"))

        member.refresh_from_db()
        assert member.telegram_chat_id == ""
        (text,) = bot_api.texts(CHAT)
        assert text.startswith(f"{answer} Open Preferences on our site")
        assert "http://testserver/preferences/" in text or "/preferences/" in text

    def test_a_code_links_once(self, client, store, bot_api):
        member = MemberFactory(store=store)
        _otp, code = telegram_link_code_issue(member=member)
        _webhook(client, _update(f"/start {code}"))

        _webhook(client, _update(f"/start {code}", chat=999))

        member.refresh_from_db()
        assert member.telegram_chat_id == str(CHAT)
        assert bot_api.texts(999)[0].startswith("This code was used already.")

    def test_a_chat_moves_to_the_member_who_links_it_last(self, client, store, bot_api):
        first = MemberFactory(store=store)
        first.telegram_chat_id = str(CHAT)
        first.save(update_fields=["telegram_chat_id"])
        member_consent_set(
            member=first, channel="telegram", granted=True, source="portal"
        )
        second = MemberFactory(store=store)
        _otp, code = telegram_link_code_issue(member=second)

        _webhook(client, _update(f"/start {code}"))

        first.refresh_from_db()
        second.refresh_from_db()
        assert (first.telegram_chat_id, first.telegram_consent) == ("", False)
        assert second.telegram_chat_id == str(CHAT)

    def test_offers_button_gives_consent_with_its_history(self, client, linked):
        _webhook(client, _press("offers:yes"))

        linked.refresh_from_db()
        assert linked.telegram_consent is True
        assert linked.telegram_consent_source == ConsentSource.TELEGRAM
        event = ConsentEvent.objects.get(member=linked)
        assert (event.channel, event.granted, event.source) == (
            Channel.TELEGRAM,
            True,
            ConsentSource.TELEGRAM,
        )

        _webhook(client, _press("offers:no"))

        linked.refresh_from_db()
        assert linked.telegram_consent is False
        assert ConsentEvent.objects.filter(member=linked).count() == 2

    def test_stop_unlinks_and_withdraws_consent(self, client, linked, bot_api):
        _webhook(client, _press("offers:yes"))

        _webhook(client, _update("/stop"))

        linked.refresh_from_db()
        assert (linked.telegram_chat_id, linked.telegram_consent) == ("", False)
        assert bot_api.texts(CHAT)[-1].startswith("This chat is unlinked")
        _webhook(client, _update("/balance"))
        assert bot_api.texts(CHAT)[-1].startswith("This chat is not linked")

    def test_portal_unlink(self, client, customer, bot_api):
        user, member = customer
        member.telegram_chat_id = str(CHAT)
        member.save(update_fields=["telegram_chat_id"])
        client.force_login(user)

        client.post(reverse("portal:telegram_unlink"))

        member.refresh_from_db()
        assert member.telegram_chat_id == ""

    def test_consent_box_needs_a_linked_chat(self, client, customer, bot_api):
        user, member = customer
        client.force_login(user)

        response = client.post(reverse("portal:preferences"), {"telegram": "on"})

        assert response.context["form"].errors["telegram"] == [
            "Link your Telegram first."
        ]


class TestCommands:
    def test_balance(self, client, linked, bot_api):
        _webhook(client, _update("/balance"))

        assert bot_api.texts(CHAT) == ["You have 230 points."]

    def test_card_is_a_qr_photo_of_the_card_number(self, client, linked, bot_api):
        _webhook(client, _update("/card"))

        (call,) = bot_api.of("sendPhoto")
        assert call["params"]["chat_id"] == str(CHAT)
        assert linked.card_number[-4:] in call["params"]["caption"].replace(" ", "")
        photo = call["files"]["photo"]
        assert photo["type"] == "image/png"
        assert photo["content"].startswith(b"\x89PNG\r\n\x1a\n")

    def test_vouchers(self, client, linked, bot_api):
        _webhook(client, _update("/vouchers"))
        assert bot_api.texts(CHAT)[-1].startswith("You have no vouchers to use now.")
        voucher, _replayed = voucher_grant(
            member=linked,
            reward=RewardFactory(name="Free <b>latte</b>"),
            source=VoucherSource.GOODWILL,
            idempotency_key="t-1",
        )

        _webhook(client, _update("/vouchers"))

        text = bot_api.texts(CHAT)[-1]
        assert text.startswith("Your vouchers:\n• Free <b>latte</b>: code ")
        assert voucher.code in text
        # Plain text: what staff typed is shown, never interpreted.
        assert "parse_mode" not in bot_api.of("sendMessage")[-1]["params"]

    def test_rewards_nearest_first(self, client, linked, bot_api):
        RewardFactory(name="Cookie", points_cost=100)
        RewardFactory(name="Coffee", points_cost=200)
        RewardFactory(name="Cake", points_cost=300)
        RewardFactory(name="Mug", points_cost=1000)
        gold = TierFactory(name="Gold")
        RewardFactory(name="Gold lounge", points_cost=210).tiers.add(gold)

        _webhook(client, _update("/rewards"))

        assert bot_api.texts(CHAT)[-1].split("\n") == [
            "You have 230 points. The rewards nearest to you:",
            "• Coffee (200 points): yours to take now",
            "• Cookie (100 points): yours to take now",
            "• Cake (300 points): 70 points to go",
            "• Mug (1,000 points): 770 points to go",
        ]

    def test_help_and_unknown_text(self, client, linked, bot_api):
        _webhook(client, _update("/help"))
        _webhook(client, _update("hello?"))

        first, second = bot_api.texts(CHAT)
        assert first == second
        assert "/balance" in first and "/stop" in first

    def test_a_stranger_is_told_how_to_link(self, client, bot_api, store):
        _webhook(client, _update("/balance", chat=555))

        assert bot_api.texts(555)[0].startswith("This chat is not linked")

    def test_answers_in_the_members_language(self, client, linked, bot_api):
        linked.language = "ro"
        linked.save(update_fields=["language"])
        points_adjust(member=linked, points=1000, reason="Test", created_by=None)

        # The chat's app is in English; the member chose Romanian.
        _webhook(client, _update("/balance", language="en"))

        (text,) = bot_api.texts(CHAT)
        assert "1.230" in text  # Romanian digit grouping, not "1,230"
        with translation.override("ro"):
            assert text == ngettext(
                "You have %(points)s point.", "You have %(points)s points.", 1230
            ) % {"points": "1.230"}

    def test_a_strangers_answer_follows_their_telegram_language(
        self, client, store, bot_api
    ):
        _webhook(client, _update("/balance", chat=556, language="uk"))

        with translation.override("uk"):
            expected = replies.not_linked_text()
        assert bot_api.texts(556) == [expected]

    @pytest.mark.parametrize(
        "command", ["/balance", "/card", "/vouchers", "/rewards", "/help"]
    )
    def test_each_command_takes_a_few_queries_whatever_the_catalog(
        self, client, linked, bot_api, command, django_assert_max_num_queries
    ):
        for n in range(30):
            RewardFactory(points_cost=50 * (n + 1))
        voucher_grant(
            member=linked,
            reward=RewardFactory(),
            source=VoucherSource.GOODWILL,
            idempotency_key="q-1",
        )

        with django_assert_max_num_queries(8):
            _webhook(client, _update(command))

        assert len(bot_api.calls) == 1

    def test_group_chats_are_ignored(self, client, linked, bot_api):
        update = _update("/balance")
        update["message"]["chat"]["type"] = "group"

        _webhook(client, update)

        assert bot_api.calls == []


class TestWebhook:
    def test_wrong_secret_is_refused_and_nothing_is_handled(
        self, client, linked, bot_api
    ):
        response = _webhook(client, _update("/stop"), secret="guess")

        assert response.status_code == 403
        linked.refresh_from_db()
        assert linked.telegram_chat_id == str(CHAT)
        assert bot_api.calls == []
        assert TelegramUpdate.objects.count() == 0

    def test_no_secret_configured_refuses_everything(
        self, client, linked, bot_api, settings
    ):
        settings.TELEGRAM_WEBHOOK_SECRET = ""

        assert _webhook(client, _update("/stop"), secret="").status_code == 403
        assert bot_api.calls == []

    def test_a_body_that_is_not_an_update_is_a_400(self, client, bot_api):
        response = _webhook(client, {"message": {}})

        assert response.status_code == 400
        assert "update_id" in response.json()

    def test_an_update_delivered_twice_is_handled_once(self, client, linked, bot_api):
        update = _update("/balance", update_id=42)

        _webhook(client, update)
        _webhook(client, update)

        assert bot_api.texts(CHAT) == ["You have 230 points."]


def test_polling_handles_updates_through_the_same_service(linked, bot_api):
    bot_api.updates = [_update("/balance", update_id=7), _update("/card", update_id=8)]

    call_command("telegram_poll", "--once", "--timeout", "0")

    methods = [c["method"] for c in bot_api.calls]
    assert methods == ["deleteWebhook", "getUpdates", "sendMessage", "sendPhoto"]
    assert bot_api.texts(CHAT) == ["You have 230 points."]


def test_webhook_set_registers_the_secret(bot_api, settings):
    settings.SITE_URL = "https://loyalty.example.com"

    call_command("telegram_webhook_set")

    (call,) = bot_api.of("setWebhook")
    assert call["params"]["url"] == "https://loyalty.example.com/telegram/webhook/"
    assert call["params"]["secret_token"] == SECRET
    assert len(bot_api.of("setMyCommands")) == len(settings.LANGUAGES)


def test_erasure_forgets_the_chat(client, linked, bot_api):
    from members.models import ErasureSource
    from members.privacy import member_anonymize

    member_anonymize(member=linked, actor=None, source=ErasureSource.PORTAL)

    linked.refresh_from_db()
    assert linked.telegram_chat_id == ""
    _webhook(client, _update("/balance"))
    assert bot_api.texts(CHAT)[-1].startswith("This chat is not linked")
