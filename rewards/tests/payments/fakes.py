"""Local stand-ins for the payment providers: an HTTP server in a thread that
answers like the provider's API, and callbacks signed the way each provider
documents (written here again, not imported from the code under test)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeProviderServer:
    """Records every request; `answer(path, form)` returns (status, JSON)."""

    def __init__(self, answer):
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                form = {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}
                outer.requests.append(
                    {"path": self.path, "form": form, "headers": dict(self.headers)}
                )
                status, payload = answer(self.path, form)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                outer.requests.append(
                    {"path": self.path, "form": {}, "headers": dict(self.headers)}
                )
                status, payload = answer(self.path, {})
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


# --- LiqPay: data = base64(JSON), signature = base64(sha1(key + data + key)) ---


def liqpay_callback(private_key: str, **fields) -> dict[str, str]:
    data = base64.b64encode(json.dumps(fields).encode()).decode()
    signature = base64.b64encode(
        hashlib.sha1((private_key + data + private_key).encode()).digest()  # noqa: S324
    ).decode()
    return {"data": data, "signature": signature}


def liqpay_decode(form: dict[str, str]) -> dict:
    return json.loads(base64.b64decode(form["data"]))


# --- Stripe: Stripe-Signature: t=<unix time>,v1=<HMAC-SHA256("t.payload")> -----


def stripe_signed(secret: str, event: dict, *, at: int | None = None):
    payload = json.dumps(event).encode()
    t = int(time.time()) if at is None else at
    signed = f"{t}.".encode() + payload
    v1 = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return payload, {"Stripe-Signature": f"t={t},v1={v1}"}


def stripe_event(event_id: str, event_type: str, obj: dict) -> dict:
    return {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "data": {"object": obj},
    }


def stripe_session_completed(
    event_id: str, *, order_id: str, amount: int, currency: str = "uah"
) -> dict:
    return stripe_event(
        event_id,
        "checkout.session.completed",
        {
            "id": "cs_test_1",
            "object": "checkout.session",
            "client_reference_id": order_id,
            "metadata": {"order_id": order_id},
            "amount_total": amount,
            "currency": currency,
            "payment_status": "paid",
            "payment_intent": "pi_test_1",
        },
    )


def stripe_charge_refunded(
    event_id: str, *, amount: int, refunded: bool = True, currency: str = "uah"
) -> dict:
    return stripe_event(
        event_id,
        "charge.refunded",
        {
            "id": "ch_test_1",
            "object": "charge",
            "payment_intent": "pi_test_1",
            "amount": 9900,
            "amount_refunded": amount,
            "refunded": refunded,
            "currency": currency,
            "metadata": {},
        },
    )
