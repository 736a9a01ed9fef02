"""The filesystem broker's files are whole when a reader sees them
(loyalty_site/kombu_filesystem.py; celery/kombu#1551)."""

from __future__ import annotations

import threading
from queue import Empty

import pytest
from django.conf import settings
from kombu import Connection

from loyalty_site.kombu_filesystem import Transport

MESSAGES = 200
BODY = "x" * 200_000  # large enough that writing a file takes a while


def _connection(tmp_path, transport=Transport) -> Connection:
    folder = tmp_path / "broker"
    for name in ("out", "processed", "control"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    return Connection(
        "filesystem://",
        transport=transport,
        transport_options={
            "data_folder_in": str(folder / "out"),
            "data_folder_out": str(folder / "out"),
            "processed_folder": str(folder / "processed"),
            "control_folder": str(folder / "control"),
            "store_processed": False,
        },
    )


def _race(tmp_path, transport) -> tuple[list[int], list[Exception]]:
    """One thread puts MESSAGES big messages while another takes them as fast as
    it can; returns the numbers it got and the errors it met."""
    got: list[int] = []
    errors: list[Exception] = []
    done = threading.Event()

    def write():
        with _connection(tmp_path, transport) as conn:
            channel = conn.channel()
            for i in range(MESSAGES):
                channel._put("q", {"n": i, "body": BODY})
        done.set()

    def read():
        with _connection(tmp_path, transport) as conn:
            channel = conn.channel()
            while len(got) + len(errors) < MESSAGES:
                try:
                    got.append(channel._get("q")["n"])
                except Empty:
                    if done.is_set() and not _pending(tmp_path):
                        return
                except Exception as exc:  # noqa: BLE001 - collected for the assert
                    errors.append(exc)

    threads = [threading.Thread(target=read), threading.Thread(target=write)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return got, errors


def _pending(tmp_path) -> bool:
    return any(p.name.endswith(".q.msg") for p in (tmp_path / "broker/out").iterdir())


def test_filesystem_urls_mean_this_transport_and_other_urls_keep_theirs():
    from loyalty_site.celery import app

    assert isinstance(Connection("filesystem://").transport, Transport)
    assert not isinstance(Connection("memory://").transport, Transport)
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        with app.connection_for_write() as conn:
            assert isinstance(conn.transport, Transport)


def test_a_reader_racing_the_writer_gets_every_message_whole(tmp_path):
    got, errors = _race(tmp_path, Transport)

    assert errors == []
    assert sorted(got) == list(range(MESSAGES))


def test_a_file_being_written_is_not_taken(tmp_path):
    with _connection(tmp_path) as conn:
        channel = conn.channel()
        # What _put leaves while it writes: a name that is not "<queue>.msg".
        (tmp_path / "broker/out" / ".abc.1_x.q.msg.tmp").write_text('{"n": ')
        with pytest.raises(Empty):
            channel._get("q")


def test_binding_queues_at_once_keeps_every_binding_and_readers_never_fail(
    tmp_path,
):
    errors: list[Exception] = []
    stop = threading.Event()

    def bind(n):
        with _connection(tmp_path) as conn:
            channel = conn.channel()
            for i in range(40):
                try:
                    channel._queue_bind("fan", "", "", f"q{n}-{i}")
                except Exception as exc:  # noqa: BLE001 - collected for the assert
                    errors.append(exc)

    def read():
        with _connection(tmp_path) as conn:
            channel = conn.channel()
            while not stop.is_set():
                try:
                    channel.get_table("fan")
                except Exception as exc:  # noqa: BLE001
                    errors.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    binders = [threading.Thread(target=bind, args=(n,)) for n in range(3)]
    for thread in binders:
        thread.start()
    for thread in binders:
        thread.join(timeout=60)
    stop.set()
    reader.join(timeout=10)

    assert errors == []
    with _connection(tmp_path) as conn:
        queues = {q.queue for q in conn.channel().get_table("fan")}
    assert queues == {f"q{n}-{i}" for n in range(3) for i in range(40)}
