"""The texts campaigns has the system write (rewards.reasons): into the ledger,
and why a row of a segment's upload matched no member (kept on the segment).
Registered when this module is imported, which campaigns.apps does in ready()."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from rewards.reasons import ReasonCode, Ref, reason_register, reason_render

CAMPAIGN_BONUS = "campaign_bonus"
EVENT_CHECKIN = "event_checkin"
COMPLAINT_GOODWILL = "complaint_goodwill"
SEGMENT_ROW_EMPTY = "segment_row_empty"
SEGMENT_ROW_NO_MEMBER = "segment_row_no_member"
SEGMENT_ROW_NOT_A_NUMBER = "segment_row_not_a_number"

for _reason in (
    ReasonCode(
        CAMPAIGN_BONUS,
        ngettext_lazy(
            "Campaign “%(campaign)s”: bought within %(days)s day",
            "Campaign “%(campaign)s”: bought within %(days)s days",
            "days",
        ),
        {"campaign_id": 1, "campaign": "Autumn coffee", "days": 7},
        refs={"campaign": Ref("campaigns.Campaign", "campaign_id")},
        count="days",
    ),
    ReasonCode(
        EVENT_CHECKIN,
        _("Came to “%(event)s”"),
        {"event_id": 1, "event": "Cheese tasting"},
        refs={"event": Ref("campaigns.Event", "event_id", "title")},
    ),
    ReasonCode(
        COMPLAINT_GOODWILL,
        _("Goodwill for complaint #%(complaint)s"),
        {"complaint": 12},
    ),
    ReasonCode(SEGMENT_ROW_EMPTY, _("empty"), {}),
    ReasonCode(SEGMENT_ROW_NO_MEMBER, _("no member with this card or phone"), {}),
    ReasonCode(
        SEGMENT_ROW_NOT_A_NUMBER, _("neither a phone number nor a card number"), {}
    ),
):
    reason_register(_reason)


def unmatched_row_reason(row: dict) -> str:
    """Why a row of a segment's upload (`import_summary["unmatched"]`) matched
    no one, in the active language; an upload kept before the codes shows the
    text stored then."""
    return reason_render(
        row.get("reason_code", ""), {}, fallback=str(row.get("reason", ""))
    )
