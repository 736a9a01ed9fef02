"""Give the stamp entries and cancelled memberships that earlier code wrote
their reason code and parameters (rewards.reasons, rewards.reasons_stamps).

Earlier code stored these reasons as English f-strings (rewards/services/
stamps.py: purchase, carried over, stamps owed paid, card expired, return,
return with stamps owed, return cancelling a voucher, moved between cards) and
the admin's cancel action as "Cancelled in admin". Each pattern below is the
exact text of that code (git history). A row that matches none keeps only its
text (a reason a person typed, e.g. the demo's "Refunded at the till"): it is
shown as stored.

The patterns are copied here, not imported: a migration must keep meaning what
it meant when it was written.
"""

from __future__ import annotations

import re

from django.db import migrations

CHUNK = 2000

OWED_PAID = re.compile(r"^(?P<reason>.+); (?P<count>\d+) paid stamps owed$", re.DOTALL)
CARRIED_OVER = re.compile(r"^(?P<reason>.+) \(carried over\)$", re.DOTALL)
_RETURN = r"^Return (?P<return_receipt>.+) of purchase (?P<receipt>.+?)"
STAMP = [
    (
        "stamp_return_owed",
        re.compile(
            _RETURN + r": (?P<count>\d+) stamps owed, the vouchers were used$"
        ),
    ),
    ("stamp_return_voucher_cancelled", re.compile(_RETURN + r": voucher cancelled$")),
    ("stamp_return", re.compile(_RETURN + "$")),
    (
        "stamp_card_expired",
        re.compile(r"^Card expired with (?P<stamps>\d+) of (?P<needed>\d+) stamps$"),
    ),
    ("stamp_moved_to", re.compile(r"^Moved to card #(?P<number>\d+)$")),
    (
        "stamp_moved_from",
        re.compile(r"^Moved from card #(?P<number>\d+), undone by a return$"),
    ),
    ("purchase_earn", re.compile(r"^Purchase (?P<receipt>.+) at (?P<store>\S+)$")),
]
INTEGERS = {"count", "stamps", "needed", "number"}
CANCELLED = {"Cancelled in admin": "subscription_cancelled_in_admin"}


def stamp_reason(text: str) -> tuple[str, dict] | None:
    """(code, params) of a stamp entry's stored reason, or None."""
    found = OWED_PAID.match(text)
    if found:
        inner = stamp_reason(found["reason"])
        if inner is None:
            return None
        return "stamp_owed_paid", {
            "reason": {"code": inner[0], "params": inner[1]},
            "count": int(found["count"]),
        }
    found = CARRIED_OVER.match(text)
    if found:
        inner = stamp_reason(found["reason"])
        if inner is None:
            return None
        return "stamp_carried_over", {"reason": {"code": inner[0], "params": inner[1]}}
    for code, pattern in STAMP:
        found = pattern.match(text)
        if found:
            params = {
                key: int(value) if key in INTEGERS else value
                for key, value in found.groupdict().items()
            }
            return code, params
    return None


def fill(apps, schema_editor):
    StampEntry = apps.get_model("rewards", "StampEntry")
    Subscription = apps.get_model("rewards", "Subscription")

    last = 0
    while True:
        rows = list(
            StampEntry.objects.filter(pk__gt=last, reason_code="")
            .order_by("pk")
            .only("pk", "reason")[:CHUNK]
        )
        if not rows:
            break
        last = rows[-1].pk
        changed = []
        for row in rows:
            found = stamp_reason(row.reason)
            if found:
                row.reason_code, row.reason_params = found
                changed.append(row)
        StampEntry.objects.bulk_update(changed, ["reason_code", "reason_params"])

    for text, code in CANCELLED.items():
        Subscription.objects.filter(cancel_reason=text, reason_code="").update(
            reason_code=code, reason_params={}
        )


class Migration(migrations.Migration):
    dependencies = [("rewards", "0019_stamp_and_cancel_reason_codes")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop, elidable=True)]
