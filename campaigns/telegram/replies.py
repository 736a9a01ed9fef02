"""What the bot answers, in the reader's language (the caller overrides the
active language): plain text, so nothing a member or staff typed is ever
interpreted as markup. Reads through members' and rewards' selectors."""

from __future__ import annotations

import io

import segno
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from members.cards import card_number_format
from members.formatting import date_format, number_format
from members.links import absolute_url
from members.models import Member
from rewards.selectors.catalog import reward_list_nearest, vouchers_usable_for_member
from rewards.selectors.ledger import member_balance_get

NEAREST_REWARDS = 5
VOUCHERS_SHOWN = 10
OFFERS_YES = "offers:yes"
OFFERS_NO = "offers:no"


def preferences_url() -> str:
    return absolute_url(reverse("portal:preferences"))


def help_text(member: Member | None) -> str:
    if member is None:
        return _(
            "Hello! To link your loyalty card, open Preferences on our site, "
            "press “Link Telegram” and follow the link: %(url)s"
        ) % {"url": preferences_url()}
    return "\n".join(
        [
            _("What I can do:"),
            _("/balance: your points"),
            _("/card: your card to show at the till"),
            _("/vouchers: your vouchers"),
            _("/rewards: the rewards nearest to you"),
            _("/offers: offers in this chat, yes or no"),
            _("/stop: unlink this chat from your card"),
        ]
    )


def not_linked_text() -> str:
    return _(
        "This chat is not linked to a loyalty card yet. Open Preferences on "
        "our site, press “Link Telegram” and follow the link: %(url)s"
    ) % {"url": preferences_url()}


def link_refused_text(reason: str) -> str:
    return _("%(reason)s Open Preferences on our site for a new link: %(url)s") % {
        "reason": reason,
        "url": preferences_url(),
    }


def linked_text(member: Member) -> str:
    return _(
        "Done: this chat is linked to card %(card)s. Send /help to see what I can do."
    ) % {"card": card_number_format(member.card_number)}


def offers_question() -> tuple[str, dict]:
    keyboard = {
        "inline_keyboard": [
            [
                {"text": _("Yes, send me offers"), "callback_data": OFFERS_YES},
                {"text": _("No, thanks"), "callback_data": OFFERS_NO},
            ]
        ]
    }
    return _("May we send you our offers here?"), keyboard


def offers_answer_text(granted: bool) -> str:
    if granted:
        return _("Thank you! You will get our offers here. Send /offers to change it.")
    return _("All right: no offers here. Send /offers to change it.")


def unlinked_text() -> str:
    return _(
        "This chat is unlinked from your card; we will not write to you here. "
        "You can link it again from Preferences on our site."
    )


def balance_text(member: Member) -> str:
    balance = member_balance_get(member_id=member.pk)
    return ngettext(
        "You have %(points)s point.", "You have %(points)s points.", balance
    ) % {"points": number_format(balance)}


def card_photo(member: Member) -> tuple[bytes, str]:
    """The QR code of the member's card number as a PNG (what the card page
    shows), and its caption."""
    buffer = io.BytesIO()
    segno.make(member.card_number, micro=False, error="m").save(
        buffer, kind="png", scale=10, border=4
    )
    caption = _("Card %(card)s: show this code at the till.") % {
        "card": card_number_format(member.card_number)
    }
    return buffer.getvalue(), caption


def vouchers_text(member: Member) -> str:
    vouchers = list(
        vouchers_usable_for_member(member_id=member.pk)[: VOUCHERS_SHOWN + 1]
    )
    if not vouchers:
        return _(
            "You have no vouchers to use now. Send /rewards to see what you can get."
        )
    lines = [_("Your vouchers:")]
    for voucher in vouchers[:VOUCHERS_SHOWN]:
        lines.append(
            _("• %(reward)s: code %(code)s, valid until %(date)s")
            % {
                "reward": voucher.reward.name,
                "code": voucher.code,
                "date": date_format(voucher.expires_at),
            }
        )
    if len(vouchers) > VOUCHERS_SHOWN:
        lines.append(
            _("More on our site: %(url)s")
            % {"url": absolute_url(reverse("catalog:vouchers"))}
        )
    return "\n".join(lines)


def rewards_text(member: Member) -> str:
    balance = member_balance_get(member_id=member.pk)
    account = getattr(member, "account", None)
    nearest = reward_list_nearest(
        balance=max(balance, 0),
        tier_id=account.tier_id if account is not None else None,
        limit=NEAREST_REWARDS,
    )
    if not nearest:
        return _("There are no rewards in the catalog right now.")
    lines = [
        ngettext(
            "You have %(points)s point. The rewards nearest to you:",
            "You have %(points)s points. The rewards nearest to you:",
            balance,
        )
        % {"points": number_format(balance)}
    ]
    for reward, needed in nearest:
        if needed:
            line = ngettext(
                "• %(reward)s (%(cost)s points): %(needed)s point to go",
                "• %(reward)s (%(cost)s points): %(needed)s points to go",
                needed,
            ) % {
                "reward": reward.name,
                "cost": number_format(reward.points_cost),
                "needed": number_format(needed),
            }
        else:
            line = _("• %(reward)s (%(cost)s points): yours to take now") % {
                "reward": reward.name,
                "cost": number_format(reward.points_cost),
            }
        lines.append(line)
    return "\n".join(lines)
