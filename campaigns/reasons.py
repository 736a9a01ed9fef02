"""The texts campaigns has the system write into the ledger (rewards.reasons):
registered when this module is imported, which campaigns.apps does in ready()."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from rewards.reasons import ReasonCode, Ref, reason_register

CAMPAIGN_BONUS = "campaign_bonus"
EVENT_CHECKIN = "event_checkin"
COMPLAINT_GOODWILL = "complaint_goodwill"

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
):
    reason_register(_reason)
