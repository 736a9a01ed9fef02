"""Kombu's filesystem transport (the broker `make run` and the tests use), with
its files written atomically.

Kombu 5.7 creates a message file, then locks and writes it; a worker listing
the folder in between moves the empty or half-written file away and fails on
it ("Expecting value: line 1 column 1", celery/kombu#1551): the task is lost.
Binding a queue to a new exchange has the same gap in the exchange's table
file. Here a message is written under a name no reader picks up and renamed
into place (a rename within a folder is atomic), and an exchange table is
rewritten the same way under a lock of its own, so a reader sees the whole
file or none. Everything else is kombu's.

`register()` (called by loyalty_site/celery.py) makes it what every
filesystem:// broker URL of this process means. Not a `broker_transport`
setting: that would also replace any other URL a test or a command sets, such
as memory://.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu import transport as kombu_transports
from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads


def _write_atomically(path: str, data: bytes) -> None:
    # A leading dot and a ".tmp" end: not "<queue>.msg", so _get skips it.
    temporary = os.path.join(
        os.path.dirname(path), f".{uuid.uuid4().hex}.{os.path.basename(path)}.tmp"
    )
    with open(temporary, "wb") as f:
        f.write(data)
    os.replace(temporary, path)


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        """Put `payload` onto `queue`: the file appears complete or not at all."""
        filename = os.path.join(
            self.data_folder_out,
            f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg",
        )
        try:
            _write_atomically(filename, str_to_bytes(dumps(payload)))
        except OSError as exc:
            raise ChannelError(f"Cannot add file {filename!r} to directory") from exc

    def _queue_bind(self, exchange, routing_key, pattern, queue):
        file = self._exchange_file(exchange)
        self.control_folder.mkdir(exist_ok=True)
        entry = filesystem.exchange_queue_t(
            routing_key or "", pattern or "", queue or ""
        )
        # Writers take turns on a lock file; readers (get_table) only ever see
        # a whole table, the old one or the new one.
        try:
            with open(f"{file}.lock", "wb") as guard:
                filesystem.lock(guard, filesystem.LOCK_EX)
                try:
                    queues = []
                    if file.exists():
                        queues = [
                            filesystem.exchange_queue_t(*q)
                            for q in loads(bytes_to_str(file.read_bytes()))
                        ]
                    if entry not in queues:
                        queues.insert(0, entry)
                        _write_atomically(str(file), str_to_bytes(dumps(queues)))
                finally:
                    filesystem.unlock(guard)
        except OSError as exc:
            raise ChannelError(f"Cannot open {file}") from exc


class Transport(filesystem.Transport):
    Channel = Channel


def register() -> None:
    kombu_transports.TRANSPORT_ALIASES["filesystem"] = f"{__name__}:Transport"
