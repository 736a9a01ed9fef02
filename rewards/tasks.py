import logging

from celery import shared_task

from rewards.selectors.invariants import ledger_invariant_violations
from rewards.services import ledger, memberships, renewals, stamps, tiers, vouchers
from rewards.wallet import sync

log = logging.getLogger(__name__)


@shared_task(time_limit=600, soft_time_limit=540)
def ledger_verify() -> int:
    """Nightly: every ledger invariant that `manage.py verify_ledger` checks.

    Logs each offender at ERROR level and returns how many there are."""
    bad = ledger_invariant_violations()
    for violation in bad:
        log.error(
            "Ledger mismatch on card %s (%s): %s",
            violation.card_number,
            violation.check,
            violation.detail,
        )
    return len(bad)


@shared_task(time_limit=900, soft_time_limit=840)
def voucher_expire_due() -> int:
    """Nightly: expire issued vouchers past their date; points back where the reward says.

    Safe to run twice: each voucher's status is re-checked under its lock.
    """
    expired = vouchers.voucher_expire_due()
    log.info("Expired %s voucher(s)", expired)
    return expired


@shared_task(time_limit=1800, soft_time_limit=1740)
def tiers_downgrade_due() -> int:
    """Nightly: members below their tier for longer than its grace days go down one step.

    Safe to run twice: a member moved today is not moved again, and each move
    re-checks the member under their account lock.
    """
    moved = tiers.tiers_downgrade_due()
    log.info("Moved %s member(s) down a tier", moved)
    return moved


@shared_task(time_limit=1800, soft_time_limit=1740)
def points_expire_due() -> int:
    """Nightly: expire what is left of every points lot past its date.

    Safe to run twice: a lot is closed by its expiry entry under the account lock.
    """
    expired = ledger.points_expire_due()
    log.info("Expired %s points lot(s)", expired)
    return expired


@shared_task(time_limit=900, soft_time_limit=840)
def stamp_cards_expire_due() -> int:
    """Nightly: close open stamp cards past their date (their stamps lapse).

    Safe to run twice: each card's status is re-checked under its lock.
    """
    expired = stamps.stamp_cards_expire_due()
    log.info("Expired %s stamp card(s)", expired)
    return expired


@shared_task(time_limit=900, soft_time_limit=840)
def subscriptions_expire_due() -> int:
    """Nightly: paid memberships past their period become expired.

    Safe to run twice: each one is re-checked under its lock."""
    done = memberships.subscriptions_expire_due()
    log.info("Expired %s membership(s)", done)
    return done


@shared_task(time_limit=1800, soft_time_limit=1740)
def membership_vouchers_issue_due() -> int:
    """Nightly: this month's perk voucher for each active membership, once a month.

    Safe to run twice: one idempotency key per subscription and month."""
    done = memberships.membership_vouchers_issue_due()
    log.info("Issued %s membership voucher(s)", done)
    return done


@shared_task(time_limit=900, soft_time_limit=840)
def subscriptions_remind_due() -> int:
    """Daily, in the morning: remind members whose membership ends soon, once a period.

    Safe to run twice: the period end reminded about is kept on the subscription."""
    done = memberships.subscriptions_remind_due()
    log.info("Sent %s membership reminder(s)", done)
    return done


@shared_task(time_limit=1800, soft_time_limit=1740)
def payments_renew_due() -> int:
    """Nightly: charge the next period of auto-renewing memberships that end soon
    to the card their online payment saved; results arrive as callbacks.

    Safe to run twice: a renewal pending or paid for the period is not started
    again (checked under the subscription's lock)."""
    done = renewals.payments_renew_due()
    log.info("Started %s membership renewal payment(s)", done)
    return done


# Moved here from members.tasks with the bonuses and anomaly flags: the names
# stay, as the beat schedule and queued messages use them.


@shared_task(
    name="members.tasks.birthday_bonus_grant_due",
    time_limit=1800,
    soft_time_limit=1740,
)
def birthday_bonus_grant_due() -> int:
    """Nightly: birthday bonuses for this month's birthdays, each once a year."""
    from rewards.services.bonuses import birthday_bonus_grant_due as service

    return service()


@shared_task(
    name="members.tasks.anomalies_scan_daily", time_limit=900, soft_time_limit=840
)
def anomalies_scan_daily(day: str | None = None) -> int:
    """Nightly: flag yesterday's unusual activity and email Managers a digest.

    `day` (ISO date) rescans another day. Safe to run twice: a rerun flags
    nothing twice, and the digest lists only the new flags (none: no email).
    """
    import datetime as dt

    from django.utils import timezone

    from rewards.services.anomalies import anomalies_scan

    when = (
        dt.date.fromisoformat(day)
        if day
        else timezone.localdate() - dt.timedelta(days=1)
    )
    return len(anomalies_scan(day=when, digest=True))


@shared_task(time_limit=120, soft_time_limit=100)
def wallet_pass_sync(member_id: int) -> str:
    """Push a member's changed wallet pass to its Apple devices and Google
    (queued on commit by rewards.wallet.services.wallet_pass_changed, by
    name). Run twice or for a pass not due, it sends nothing more."""
    return sync.wallet_pass_sync(member_id=member_id)


@shared_task(time_limit=300, soft_time_limit=280)
def wallet_passes_sync_due() -> int:
    """The wallet sweeper (CELERY_BEAT_SCHEDULE): retries that came due and
    whatever a lost task left."""
    return sync.wallet_passes_sync_due()
