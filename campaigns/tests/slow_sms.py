"""An SMS backend for the worker-kill test: the file outbox, but slow, so the
test can kill the worker in the middle of a chunk."""

import os
import time

from members.sms import FileSmsBackend


class SlowFileSmsBackend(FileSmsBackend):
    def send(self, *, to: str, text: str) -> None:
        time.sleep(float(os.environ.get("SLOW_SMS_SECONDS", "0.4")))
        super().send(to=to, text=text)
