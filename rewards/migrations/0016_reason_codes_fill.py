"""Give the reasons earlier code wrote their code and parameters (rewards.reasons).

Earlier code stored system reasons as sentences: fixed English f-strings in the
rewards services (purchase, return, redemption, reward, voucher refund, expiry,
bonuses, tier changes), the bulk demo's own English texts, and three texts
translated when written, so stored in whatever language was active then
(usually the default, Ukrainian): the campaign bonus, the event check-in and
the complaint goodwill. Each known pattern below is the exact text of that
code (git history of rewards/services, demo/bulk.py and the uk/ru/ro/en
catalogs). A row that matches none keeps only `reason` (a staff member's typed
reason, or a text we do not know): it is shown as stored.

The patterns are copied here, not imported: a migration must keep meaning what
it meant when it was written.
"""

from __future__ import annotations

import re

from django.db import migrations

CHUNK = 2000
_AMOUNT = r"(?P<{}>-?[\d ]+\.\d{{2}})"
_COUNT = r"(?P<{}>-?[\d ]+)"


def _translated(template: str) -> re.Pattern:
    """A regex from a catalog message: each %(name)s becomes a named group."""
    parts = re.split(r"%\((\w+)\)s", template)
    regex = ""
    for i, part in enumerate(parts):
        regex += re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)"
    return re.compile(f"^{regex}$", re.DOTALL)


# Texts translated when written, in the four catalogs of the time.
CAMPAIGN_BONUS = [
    _translated(t)
    for t in (
        "Campaign “%(name)s”: bought within %(days)s days",
        "Кампанія «%(name)s»: покупка протягом %(days)s дн.",
        "Кампания «%(name)s»: покупка в течение %(days)s дн.",
        "Campania „%(name)s”: achiziție în %(days)s zile",
    )
]
EVENT_CHECKIN = [
    _translated(t)
    for t in (
        "Came to “%(title)s”",
        "Відвідування «%(title)s»",
        "Посещение «%(title)s»",
        "Participare la „%(title)s”",
    )
]
GOODWILL = [
    _translated(t)
    for t in (
        "Goodwill for complaint #%(id)s",
        "Компенсація за скаргою #%(id)s",
        "Компенсация по жалобе #%(id)s",
        "Compensație pentru reclamația #%(id)s",
    )
]

# The English f-strings of the rewards services and the bulk demo.
LEDGER = [
    ("purchase_earn", re.compile(r"^Purchase (?P<receipt>.+) at (?P<store>\S+)$")),
    ("purchase_earn", re.compile(r"^Purchase (?P<store>\S+) #(?P<receipt>\S+)$")),
    (
        "return_clawback",
        re.compile(
            r"^Return (?P<return_receipt>.+) of purchase (?P<receipt>.+) "
            r"at (?P<store>\S+)$"
        ),
    ),
    (
        "redemption_discount",
        re.compile(r"^Discount on receipt (?P<receipt>.+) at (?P<store>\S+)$"),
    ),
    ("redemption_discount", re.compile(r"^Redeemed at (?P<store>\S+)$")),
    ("reward_redeem", re.compile(r"^Reward (?P<reward>.+), voucher (?P<code>\S+)$")),
    (
        "voucher_cancelled_refund",
        re.compile(r"^Voucher (?P<code>\S+) cancelled, points returned$"),
    ),
    (
        "voucher_expired_refund",
        re.compile(r"^Voucher (?P<code>\S+) expired, points returned$"),
    ),
    (
        "points_expired",
        re.compile(r"^Points earned (?P<date>\d{4}-\d{2}-\d{2}) expired$"),
    ),
    ("bonus_welcome", re.compile(r"^Welcome bonus$")),
    ("bonus_profile", re.compile(r"^Profile completed$")),
    ("bonus_birthday", re.compile(r"^Birthday bonus$")),
    ("bonus_referee", re.compile(r"^Bonus for joining with a friend's code$")),
    ("bonus_referrer", re.compile(r"^Bonus for referring a friend$")),
]
# Bonuses told apart by their idempotency key, whatever their text.
BONUS_KEYS = [
    ("bonus_welcome", re.compile(r"^welcome:\d+$")),
    ("bonus_profile", re.compile(r"^profile:\d+$")),
    ("bonus_birthday", re.compile(r"^birthday:\d+:\d+$")),
    ("bonus_referee", re.compile(r"^referral:\d+:referee$")),
    ("bonus_referrer", re.compile(r"^referral:\d+:referrer$")),
]
_WINDOW_YEAR = r" in (?P<year>\d{4})"
_WINDOW_MONTHS = r" in (?P<months>\d+) months?"
TIER_VALUE = [
    (
        "tier_spend_year",
        re.compile(
            r"^Spent "
            + _AMOUNT.format("amount")
            + r" (?P<currency>[A-Z]{3})"
            + _WINDOW_YEAR
            + "$"
        ),
    ),
    (
        "tier_spend_months",
        re.compile(
            r"^Spent "
            + _AMOUNT.format("amount")
            + r" (?P<currency>[A-Z]{3})"
            + _WINDOW_MONTHS
            + "$"
        ),
    ),
    (
        "tier_points_year",
        re.compile(
            r"^Earned " + _COUNT.format("points") + " points" + _WINDOW_YEAR + "$"
        ),
    ),
    (
        "tier_points_months",
        re.compile(
            r"^Earned " + _COUNT.format("points") + " points" + _WINDOW_MONTHS + "$"
        ),
    ),
    (
        "tier_visits_year",
        re.compile("^" + _COUNT.format("visits") + " visits" + _WINDOW_YEAR + "$"),
    ),
    (
        "tier_visits_months",
        re.compile("^" + _COUNT.format("visits") + " visits" + _WINDOW_MONTHS + "$"),
    ),
]
TIER_BELOW = re.compile(
    r"^(?P<value>.+), below "
    + _AMOUNT.format("threshold")
    + r" for (?P<tier>.+) after (?P<grace_days>\d+) grace days$",
    re.DOTALL,
)
TIER_FIXED = {
    "Enrolled": "tier_enrolled",
    "Spend reached the threshold": "tier_threshold_reached",
}
TIER_MEMBERSHIP = re.compile(r"^Membership (?P<plan>.+)$")
NUMBERS = {"amount", "points", "visits", "threshold", "year", "months", "grace_days"}
INTEGERS = {"points", "visits", "year", "months", "grace_days"}


def _clean(groups: dict) -> dict:
    """Numbers as the services write them now: "5 240.00" → "5240.00", counts as ints."""
    params = {}
    for key, value in groups.items():
        if key in NUMBERS:
            value = value.replace(" ", "")
            value = int(value) if key in INTEGERS else value
        params[key] = value
    return params


def _tier_value(text: str):
    for code, pattern in TIER_VALUE:
        found = pattern.match(text)
        if found:
            return code, _clean(found.groupdict())
    return None


def tier_reason(row, plans: dict) -> tuple[str, dict] | None:
    text = row.reason
    if text in TIER_FIXED:
        return TIER_FIXED[text], {}
    value = _tier_value(text)
    if value:
        return value
    found = TIER_BELOW.match(text)
    if found:
        inner = _tier_value(found["value"])
        if inner is None:
            return None
        params = {
            "value": {"code": inner[0], "params": inner[1]},
            "threshold": found["threshold"].replace(" ", ""),
            "tier_id": row.from_tier_id,
            "tier": found["tier"],
            "grace_days": int(found["grace_days"]),
        }
        if "currency" in inner[1]:
            params["currency"] = inner[1]["currency"]
        return "tier_below", params
    found = TIER_MEMBERSHIP.match(text)
    if found:
        return "tier_membership", {
            "plan_id": plans.get(found["plan"]),
            "plan": found["plan"],
        }
    return None


def _key_id(key: str, prefix: str, position: int = 1) -> int | None:
    parts = (key or "").split(":")
    if parts[0] != prefix or len(parts) <= position or not parts[position].isdigit():
        return None
    return int(parts[position])


def _any(patterns, text):
    for pattern in patterns:
        found = pattern.match(text)
        if found:
            return found
    return None


def ledger_reason(row, rewards_by_voucher: dict, receipts: dict):
    """(code, params) for a ledger entry's stored reason, or None."""
    text, key = row.reason, row.idempotency_key or ""
    if row.kind == "bonus":
        for code, pattern in BONUS_KEYS:
            if pattern.match(key):
                return code, {}
        found = _any(CAMPAIGN_BONUS, text)
        if found and key.startswith("campaign-bonus:"):
            return "campaign_bonus", {
                "campaign_id": None,
                "campaign": found["name"],
                "days": int(found["days"]),
            }
        found = _any(EVENT_CHECKIN, text)
        if found and key.startswith("event-checkin:"):
            return "event_checkin", {
                "event_id": _key_id(key, "event-checkin"),
                "event": found["title"],
            }
    if key.startswith("complaint-goodwill:") and _any(GOODWILL, text):
        return "complaint_goodwill", {"complaint": _key_id(key, "complaint-goodwill")}
    if row.kind == "adjust":
        return None  # typed by staff
    for code, pattern in LEDGER:
        found = pattern.match(text)
        if not found:
            continue
        params = found.groupdict()
        if code == "reward_redeem":
            params["reward_id"] = rewards_by_voucher.get(row.voucher_id)
        if code == "redemption_discount" and "receipt" not in params:
            params["receipt"] = receipts.get(row.redemption_id, "")
        return code, params
    return None


def fill(apps, schema_editor):
    LedgerEntry = apps.get_model("rewards", "LedgerEntry")
    TierHistory = apps.get_model("rewards", "TierHistory")
    AdjustmentRequest = apps.get_model("rewards", "AdjustmentRequest")
    Voucher = apps.get_model("rewards", "Voucher")
    Redemption = apps.get_model("rewards", "Redemption")
    MembershipPlan = apps.get_model("rewards", "MembershipPlan")

    last = 0
    while True:
        rows = list(
            LedgerEntry.objects.filter(pk__gt=last, reason_code="")
            .order_by("pk")
            .only(
                "pk", "kind", "reason", "idempotency_key", "voucher_id", "redemption_id"
            )[:CHUNK]
        )
        if not rows:
            break
        last = rows[-1].pk
        voucher_ids = {r.voucher_id for r in rows if r.voucher_id}
        redemption_ids = {
            r.redemption_id
            for r in rows
            if r.redemption_id and r.reason.startswith("Redeemed at ")
        }
        rewards_by_voucher = dict(
            Voucher.objects.filter(pk__in=voucher_ids).values_list("pk", "reward_id")
        )
        receipts = dict(
            Redemption.objects.filter(pk__in=redemption_ids).values_list(
                "pk", "receipt_id"
            )
        )
        changed = []
        for row in rows:
            found = ledger_reason(row, rewards_by_voucher, receipts)
            if found:
                row.reason_code, row.reason_params = found
                changed.append(row)
        LedgerEntry.objects.bulk_update(changed, ["reason_code", "reason_params"])

    plans = dict(MembershipPlan.objects.values_list("name", "pk"))
    last = 0
    while True:
        rows = list(
            TierHistory.objects.filter(pk__gt=last, reason_code="")
            .order_by("pk")
            .only("pk", "reason", "from_tier_id")[:CHUNK]
        )
        if not rows:
            break
        last = rows[-1].pk
        changed = []
        for row in rows:
            found = tier_reason(row, plans)
            if found:
                row.reason_code, row.reason_params = found
                changed.append(row)
        TierHistory.objects.bulk_update(changed, ["reason_code", "reason_params"])

    changed = []
    for row in AdjustmentRequest.objects.filter(
        idempotency_key__startswith="complaint-goodwill:", reason_code=""
    ):
        if _any(GOODWILL, row.reason):
            row.reason_code = "complaint_goodwill"
            row.reason_params = {
                "complaint": _key_id(row.idempotency_key, "complaint-goodwill")
            }
            changed.append(row)
    AdjustmentRequest.objects.bulk_update(changed, ["reason_code", "reason_params"])


class Migration(migrations.Migration):
    dependencies = [("rewards", "0015_reason_codes")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop, elidable=True)]
