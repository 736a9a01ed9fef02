"""Every reason code renders in every language, and a reason reads the same
through every reader: the model, the admin and the API."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from rewards.models import LedgerEntry
from rewards.reasons import (
    REASONS,
    REWARD_REDEEM,
    SystemReason,
    reason_render,
    reasons_names_load,
    system_reason,
)
from rewards.services import points_adjust, points_bonus_grant, reward_redeem
from rewards.tests.factories import RewardFactory

pytestmark = pytest.mark.django_db
LANGUAGES = ("uk", "ru", "ro", "en")


def _render(code: str, language: str) -> str:
    with translation.override(language):
        return reason_render(code, REASONS[code].example, names={})


class TestEveryCode:
    """Walks the registry as the apps filled it (campaigns' codes included)."""

    def test_the_registry_holds_every_writer(self):
        assert {"purchase_earn", "tier_below", "campaign_bonus", "event_checkin"} <= (
            set(REASONS)
        )

    @pytest.mark.parametrize("language", LANGUAGES)
    def test_every_code_renders_with_its_parameters(self, language):
        for code, reason in REASONS.items():
            text = _render(code, language)
            assert text and text != code, code
            for key, value in reason.example.items():
                plain = (
                    key not in reason.formats
                    and key not in reason.nested
                    and key not in {ref.id_param for ref in reason.refs.values()}
                    and key != reason.count
                    and key != "currency"
                )
                if plain:
                    assert str(value) in text, (code, key, text)

    @pytest.mark.parametrize("language", ("uk", "ru", "ro"))
    def test_every_code_is_translated(self, language):
        same = [
            code for code in REASONS if _render(code, language) == _render(code, "en")
        ]
        assert same == []

    def test_a_wrong_parameter_set_falls_back_to_the_stored_text(self):
        assert reason_render("purchase_earn", {"store": "x"}, fallback="old") == "old"
        assert reason_render("no_such_code", {}, fallback="old") == "old"

    def test_writers_must_give_every_parameter(self):
        with pytest.raises(ValueError, match="misses"):
            system_reason("purchase_earn", receipt="R-1")
        with pytest.raises(KeyError):
            system_reason("no_such_code")


class TestReading:
    def test_a_typed_reason_is_shown_as_typed(self, member):
        entry = points_adjust(
            member=member, points=5, reason="Ticket 7", created_by=None
        )
        assert (entry.reason_code, entry.reason_params) == ("", {})
        with translation.override("uk"):
            assert entry.reason_text() == "Ticket 7"

    def test_a_reward_is_named_as_it_is_called_now(self, member):
        points_adjust(member=member, points=500, reason="start", created_by=None)
        reward = RewardFactory(name="Free latte", points_cost=100)
        reward_redeem(member=member, reward=reward, idempotency_key="k1")
        entry = LedgerEntry.objects.get(reason_code=REWARD_REDEEM)
        assert entry.reason_params["reward_id"] == reward.pk
        reward.name = "Latte on us"
        reward.save()
        with translation.override("en"):
            assert entry.reason_text().startswith("Reward “Latte on us”")
            # A reward that is gone keeps the name it had.
            gone = SystemReason(REWARD_REDEEM, {**entry.reason_params, "reward_id": 0})
            assert reason_render(gone.code, gone.params).startswith(
                "Reward “Free latte”"
            )

    def test_names_of_a_list_cost_one_query_per_model(
        self, member, django_assert_num_queries
    ):
        points_adjust(member=member, points=900, reason="start", created_by=None)
        for n in range(3):
            reward = RewardFactory(name=f"Reward {n}", points_cost=100)
            reward_redeem(member=member, reward=reward, idempotency_key=f"k{n}")
        entries = list(LedgerEntry.objects.filter(reason_code=REWARD_REDEEM))
        with django_assert_num_queries(1):
            reasons_names_load(entries)
            texts = [e.reason_text() for e in entries]
        assert sorted(texts)[0].startswith("Reward “Reward 0”")

    def test_parameters_are_data_escaped_on_pages(self, admin_client, member):
        points_bonus_grant(
            member=member,
            points=5,
            reason=system_reason(
                "purchase_earn", receipt="<b>R-1</b>", store="<i>main</i>"
            ),
            idempotency_key="k-esc",
        )
        page = admin_client.get(reverse("admin:rewards_ledgerentry_changelist"))
        text = page.content.decode()
        assert "&lt;b&gt;R-1&lt;/b&gt;" in text
        assert "<b>R-1</b>" not in text

    def test_the_api_answers_in_the_language_asked(self, api_client, member):
        points_bonus_grant(
            member=member,
            points=5,
            reason=system_reason("bonus_welcome"),
            idempotency_key="k-api",
        )
        url = f"/api/v1/members/{member.card_number}"
        [uk] = api_client.get(url, HTTP_ACCEPT_LANGUAGE="uk").json()["recent_activity"]
        [en] = api_client.get(url, HTTP_ACCEPT_LANGUAGE="en").json()["recent_activity"]
        assert (en["reason_code"], en["reason"]) == ("bonus_welcome", "Welcome bonus")
        assert uk["reason_code"] == "bonus_welcome"
        assert uk["reason"] == "Вітальний бонус"


@pytest.mark.parametrize("active", LANGUAGES)
def test_the_stored_text_is_in_the_default_language_whatever_is_active(
    settings, active
):
    """reason_split stores the text in the program's default language: read
    in that language, or switched to it for the write (the active language
    is the request's)."""
    from rewards.reasons import reason_split

    settings.LANGUAGE_CODE = "uk"
    reason = system_reason("purchase_earn", receipt="R-7", store="main")
    with translation.override(active):
        code, params, text = reason_split(reason)
        assert translation.get_language() == active  # given back as it was
    assert (code, params) == ("purchase_earn", {"receipt": "R-7", "store": "main"})
    assert text == _render_with("purchase_earn", params, "uk")
    assert text != _render_with("purchase_earn", params, "en")


def _render_with(code: str, params: dict, language: str) -> str:
    with translation.override(language):
        return reason_render(code, params, names={})
