"""The webhook part of `make chaos`: a receiver process standing in for a
customer's system, and the checks that every event reached it at least once,
each member's in order.

The receiver (`python bench/chaos_webhooks.py PORT OUT`, its secret in
CHAOS_WEBHOOK_SECRET) verifies each request's signature, answers 500 to a
share of them (CHAOS_WEBHOOK_FAIL, default 0.15) so that retries happen, and
appends one JSON line per request to OUT: the event id, member, sequence,
whether the signature held and what it answered.

During the load a Sweeper thread does what the beat's sweeper does, every
second; after the run, webhooks_drain() does it with the clock moved on so
that retries come due at once, until nothing is pending.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def _signature_ok(secret: str, header: str, body: bytes) -> bool:
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > 300:
        return False
    signed = f"{timestamp}.".encode() + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))


def receive(port: int, out: Path) -> None:
    secret = os.environ["CHAOS_WEBHOOK_SECRET"]
    fail = float(os.environ.get("CHAOS_WEBHOOK_FAIL", "0.15"))
    rng = random.Random(11)  # noqa: S311
    lock = threading.Lock()
    log = out.open("a", buffering=1)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            ok = _signature_ok(secret, self.headers.get("Loyalty-Signature", ""), body)
            event = json.loads(body)
            with lock:
                status = 500 if not ok or rng.random() < fail else 200
                log.write(
                    json.dumps(
                        {
                            "id": event["id"],
                            "member": event["member"],
                            "sequence": event["sequence"],
                            "signed": ok,
                            "status": status,
                        }
                    )
                    + "\n"
                )
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


# --- In the chaos driver (Django set up) ---------------------------------------


class Sweeper(threading.Thread):
    """What the beat's webhook sweeper does, every second during the load: the
    retries after the receiver's 500s, and what killed workers left."""

    def __init__(self, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.stop_event = stop
        self.errors = 0

    def run(self) -> None:
        from django.db import connection

        from members.services import webhook_deliveries_due_send

        while not self.stop_event.is_set():
            try:
                webhook_deliveries_due_send(budget=5)
            except Exception:  # noqa: BLE001 - PostgreSQL restarting under us
                self.errors += 1
                connection.close()
            self.stop_event.wait(1)
        connection.close()


def webhook_endpoint_setup(url: str) -> str:
    """An endpoint for every event type; returns its secret."""
    from members.models import WebhookEventType
    from members.services import webhook_endpoint_create

    endpoint = webhook_endpoint_create(url=url, events=WebhookEventType.values)
    return endpoint.secret


def webhooks_drain(*, timeout: float) -> int:
    """Send what is pending as the sweeper would, the clock moved on five
    minutes a round so retries come due; returns the deliveries left pending."""
    from django.utils import timezone

    from members.models import DeliveryStatus, WebhookDelivery
    from members.services import webhook_deliveries_due_send

    deadline = time.monotonic() + timeout
    step = 0
    while time.monotonic() < deadline:
        pending = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING)
        if not pending.exists():
            return 0
        step += 1
        now = timezone.now() + dt.timedelta(minutes=5 * step)
        while webhook_deliveries_due_send(now=now, batch=500):
            pass
    return WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).count()


def webhook_checks(out: Path) -> tuple[list[str], str]:
    """Every recorded event reached the receiver (2xx) at least once, with a
    good signature; each member's events arrived in sequence order (a repeat
    of the last one may come again, never an earlier one after a later);
    each member's sequence runs 1..n without gaps; nothing arrived that the
    database does not have (a rolled-back write). Returns (problems, summary)."""
    from django.db.models import Count, Max

    from members.models import DeliveryStatus, WebhookDelivery, WebhookEvent

    problems: list[str] = []
    lines = [json.loads(line) for line in out.read_text().splitlines() if line]
    bad = [line for line in lines if not line["signed"]]
    if bad:
        problems.append(f"{len(bad)} webhook requests with a bad signature")
    events = dict(WebhookEvent.objects.values_list("pk", "member_id").order_by("pk"))
    wanted = {f"evt_{pk}" for pk in events}
    got = {line["id"] for line in lines if line["status"] == 200}
    if wanted - got:
        problems.append(f"{len(wanted - got)} webhook events never delivered")
    if {line["id"] for line in lines} - wanted:
        problems.append("webhook events arrived that the database does not have")
    last: dict[int, int] = {}
    disorder = 0
    for line in lines:
        if line["sequence"] < last.get(line["member"], 0):
            disorder += 1
        last[line["member"]] = max(last.get(line["member"], 0), line["sequence"])
    if disorder:
        problems.append(f"{disorder} webhook events arrived after a later one")
    for row in WebhookEvent.objects.values("member_id").annotate(
        n=Count("id"), top=Max("sequence")
    ):
        if row["n"] != row["top"]:
            problems.append(
                f"member {row['member_id']}: {row['n']} events, sequence up to "
                f"{row['top']}"
            )
    failed = WebhookDelivery.objects.exclude(status=DeliveryStatus.DELIVERED).count()
    if failed:
        problems.append(f"{failed} webhook deliveries not delivered")
    repeats = len([line for line in lines if line["status"] == 200]) - len(got)
    summary = (
        f"Webhooks: {len(wanted)} events of {len(set(events.values()))} members, "
        f"{len(lines)} requests ({sum(line['status'] != 200 for line in lines)} "
        f"answered 500 on purpose, {repeats} delivered twice)"
    )
    return problems, summary


if __name__ == "__main__":
    receive(int(sys.argv[1]), Path(sys.argv[2]))
