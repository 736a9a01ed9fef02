"""Anomaly monitoring, the writes: `anomalies_scan` turns the hits of the rules
(rewards.selectors.anomalies) into AnomalyFlags, and `anomaly_flags_review`
records a Manager's decision.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from members.emails import branded_email, branded_subject
from members.errors import Conflict
from members.formatting import date_format, number_format
from members.links import absolute_url
from members.models import User
from rewards.locks import anomaly_flags_open_lock
from rewards.models import AnomalyFlag, AnomalyRule, AnomalyStatus, AnomalySubject
from rewards.selectors.anomalies import anomaly_digest_recipients, anomaly_hits_for_day


def _key(rule: str, subject_kind: str, subject_id: int) -> tuple[str, str, int]:
    return (rule, subject_kind, subject_id)


def anomalies_scan(*, day: dt.date, digest: bool = False) -> list[AnomalyFlag]:
    """Flag every rule's hits on `day`; returns only the flags this run created.

    Safe to run twice: hits already flagged for the day are skipped, and the
    conditional unique constraints (rule, subject, day) make a concurrent run's
    duplicate insert a no-op (bulk_create with ignore_conflicts). Locks nothing.
    With `digest`, queues the Managers' digest email of the new flags on commit
    (none when nothing new was flagged).
    """
    hits = anomaly_hits_for_day(day=day)
    if not hits:
        return []
    stamp = timezone.now()
    with transaction.atomic(durable=True):
        existing = {
            _key(rule, kind, member_id or user_id)
            for rule, kind, member_id, user_id in AnomalyFlag.objects.filter(
                day=day
            ).values_list("rule", "subject_kind", "member_id", "user_id")
        }
        new = [
            AnomalyFlag(
                rule=hit.rule,
                subject_kind=hit.subject_kind,
                member_id=(
                    hit.subject_id
                    if hit.subject_kind == AnomalySubject.MEMBER
                    else None
                ),
                user_id=(
                    hit.subject_id
                    if hit.subject_kind == AnomalySubject.CASHIER
                    else None
                ),
                day=day,
                details=hit.details,
                created_at=stamp,
            )
            for hit in hits
            if _key(hit.rule, hit.subject_kind, hit.subject_id) not in existing
        ]
        AnomalyFlag.objects.bulk_create(new, ignore_conflicts=True)
        # ignore_conflicts gives no pks back; this run's rows share its stamp,
        # and a concurrent run's duplicates (skipped here) do not.
        new = list(
            AnomalyFlag.objects.filter(day=day, created_at=stamp)
            .select_related("member", "user")
            .order_by("pk")
        )
        if digest:
            anomaly_digest_send(day=day, flags=new)
    return new


def anomaly_flags_review(
    *, flag_ids: list[int], status: str, by: User, note: str = ""
) -> int:
    """Dismiss or confirm open flags, recording who and when; returns how many.

    Flags already reviewed are left as they are. Locks the open flags (by pk).
    """
    if status not in (AnomalyStatus.DISMISSED, AnomalyStatus.CONFIRMED):
        raise Conflict(_("A flag can only be dismissed or confirmed."))
    with transaction.atomic(durable=True):
        open_ids = anomaly_flags_open_lock(flag_ids=flag_ids)
        return AnomalyFlag.objects.filter(pk__in=open_ids).update(
            status=status, reviewed_by=by, reviewed_at=timezone.now(), note=note
        )


def anomaly_digest_send(*, day: dt.date, flags: list[AnomalyFlag]) -> int:
    """Email the Managers how many flags each rule raised on `day`, with links to
    the admin list; queued with transaction.on_commit. Returns the recipients
    count (0 when there is nothing to tell or nobody to tell it to)."""
    recipients = anomaly_digest_recipients()
    if not flags or not recipients:
        return 0
    counts = Counter((flag.rule, flag.subject_kind) for flag in flags)
    changelist = absolute_url(reverse("admin:rewards_anomalyflag_changelist"))
    with translation.override(settings.LANGUAGE_CODE):
        lines = [
            ngettext(
                "Unusual activity on %(day)s: %(count)s new flag to review.",
                "Unusual activity on %(day)s: %(count)s new flags to review.",
                len(flags),
            )
            % {"day": date_format(day), "count": number_format(len(flags))},
            "",
        ]
        for rule in AnomalyRule:
            for kind in AnomalySubject:
                n = counts.get((rule.value, kind.value))
                if not n:
                    continue
                query = urlencode(
                    {
                        "rule__exact": rule.value,
                        "subject_kind__exact": kind.value,
                        "day": day.isoformat(),
                    }
                )
                lines.append(f"- {rule.label} ({kind.label}): {number_format(n)}")
                lines.append(f"  {changelist}?{query}")
        lines += [
            "",
            _("All open flags: %(url)s")
            % {"url": f"{changelist}?status__exact={AnomalyStatus.OPEN}"},
        ]
        subject = branded_subject(
            ngettext(
                "Unusual activity on %(day)s: %(count)s flag",
                "Unusual activity on %(day)s: %(count)s flags",
                len(flags),
            )
            % {"day": date_format(day), "count": number_format(len(flags))}
        )
    message = branded_email(
        subject=subject,
        text="\n".join(lines),
        to=recipients,
        language=settings.LANGUAGE_CODE,
    )
    transaction.on_commit(message.send)
    return len(recipients)
