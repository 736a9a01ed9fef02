"""A local fake of the Telegram Bot API (a threaded HTTP server in the test
process): it records every call and answers as Telegram does, or with the
failures a test queues."""

from __future__ import annotations

import json
import threading
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

TOKEN = "123456:TEST-token"  # noqa: S105 - a fake bot's
SECRET = "webhook-secret-1"  # noqa: S105


class FakeBotApi:
    """POST /bot<token>/<method>. `calls`: every call as {"method", "params",
    "files"}; `fail(method, status, description)` makes the next call of that
    method fail; `updates` is what getUpdates returns (then emptied)."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.failures: dict[str, list[tuple[int, str]]] = {}
        self.updates: list[dict] = []
        self.message_id = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                prefix, _slash, method = self.path.rpartition("/")
                if prefix != f"/bot{TOKEN}":
                    return self._answer(
                        401,
                        {"ok": False, "error_code": 401, "description": "Unauthorized"},
                    )
                params, files = fake._parse(self.headers.get("Content-Type", ""), raw)
                fake.calls.append({"method": method, "params": params, "files": files})
                queued = fake.failures.get(method)
                if queued:
                    status, description = queued.pop(0)
                    return self._answer(
                        status,
                        {"ok": False, "error_code": status, "description": description},
                    )
                return self._answer(200, {"ok": True, "result": fake._result(method)})

            def _answer(self, status, data):
                body = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def _parse(content_type: str, raw: bytes) -> tuple[dict, dict]:
        if content_type.startswith("application/json"):
            return json.loads(raw or b"{}"), {}
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + raw
        )
        params, files = {}, {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if part.get_filename():
                files[name] = {
                    "filename": part.get_filename(),
                    "type": part.get_content_type(),
                    "content": part.get_payload(decode=True),
                }
            else:
                params[name] = part.get_payload(decode=True).decode()
        return params, files

    def _result(self, method: str):
        if method == "getUpdates":
            updates, self.updates = self.updates, []
            return updates
        if method in ("sendMessage", "sendPhoto"):
            self.message_id += 1
            return {"message_id": self.message_id}
        return True

    def fail(self, method: str, status: int, description: str, times: int = 1):
        self.failures.setdefault(method, []).extend([(status, description)] * times)

    def of(self, method: str) -> list[dict]:
        return [c for c in self.calls if c["method"] == method]

    def texts(self, chat_id=None) -> list[str]:
        return [
            c["params"]["text"]
            for c in self.of("sendMessage")
            if chat_id is None or str(c["params"]["chat_id"]) == str(chat_id)
        ]


@pytest.fixture
def bot_api(settings):
    """The fake Bot API, with the settings of a configured bot pointing at it."""
    fake = FakeBotApi()
    settings.TELEGRAM_BOT_TOKEN = TOKEN
    settings.TELEGRAM_BOT_USERNAME = "zerno_test_bot"
    settings.TELEGRAM_API_URL = fake.url
    settings.TELEGRAM_WEBHOOK_SECRET = SECRET
    settings.TELEGRAM_TIMEOUT = 2.0
    settings.LOYALTY_TELEGRAM_BACKEND = (
        "campaigns.messaging.backends.telegram.BotApiTelegramBackend"
    )
    yield fake
    fake.close()
