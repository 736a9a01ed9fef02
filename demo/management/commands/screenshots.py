"""Take the README's screenshots again: `make screenshots`.

Builds a fresh demo database (SQLite in a temporary directory, which also
holds the Celery queue, mail and SMS files, so nothing touches var/ or a
configured broker), serves it with runserver on a free port and drives
Chromium through the pages (demo.screenshots.SHOTS), saving PNGs into docs/img/.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.screenshots import SHOTS, shots_take

SERVER_START_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise CommandError(f"The server stopped (exit {server.returncode}).")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise CommandError(f"The server did not answer {url} in {SERVER_START_SECONDS} s.")


class Command(BaseCommand):
    help = (
        "Screenshots of the portal (mobile and desktop), the Counter and the "
        "analytics dashboard, from a fresh demo database, into docs/img/."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--out",
            default=str(Path(settings.BASE_DIR) / "docs" / "img"),
            help="directory for the PNGs (default docs/img)",
        )
        parser.add_argument(
            "--members", type=int, default=200, help="demo members (default 200)"
        )
        parser.add_argument(
            "--language", default="en", help="page language (default en)"
        )
        parser.add_argument(
            "--only",
            nargs="*",
            default=None,
            help="only these shots, e.g. counter analytics",
        )
        parser.add_argument(
            "--keep", action="store_true", help="keep the temporary database"
        )

    def handle(self, *args, out, members, language, only, keep, **options):
        shots = [s for s in SHOTS if not only or s.name in only]
        if not shots:
            raise CommandError(f"No such shot; pick from {[s.name for s in SHOTS]}.")
        started = time.monotonic()
        tmp = Path(tempfile.mkdtemp(prefix="loyalty-screenshots-"))
        for sub in ("broker/out", "broker/processed", "broker/control", "mail", "sms"):
            (tmp / sub).mkdir(parents=True)
        port = _free_port()
        env = {
            **os.environ,
            "DEBUG": "1",
            "PORT": str(port),
            "LOYALTY_VAR_DIR": str(tmp),
            "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
            "CELERY_BROKER_URL": "filesystem://",
            "SITE_URL": f"http://127.0.0.1:{port}",
        }
        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        server = None
        try:
            self._step(1, f"Migrating a fresh SQLite database in {tmp}")
            self._run([*manage, "migrate", "--noinput"], env)
            self._step(2, f"Seeding the demo data, {members} members (a minute or two)")
            self._run([*manage, "seed_demo", "--members", str(members)], env)
            base_url = f"http://127.0.0.1:{port}"
            self._step(3, f"Starting the server at {base_url}")
            server = subprocess.Popen(  # noqa: S603
                [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            _wait_until_up(f"{base_url}/healthz", server)
            self._step(4, f"Taking {len(shots)} screenshots into {out}")
            saved = shots_take(
                base_url=base_url,
                out_dir=Path(out),
                shots=shots,
                language=language,
                log=self.stdout.write,
            )
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=10)
            if keep:
                self.stdout.write(f"Kept the database and its files in {tmp}.")
            else:
                shutil.rmtree(tmp, ignore_errors=True)
        self.stdout.write(
            self.style.SUCCESS(
                f"Saved {len(saved)} screenshots in {time.monotonic() - started:.0f} s."
            )
        )

    def _step(self, n: int, text: str) -> None:
        self.stdout.write(f"[{n}/4] {text}...")

    def _run(self, command: list[str], env: dict) -> None:
        result = subprocess.run(  # noqa: S603
            command, env=env, capture_output=True, text=True, check=False
        )
        if result.returncode:
            raise CommandError(
                f"{' '.join(command[1:3])} failed:\n{result.stdout[-2000:]}"
                f"\n{result.stderr[-2000:]}"
            )
