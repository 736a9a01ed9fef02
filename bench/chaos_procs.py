"""The processes make chaos starts, kills and restarts: a private PostgreSQL
cluster (or the existing server), gunicorn and Celery workers, and waiting
for them."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pg_cluster  # bench/, beside this file
from pg_cluster import free_port  # noqa: F401 - chaos.py takes it from here

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VENV_BIN = ROOT / ".venv/bin"
SECONDS = int(os.environ.get("CHAOS_SECONDS", "60"))
CLIENTS = int(os.environ.get("CHAOS_CLIENTS", "8"))
MEMBERS = int(os.environ.get("CHAOS_MEMBERS", "600"))
BROKER = os.environ.get("CHAOS_BROKER_URL", "redis://127.0.0.1:6379/9")
CONCURRENCY = 2  # Celery worker processes, each can have one batch in flight
ACK_DEADLINE = 180  # seconds a client keeps retrying one request
WORK = Path(tempfile.gettempdir()) / "loyalty-chaos"


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


# --- PostgreSQL ---------------------------------------------------------------


class PrivateCluster(pg_cluster.PrivateCluster):
    """A throw-away PostgreSQL cluster under /tmp, restartable at will."""

    def __init__(self) -> None:
        if pg_cluster.pg_bindir() is None:
            sys.exit("PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin)")
        super().__init__(WORK / "pg", "loyalty_chaos")


class ExistingServer:
    def __init__(self, url: str, restart: str) -> None:
        self.url = url
        self.restart_cmd = restart

    def start(self) -> None:
        pass

    def restart(self) -> None:
        subprocess.run(self.restart_cmd, shell=True, check=True)  # noqa: S602

    def stop(self) -> None:
        pass


# --- The processes we kill --------------------------------------------------------


class Service:
    """A process group we start, SIGKILL and start again."""

    def __init__(self, name: str, cmd: list[str], env: dict) -> None:
        self.name = name
        self.cmd = cmd
        self.env = env
        self.log = open(WORK / f"{name}.log", "ab")  # noqa: SIM115
        self.proc: subprocess.Popen | None = None
        self.kills = 0

    def start(self) -> None:
        self.proc = subprocess.Popen(  # noqa: S603 - our own venv's programs
            self.cmd, cwd=ROOT, env=self.env, stdout=self.log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def children(self) -> list[int]:
        if self.proc is None:
            return []
        try:
            out = subprocess.run(
                ["pgrep", "-P", str(self.proc.pid)],  # noqa: S607
                capture_output=True,
                text=True,
            ).stdout
        except FileNotFoundError:
            return []
        return [int(pid) for pid in out.split()]

    def kill_child(self) -> bool:
        kids = self.children()
        if not kids:
            return False
        os.kill(random.choice(kids), signal.SIGKILL)  # noqa: S311
        self.kills += 1
        return True

    def kill_all(self) -> None:
        """SIGKILL the whole process group: master and workers, no cleanup."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.kills += 1

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.kill_all()


def wait_port(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", port), timeout=1),
        ):
            return
        time.sleep(0.2)
    sys.exit(f"nothing listens on port {port}; see {WORK}/*.log")


def wait_http(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    sys.exit(f"{url} did not answer; see {WORK}/*.log")


# --- The tills ---------------------------------------------------------------------
