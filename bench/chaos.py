"""`make chaos`: load and a campaign in flight while processes die.

What it does, on a PostgreSQL cluster of its own (so restarting it disturbs
nobody) and a Redis database of its own:

1. migrates, seeds a small program (stores, members, a till token);
2. starts gunicorn (sync workers) and the Celery workers on Redis, one per
   queue as production runs them (ledger, campaigns, analytics:
   loyalty_site/queues.py);
3. drives the POS API from client threads: purchases, returns of some of
   them, small redemptions; every request is retried with the same body until
   it is acknowledged (a till does exactly that), so each receipt is either
   acknowledged once or reported as never acknowledged;
4. starts a campaign to every member while the load runs;
5. meanwhile, every few seconds, SIGKILLs a gunicorn worker, the gunicorn
   master (then starts a new one), one of the Celery workers (then starts a
   new one),
   and restarts PostgreSQL once in immediate mode (a crash, no checkpoint);
6. stops the load, lets the worker finish, and checks:
   - every acknowledged purchase exists once and earned exactly once (one EARN
     entry, the points the till was told), every acknowledged return once;
   - every balance equals the sum of its entries and every ledger invariant
     holds (`verify_ledger`'s checks);
   - webhooks (bench/chaos_webhooks.py: a receiver process that fails a share
     of requests on purpose): after the sweeper's catch-up, every event
     recorded reached it at least once with a good signature, each member's
     in sequence order, and nothing arrived that was rolled back;
   - after the sweep's recovery of the batches killed workers left sending
     (`messages_recover_interrupted`, its requeued messages delivered here):
     no member has two messages of one campaign, every recipient got one, no
     message is left sending or queued without a delay, no campaign is left in
     "sending", and the messages failed as "interrupted" (the one each dead
     batch had in flight) are no more than the worker processes that died with
     a batch in their hands (each Celery kill takes CONCURRENCY of them, and
     so can the PostgreSQL crash, which fails their next UPDATE).
   It prints what it found and exits 1 on any violation.

Environment: CHAOS_SECONDS (default 60), CHAOS_CLIENTS (8), CHAOS_MEMBERS (600),
CHAOS_BROKER_URL (redis://127.0.0.1:6379/9). CHAOS_DATABASE_URL and
CHAOS_PG_RESTART (a shell command) use an existing server instead of the
private cluster.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from chaos_procs import (  # bench/
    ACK_DEADLINE,
    BROKER,
    CLIENTS,
    CONCURRENCY,
    MEMBERS,
    SECONDS,
    VENV_BIN,
    WORK,
    ExistingServer,
    PrivateCluster,
    Service,
    free_port,
    say,
    wait_http,
    wait_port,
)
from chaos_webhooks import (  # bench/
    Sweeper,
    webhook_checks,
    webhook_endpoint_setup,
    webhooks_drain,
)


@dataclass
class Ledgerbook:
    """What the tills were told, to compare with the database afterwards."""

    purchases: dict[str, int] = field(default_factory=dict)  # receipt -> points
    purchase_ids: dict[str, int] = field(default_factory=dict)
    returns: dict[str, int] = field(default_factory=dict)  # return receipt -> reversed
    redemptions: dict[str, int] = field(default_factory=dict)
    unacknowledged: list[str] = field(default_factory=list)
    retries: int = 0
    refused: int = 0  # 4xx answers other than a replay (e.g. not enough points)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Till(threading.Thread):
    def __init__(self, n: int, base: str, token: str, cards: list[str], book, stop):
        super().__init__(daemon=True)
        self.n, self.base, self.token, self.cards = n, base, token, cards
        self.book, self.stop_event = book, stop
        self.rng = random.Random(n)  # noqa: S311

    def post(self, path: str, body: dict) -> tuple[int, dict] | None:
        """POST until acknowledged (2xx) or refused (4xx); None if never answered."""
        data = json.dumps(body).encode()
        deadline = time.monotonic() + ACK_DEADLINE
        while time.monotonic() < deadline:
            request = urllib.request.Request(  # noqa: S310
                self.base + path,
                data=data,
                method="POST",
                headers={
                    "Authorization": f"Token {self.token}",
                    "Content-Type": "application/json",
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=15) as r:  # noqa: S310
                    return r.status, json.loads(r.read())
            except urllib.error.HTTPError as exc:
                if 400 <= exc.code < 500 and exc.code not in (408, 429):
                    return exc.code, json.loads(exc.read() or b"{}")
            except (OSError, ValueError):
                pass
            with self.book.lock:
                self.book.retries += 1
            time.sleep(0.2 + self.rng.random() * 0.3)
        return None

    def run(self) -> None:
        i = 0
        while not self.stop_event.is_set():
            i += 1
            receipt = f"C{self.n}-{i}"
            total = Decimal(self.rng.randrange(1000, 50000)) / 100
            answer = self.post(
                "/api/v1/purchases",
                {
                    "card_number": self.rng.choice(self.cards),
                    "receipt_id": receipt,
                    "total": str(total),
                },
            )
            self.record(answer, receipt, "purchases")
            if answer and answer[0] in (200, 201) and self.rng.random() < 0.2:
                back = f"R{self.n}-{i}"
                answer = self.post(
                    f"/api/v1/purchases/{answer[1]['id']}/returns",
                    {
                        "receipt_id": back,
                        "amount": str((total / 2).quantize(Decimal("0.01"))),
                    },
                )
                self.record(answer, back, "returns")
            if self.rng.random() < 0.2:
                spend = f"S{self.n}-{i}"
                answer = self.post(
                    "/api/v1/redemptions",
                    {"card_number": self.rng.choice(self.cards), "points": 5,
                     "receipt_id": spend},
                )  # fmt: skip
                self.record(answer, spend, "redemptions")

    def record(self, answer, receipt: str, kind: str) -> None:
        with self.book.lock:
            if answer is None:
                self.book.unacknowledged.append(f"{kind}:{receipt}")
            elif answer[0] in (200, 201):
                body = answer[1]
                if kind == "purchases":
                    self.book.purchases[receipt] = body["points_earned"]
                    self.book.purchase_ids[receipt] = body["id"]
                elif kind == "returns":
                    self.book.returns[receipt] = body["points_reversed"]
                else:
                    self.book.redemptions[receipt] = body["points"]
            else:
                self.book.refused += 1


# --- The run -------------------------------------------------------------------------


def django_setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["CELERY_BROKER_URL"] = BROKER
    os.environ["CAMPAIGN_CHUNK_SIZE"] = "25"  # kills land mid-campaign
    # Webhook retries come due within the run; a slow receiver is given up on fast.
    os.environ["WEBHOOK_RETRY_FIRST"] = "1"
    os.environ["WEBHOOK_TIMEOUT"] = "2"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loyalty_site.settings")
    os.environ.setdefault("SECRET_KEY", "chaos-only-" + "k" * 50)
    import django

    django.setup()


def seed() -> tuple[str, list[str]]:
    """Stores, members and a till token, through the services."""
    from registry import CHAOS, numbers  # bench/, beside this file

    from members.services import api_token_create, member_enroll, store_get_or_create

    nums = numbers(CHAOS)
    store, _created = store_get_or_create(code="CHAOS", name="Chaos store")
    cards = []
    for n in range(MEMBERS):
        member = member_enroll(
            phone=nums.phone(n),
            email=nums.email(n),
            first_name=f"Chaos{n}",
            store=store,
            email_consent=True,
            source="admin",
        )
        cards.append(member.card_number)
    _token, raw = api_token_create(store=store, name="chaos till")
    return raw, cards


def campaign_start():
    """An email campaign to every member, sent now, while the load runs: its
    chunks are what the worker is doing when it is killed."""
    from campaigns.models import Campaign, CampaignVariant
    from campaigns.segments.services import segment_save
    from campaigns.sending.services import campaign_save, campaign_send_now

    segment = segment_save(name="Everyone (chaos)", definition={}, by=None)
    campaign = campaign_save(
        campaign=Campaign(name="Chaos campaign", segment=segment, channel="email"),
        user=None,
    )
    CampaignVariant.objects.create(
        campaign=campaign,
        label="A",
        subject_en="Hello",
        body_en="Hi {{ first_name }}, you have {{ balance }} points.",
        subject_uk="Вітаємо",
        body_uk="{{ first_name }}, у вас {{ balance }} балів.",
    )
    campaign_send_now(campaign=campaign)
    return campaign.pk


def campaign_wait(campaign_id: int, *, timeout: float) -> None:
    from django.db import connections

    from campaigns.models import Campaign, CampaignStatus

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        connections.close_all()
        if Campaign.objects.get(pk=campaign_id).status == CampaignStatus.SENT:
            return
        time.sleep(2)


def campaign_recover() -> tuple[int, int]:
    """What the periodic sweep does after a crash, without waiting its 15
    minutes: settle every batch left sending (the first message of each fails
    as interrupted, the rest are queued again) and deliver what it queued
    again. Returns (requeued, interrupted)."""
    from django.utils import timezone

    from campaigns.messaging.delivery import messages_deliver_many
    from campaigns.messaging.services import messages_recover_interrupted
    from campaigns.models import Message, MessageStatus

    now = timezone.now()
    requeued, interrupted = messages_recover_interrupted(
        now=now, older_than=dt.timedelta(0)
    )
    ids = list(
        Message.objects.filter(status=MessageStatus.QUEUED, send_after__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    messages_deliver_many(message_ids=ids)
    return requeued, interrupted


def campaign_interrupted(campaign_id: int) -> int:
    """How many of the campaign's messages were failed as interrupted."""
    from campaigns.messaging.services import INTERRUPTED
    from campaigns.models import Message, MessageStatus

    return Message.objects.filter(
        campaign_id=campaign_id, status=MessageStatus.FAILED, error=INTERRUPTED
    ).count()


def campaign_check(campaign_id: int, *, interruptions_allowed: int = 0) -> list[str]:
    """No member messaged twice, every recipient messaged once, nothing stuck,
    no more messages lost to an interrupted hand-over than worker processes
    that died (`interruptions_allowed`)."""
    from django.db.models import Count

    from campaigns.models import (
        Campaign,
        CampaignRecipient,
        CampaignRun,
        CampaignStatus,
        Message,
        MessageStatus,
        RunStatus,
    )

    problems = []
    campaign = Campaign.objects.get(pk=campaign_id)
    if campaign.status != CampaignStatus.SENT:
        problems.append(f"campaign left in {campaign.status!r}")
    problems += [
        f"campaign run {pk} left in 'sending'"
        for pk in CampaignRun.objects.filter(
            campaign=campaign, status=RunStatus.SENDING
        ).values_list("pk", flat=True)
    ]
    twice = (
        Message.objects.filter(campaign=campaign)
        .values("member_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    problems += [
        f"member {row['member_id']} messaged {row['n']} times" for row in twice
    ]
    wanted = set(
        CampaignRecipient.objects.filter(
            run__campaign=campaign, holdout=False
        ).values_list("member_id", flat=True)
    )
    got = set(
        Message.objects.filter(campaign=campaign).values_list("member_id", flat=True)
    )
    if wanted - got:
        problems.append(f"{len(wanted - got)} recipients got no message")
    stuck = Message.objects.filter(
        campaign=campaign, status=MessageStatus.QUEUED, send_after__isnull=True
    ).count()
    if stuck:
        problems.append(f"{stuck} campaign messages stuck in 'queued'")
    sending = Message.objects.filter(
        campaign=campaign, status=MessageStatus.SENDING
    ).count()
    if sending:
        problems.append(f"{sending} campaign messages left in 'sending'")
    interrupted = campaign_interrupted(campaign_id)
    if interrupted > interruptions_allowed:
        problems.append(
            f"{interrupted} campaign messages interrupted, more than the "
            f"{interruptions_allowed} worker processes that died"
        )
    return problems


def checks(book: Ledgerbook, campaign, *, interruptions_allowed: int = 0) -> list[str]:
    """Every way the database disagrees with what the tills were told (and the
    campaign, if any, with what its members should have got)."""
    from django.db.models import Count

    from rewards.models import LedgerEntry, Purchase, PurchaseReturn, Redemption
    from rewards.selectors.invariants import LEDGER_CHECKS

    problems: list[str] = []
    purchases = {
        p.receipt_id: p
        for p in Purchase.objects.filter(receipt_id__in=list(book.purchases))
    }
    earned = dict(
        LedgerEntry.objects.filter(purchase__receipt_id__in=list(book.purchases))
        .filter(kind="earn")
        .values_list("purchase__receipt_id")
        .annotate(n=Count("id"))
        .values_list("purchase__receipt_id", "n")
    )
    for receipt, points in book.purchases.items():
        purchase = purchases.get(receipt)
        if purchase is None:
            problems.append(f"acknowledged purchase {receipt} is missing")
        elif purchase.points_earned != points:
            problems.append(
                f"purchase {receipt}: till told {points}, ledger says "
                f"{purchase.points_earned}"
            )
        elif points and earned.get(receipt) != 1:
            problems.append(f"purchase {receipt} earned {earned.get(receipt)} times")
    for model, acked, label in (
        (PurchaseReturn, book.returns, "return"),
        (Redemption, book.redemptions, "redemption"),
    ):
        found = dict(
            model.objects.filter(receipt_id__in=list(acked))
            .values_list("receipt_id")
            .annotate(n=Count("id"))
            .values_list("receipt_id", "n")
        )
        problems += [
            f"acknowledged {label} {r} stored {found.get(r, 0)} times"
            for r in acked
            if found.get(r) != 1
        ]
    for name, check in LEDGER_CHECKS:
        offenders = list(check())
        if offenders:
            problems.append(f"ledger check {name} failed: {offenders[:3]}")
    if campaign is not None:
        problems += campaign_check(
            campaign, interruptions_allowed=interruptions_allowed
        )
    return problems


def main() -> int:
    WORK.mkdir(parents=True, exist_ok=True)
    for log in WORK.glob("*.log"):
        log.unlink()
    existing = os.environ.get("CHAOS_DATABASE_URL")
    pg = (
        ExistingServer(existing, os.environ["CHAOS_PG_RESTART"])
        if existing
        else PrivateCluster()
    )
    say(f"PostgreSQL: {'given server' if existing else 'private cluster'}")
    pg.start()
    try:
        return run(pg)
    finally:
        pg.stop()


def run(pg) -> int:
    django_setup(pg.url)
    import redis
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    redis.Redis.from_url(BROKER).flushdb()
    say("Migrating and seeding...")
    call_command("migrate", verbosity=0)
    hooks_port = free_port()
    hooks_out = WORK / "webhooks.jsonl"
    hooks_out.unlink(missing_ok=True)
    receiver = Service(
        "webhooks",
        [str(VENV_BIN / "python"), str(Path(__file__).parent / "chaos_webhooks.py"),
         str(hooks_port), str(hooks_out)],
        {**os.environ, "CHAOS_WEBHOOK_SECRET": webhook_endpoint_setup(
            f"http://127.0.0.1:{hooks_port}/hooks")},
    )  # fmt: skip
    receiver.start()
    wait_port(hooks_port)
    token, cards = seed()
    connections.close_all()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": pg.url,
        "CELERY_BROKER_URL": BROKER,
        # A killed worker's unacknowledged task comes back after this long.
        "CELERY_VISIBILITY_TIMEOUT": "20",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "API_RATE": "100000000/min",
        # Production's cache (operations.md), as the benchmarks use it.
        "CACHE_URL": os.environ.get("CHAOS_CACHE_URL", "redis://127.0.0.1:6379/8"),
        "CONN_MAX_AGE": "0",
        # Small chunks, so that kills land in the middle of the campaign.
        "CAMPAIGN_CHUNK_SIZE": "25",
    }
    web = Service(
        "gunicorn",
        [str(VENV_BIN / "gunicorn"), "loyalty_site.wsgi:application",
         "--bind", f"127.0.0.1:{port}", "--workers", "3", "--timeout", "30"],
        env,
    )  # fmt: skip
    # One worker per queue, as in production (docs/operations.md): the
    # campaign's chunks never wait behind the ledger's jobs, nor these behind
    # them. The campaign worker has CONCURRENCY processes, the others one.
    workers = {
        queue: Service(
            f"celery-{queue}",
            [
                str(VENV_BIN / "celery"),
                "-A",
                "loyalty_site",
                "worker",
                "-Q",
                queue,
                "-n",
                f"{queue}@%h",
                "--concurrency",
                str(CONCURRENCY if queue == "campaigns" else 1),
                "--loglevel",
                "INFO",
            ],
            env,
        )  # fmt: skip
        for queue in settings.LOYALTY_CELERY_QUEUES
    }
    web.start()
    for worker in workers.values():
        worker.start()
    wait_http(base + "/healthz")
    say(
        f"gunicorn on {base}, Celery workers for {', '.join(workers)} on {BROKER}; "
        f"{CLIENTS} tills for {SECONDS} s"
    )

    book = Ledgerbook()
    stop = threading.Event()
    tills = [Till(n, base, token, cards, book, stop) for n in range(CLIENTS)]
    for till in tills:
        till.start()
    sweeper = Sweeper(stop)
    sweeper.start()

    campaign = None
    campaign_tried = False
    started = time.monotonic()
    pg_restarted = False
    chaos_rng = random.Random(7)  # noqa: S311
    while time.monotonic() - started < SECONDS:
        time.sleep(3)
        elapsed = time.monotonic() - started
        if not campaign_tried and elapsed > 5:
            campaign_tried = True
            campaign = campaign_start()
            connections.close_all()
            say(f"campaign {campaign} started: every member, chunks of 25")
        if not pg_restarted and elapsed > SECONDS / 2:
            say("restarting PostgreSQL (immediate: a crash)")
            pg.restart()
            pg_restarted = True
            continue
        action = chaos_rng.choice(["web-worker", "web-worker", "web-master", "celery"])
        if action == "web-worker" and web.kill_child():
            say("SIGKILL a gunicorn worker")
        elif action == "web-master":
            say("SIGKILL gunicorn master and workers; starting it again")
            web.kill_all()
            web.start()
        elif action == "celery":
            queue = chaos_rng.choice(sorted(workers))
            say(f"SIGKILL the Celery worker of the {queue} queue; starting it again")
            workers[queue].kill_all()
            workers[queue].start()

    say("Load stops; waiting for the tills to finish their retries...")
    stop.set()
    for till in tills:
        till.join()
    sweeper.join()
    if campaign is not None:
        say("Waiting for the campaign to finish (redelivered chunks included)...")
        campaign_wait(campaign, timeout=240)
    web.stop()
    for worker in workers.values():
        worker.stop()

    connections.close_all()  # the old ones died with the PostgreSQL restart
    requeued = interrupted = 0
    # Each dead worker process may have left one message in doubt.
    # Only the campaign worker sends campaign messages.
    allowed = CONCURRENCY * (workers["campaigns"].kills + int(pg_restarted))
    if campaign is not None:
        requeued, _recovered = campaign_recover()
        interrupted = campaign_interrupted(campaign)
    say("Sending the webhooks still pending, as the sweeper would...")
    webhooks_drain(timeout=300)
    problems = checks(book, campaign, interruptions_allowed=allowed)
    hook_problems, hook_summary = webhook_checks(hooks_out)
    problems += hook_problems
    receiver.stop()
    say(
        f"Acknowledged: {len(book.purchases)} purchases, {len(book.returns)} returns, "
        f"{len(book.redemptions)} redemptions; {book.refused} refused (4xx), "
        f"{book.retries} retries, {len(book.unacknowledged)} never acknowledged; "
        f"kills: gunicorn {web.kills}, celery "
        f"{', '.join(f'{q} {w.kills}' for q, w in workers.items())}; PostgreSQL restarted "
        f"{int(pg_restarted)}x"
    )
    if campaign is not None:
        say(
            f"Campaign: {interrupted} messages interrupted in flight (failed, at most "
            f"{allowed} allowed), {requeued} never handed over and delivered after "
            f"the run"
        )
    say(hook_summary)
    if problems:
        say(f"{len(problems)} VIOLATIONS:")
        for problem in problems[:50]:
            print("  - " + problem)
        return 1
    say("OK: every acknowledged write happened exactly once and the ledger is exact.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
