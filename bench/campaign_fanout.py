"""5. Campaign fan-out: BENCH_CAMPAIGN_MEMBERS (100 000) recipients through Celery
on Redis.

Inserts the members with bulk_create (no points accounts: balances read as 0;
email marketing consent given, or delivery would suppress every message),
writes a campaign to every member (one rules segment, email, a 10 % holdout, an
A/B split, texts with variables), then times in this process
`campaign_send_now` (freeze the recipients with one INSERT ... SELECT, plan the
chunks, queue one chunk task per 1 000 members on Redis: "time to queue") while
BENCH_CAMPAIGN_WORKERS (2) `celery worker` processes, started beforehand
against the same database (and answering a ping), write and deliver the messages. Polls the Message
table every half second for rows written ("into the outbox") and rows sent.
Email goes to Django's dummy backend, so the figure is the fan-out's own cost.
Checks: one message per recipient, none twice, the run counted sent.
Baseline, in the same run: as many messages bulk-inserted and handed to the same
dummy backend in this one process, without Celery, templates or send-time
checks (the floor).

Its members' phones, cards, e-mails and referral codes are registry.numbers
("campaigns"): benchmark 3's customers are in the same database.

Called by bench/run.py on its bench database (Django already set up; run.py
points CELERY_BROKER_URL at BENCH_REDIS_URL before that).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from registry import numbers

N_MEMBERS = int(os.environ.get("BENCH_CAMPAIGN_MEMBERS", "100000"))
WORKERS = int(os.environ.get("BENCH_CAMPAIGN_WORKERS", "2"))
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
ROOT = Path(__file__).resolve().parent.parent
NUMBERS = numbers("campaigns")
# Seconds the delivery may take before the run counts as failed.
TIMEOUT = int(os.environ.get("BENCH_CAMPAIGN_TIMEOUT", 3 * 3600))


def _members() -> None:
    from members.models import Member

    have = Member.objects.filter(card_number__startswith=NUMBERS.card_prefix).count()
    batch = 5000
    for start in range(have, N_MEMBERS, batch):
        Member.objects.bulk_create(
            Member(
                card_number=NUMBERS.card(i),
                phone=NUMBERS.phone(i),
                email=NUMBERS.email(i),
                # Without consent every marketing email is suppressed at send
                # time and the benchmark would measure no sending at all.
                email_consent=True,
                first_name=f"Fan{i}",
                language=("uk", "ru", "ro", "en")[i % 4],
                referral_code=NUMBERS.referral_code(i),
            )
            for i in range(start, min(start + batch, N_MEMBERS))
        )
        print(
            f"\r  members: {min(start + batch, N_MEMBERS)}/{N_MEMBERS}",
            end="",
            flush=True,
        )
    print()


def _campaign():
    from campaigns.models import Campaign, CampaignVariant, Segment, SegmentKind

    segment = Segment.objects.create(
        name="Bench: everyone", kind=SegmentKind.RULES, definition={}
    )
    campaign = Campaign.objects.create(
        name="Bench fan-out",
        segment=segment,
        channel="email",
        holdout_percent=10,
        variant_b_percent=50,
    )
    for label in ("A", "B"):
        CampaignVariant.objects.create(
            campaign=campaign,
            label=label,
            subject_en=f"{label}: {{{{ first_name }}}}, news",
            body_en="Hi {{ first_name }}, you have {{ balance }} points. {% if reward %}"
            "{{ reward_points_needed }} more for {{ reward }}.{% endif %}",
            subject_uk="Новини для {{ first_name }}",
            body_uk="Вітаємо, {{ first_name }}! Бали: {{ balance }}.",
        )
    return campaign


def _workers(tmp: Path) -> list[subprocess.Popen]:
    from django.conf import settings

    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}"
    if db.get("PASSWORD"):
        url += f":{db['PASSWORD']}"
    url += f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": REDIS_URL,
        "EMAIL_URL": "dummymail://",
        "LOYALTY_VAR_DIR": str(tmp),
        "LOG_LEVEL": "WARNING",
    }
    celery = str(Path(sys.executable).with_name("celery"))
    return [
        subprocess.Popen(
            [
                celery,
                "-A",
                "loyalty_site",
                "worker",
                "--concurrency",
                "1",
                "--loglevel",
                "WARNING",
                "-n",
                f"bench{i}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=open(tmp / f"worker{i}.log", "w"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
        for i in range(WORKERS)
    ]


def _wait_ready(
    workers: list[subprocess.Popen], tmp: Path, timeout: float = 120
) -> None:
    """Until every worker answers a ping, so that the time to queue and the
    rates do not include the workers' start."""
    from loyalty_site.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(w.poll() is not None for w in workers):
            raise RuntimeError(f"a Celery worker exited at its start; see {tmp}")
        if len(app.control.ping(timeout=0.5)) >= len(workers):
            return
    raise RuntimeError(f"the Celery workers did not answer a ping in {timeout:.0f} s")


def _baseline(n: int) -> tuple[int, float]:
    """The floor, in this one process: the same number of Message rows
    bulk-inserted 1 000 at a time, each batch's emails handed to the same dummy
    backend over one connection; no Celery, no templates, no consent, cap or
    lock. Returns (messages, seconds); the rows are deleted afterwards."""
    from django.core.mail import EmailMultiAlternatives, get_connection

    from campaigns.models import Message, MessageStatus
    from members.models import Member

    ids = list(
        Member.objects.filter(card_number__startswith=NUMBERS.card_prefix)
        .order_by("pk")
        .values_list("pk", flat=True)[:n]
    )
    connection = get_connection("django.core.mail.backends.dummy.EmailBackend")
    t0 = time.perf_counter()
    for start in range(0, len(ids), 1000):
        batch = Message.objects.bulk_create(
            Message(
                member_id=member_id,
                key="bench-baseline",
                kind="campaign",
                marketing=True,
                channel="email",
                to=f"baseline{member_id}@example.com",
                subject="News",
                body="Hi, you have 0 points.",
                status=MessageStatus.SENT,
            )
            for member_id in ids[start : start + 1000]
        )
        connection.send_messages(
            [
                EmailMultiAlternatives(subject=m.subject, body=m.body, to=[m.to])
                for m in batch
            ]
        )
    seconds = time.perf_counter() - t0
    Message.objects.filter(key="bench-baseline").delete()
    return len(ids), seconds


def run() -> list[str]:
    import redis
    from django.db.models import Count

    from campaigns.models import CampaignRecipient, CampaignRun, Message, MessageStatus
    from campaigns.sending.services import campaign_send_now

    print(f"5. Campaign fan-out: {N_MEMBERS} members, {WORKERS} workers, Redis")
    redis.Redis.from_url(REDIS_URL).flushdb()
    _members()
    campaign = _campaign()
    tmp = Path(tempfile.mkdtemp(prefix="bench-fanout-"))
    workers = _workers(tmp)
    try:
        _wait_ready(workers, tmp)
        t0 = time.perf_counter()
        run = campaign_send_now(campaign=campaign)
        queued_s = time.perf_counter() - t0
        print(
            f"  queued {run.chunks_total} chunks for {run.recipients_total} members in {queued_s:.2f} s"
        )
        from campaigns.sending.services import recipient_group

        expected = CampaignRecipient.objects.filter(run=run).count()
        to_write = sum(
            1
            for member_id in CampaignRecipient.objects.filter(run=run)
            .values_list("member_id", flat=True)
            .iterator(chunk_size=5000)
            if not recipient_group(campaign, member_id)[0]
        )
        written_at = sent_at = None
        written = sent = 0
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            counts = dict(
                Message.objects.filter(campaign=campaign)
                .values_list("status")
                .annotate(n=Count("id"))
                .order_by()
            )
            written = sum(counts.values())
            sent = counts.get(MessageStatus.SENT, 0)
            now = time.perf_counter() - t0
            print(
                f"\r  {now:7.1f} s: written {written}, sent {sent}", end="", flush=True
            )
            run.refresh_from_db()
            if written_at is None and written >= to_write:
                written_at = now
            if run.status == "sent":
                sent_at = sent_at or now
                written_at = written_at or now
                break
            time.sleep(0.5)
        print()
    finally:
        for w in workers:
            if w.poll() is None:
                os.killpg(w.pid, signal.SIGTERM)
        for w in workers:
            try:
                w.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(w.pid, signal.SIGKILL)
    held = CampaignRecipient.objects.filter(run=run, holdout=True).count()
    sent = Message.objects.filter(campaign=campaign, status=MessageStatus.SENT).count()
    distinct = (
        Message.objects.filter(campaign=campaign).values("member_id").distinct().count()
    )
    assert sent_at is not None, f"the run did not finish in {TIMEOUT} s"
    assert written == distinct == expected - held, (written, distinct, expected, held)
    assert CampaignRun.objects.get(pk=run.pk).status == "sent"
    base_n, base_s = _baseline(written)
    base_rate = base_n / base_s
    rate = written / sent_at
    return [
        f"| time to queue (freeze {run.recipients_total} recipients, plan and queue "
        f"{run.chunks_total} chunk tasks) | {queued_s:.2f} s | |",
        f"| all {written} messages written to the outbox ({held} held out) | "
        f"{written_at:.1f} s | {written / written_at:.0f} messages/s |",
        f"| all delivered (dummy email backend), run sent | "
        f"{sent_at:.1f} s | {rate:.0f} messages/s (ratio {rate / base_rate:.2f}) |",
        f"| baseline: {base_n} messages bulk-inserted and handed to the dummy "
        f"backend in one process, no pipeline | {base_s:.1f} s "
        f"| {base_rate:.0f} messages/s (1.00) |",
        f"| sent (status sent) at the end | {sent} | |",
    ]


if __name__ == "__main__":
    sys.exit("run it through bench/run.py campaigns")
