"""A customer links Telegram from the preferences page in a real Chromium under
the Content Security Policy: the page shows the bot's link with a one-time
code, the bot (fed the update the link would send, its Bot API a local fake)
links the chat, the customer allows offers there and finds it in the
history, then unlinks."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from campaigns.telegram.bot import telegram_update_handle
from campaigns.tests.telegram.conftest import TOKEN, FakeBotApi
from members.models import Member
from members.tests.factories import MemberFactory, StoreFactory, UserFactory
from tests.browser._journey import browser_watch, portal_login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def fake_bot(settings):
    fake = FakeBotApi()
    settings.TELEGRAM_BOT_TOKEN = TOKEN
    settings.TELEGRAM_BOT_USERNAME = "zerno_test_bot"
    settings.TELEGRAM_API_URL = fake.url
    settings.LOYALTY_TELEGRAM_BACKEND = (
        "campaigns.messaging.backends.telegram.BotApiTelegramBackend"
    )
    yield fake
    fake.close()


def test_customer_links_telegram_allows_offers_then_unlinks(
    page, live_server, settings, fake_bot
):
    settings.SITE_URL = live_server.url
    watch = browser_watch(page)
    page.set_default_timeout(5_000)
    store = StoreFactory(code="tg", name="Telegram Street")
    user = UserFactory(username="tg@example.com")
    member = MemberFactory(
        store=store, user=user, email="tg@example.com", language="en"
    )

    portal_login(
        page, live_server.url, "tg@example.com", next_name="portal:preferences"
    )
    page.get_by_role("button", name="Link Telegram").click()
    bot_link = page.get_by_role("link", name="Open the bot in Telegram")
    href = bot_link.get_attribute("href")
    assert href.startswith("https://t.me/zerno_test_bot?start=")
    code = href.rsplit("=", 1)[1]
    expect(page.locator("#telegram")).to_contain_text(f"/start {code}")

    # What Telegram sends when the customer presses Start in the bot.
    telegram_update_handle(
        update={
            "update_id": 1,
            "message": {
                "message_id": 1,
                "from": {"id": 31337, "is_bot": False},
                "chat": {"id": 31337, "type": "private"},
                "date": 1_780_000_000,
                "text": f"/start {code}",
            },
        }
    )
    assert fake_bot.texts(31337)[0].startswith("Done: this chat is linked")

    page.reload()
    expect(page.get_by_role("button", name="Unlink Telegram")).to_be_visible()
    page.get_by_label("Send me offers in Telegram").check()
    page.get_by_role("button", name="Save preferences").click()
    expect(page.locator(".consent-history")).to_contain_text("Telegram")
    member = Member.objects.get(pk=member.pk)
    assert (member.telegram_chat_id, member.telegram_consent) == ("31337", True)

    page.get_by_role("button", name="Unlink Telegram").click()
    expect(page.get_by_role("button", name="Link Telegram")).to_be_visible()
    member = Member.objects.get(pk=member.pk)
    assert (member.telegram_chat_id, member.telegram_consent) == ("", False)
    watch.assert_clean()
