"""The load balancer's probe: /healthz answers 200 only when the database does."""

from contextlib import contextmanager

import pytest
from django.db import OperationalError

pytestmark = pytest.mark.django_db


def test_healthz_is_ok_when_the_database_answers(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["status"] == "ok"
    assert "no-cache" in response["Cache-Control"]


class _BrokenCursor:
    def execute(self, sql, params=None):
        raise OperationalError("server closed the connection unexpectedly")


class _Connection:
    """Stands in for django.db.connection in the view; fails where told to."""

    def __init__(self, fail_at: str) -> None:
        self.fail_at = fail_at

    @contextmanager
    def _cursor(self):
        yield _BrokenCursor()

    def cursor(self):
        if self.fail_at == "connect":
            raise OperationalError('connection to server at "127.0.0.1" failed')
        return self._cursor()


@pytest.mark.parametrize("fail_at", ["connect", "query"])
def test_healthz_is_503_when_the_database_fails(client, monkeypatch, fail_at):
    monkeypatch.setattr("members.views.connection", _Connection(fail_at))

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["error"] == "OperationalError"
    # The probe says what failed, never the database's own message.
    assert "127.0.0.1" not in response.content.decode()
    assert "server closed" not in response.content.decode()


def test_healthz_only_answers_get(client):
    assert client.post("/healthz").status_code == 405
