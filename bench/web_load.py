"""Benchmarks 2 and 3: the POS API and the customer dashboard under gunicorn.

gunicorn serves the project on 127.0.0.1 (sync workers, 2 × cores + 1, as
docs/operations.md sets them); wrk, another process, sends the load for a fixed
time per run, and a Lua script reports throughput, errors and latency
percentiles as JSON. Each figure has a baseline measured in the same run:

2. POST /api/v1/purchases (earn) at 16 and 64 connections, against /healthz
   (a trivial Django JSON view: one `SELECT 1`) at the same concurrency.
3. GET /dashboard/ for 50 logged-in customers at once (50 connections, each
   request with one of 50 session cookies), against a static file that
   WhiteNoise serves from the same gunicorn.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))  # read when used: --tiny sets them


def api_connections() -> list[int]:
    """The concurrencies of benchmark 2 (BENCH_API_CONNECTIONS, "16,64")."""
    return [int(c) for c in os.environ.get("BENCH_API_CONNECTIONS", "16,64").split(",")]


# wrk's Lua hooks. setup() numbers the threads so that every request has its own
# receipt id; done() prints one JSON line that run() parses.
LUA_COMMON = r"""
local threads = {}
local next_id = 0
setup = function(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end
bad = 0  -- a global, so that done() can read it with thread:get
response = function(status, headers, body)
  if status ~= EXPECTED then bad = bad + 1 end
end
done = function(summary, latency, requests)
  local unexpected = 0
  for _, t in ipairs(threads) do unexpected = unexpected + (t:get("bad") or 0) end
  io.write(string.format(
    'WRK {"requests": %d, "seconds": %.3f, "unexpected_status": %d, "socket_errors": %d,'
    .. ' "p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f}\n',
    summary.requests, summary.duration / 1e6, unexpected,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
"""

LUA_EARN = r"""
local cards = {CARDS}
local n = 0
request = function()
  n = n + 1
  local card = cards[(tid * 7919 + n) % #cards + 1]
  local body = string.format(
    '{"card_number": "%s", "receipt_id": "%s-%d-%d", "total": "123.45"}',
    card, RUN, tid, n)
  return wrk.format("POST", "/api/v1/purchases",
    {["Content-Type"] = "application/json", ["Authorization"] = "Token TOKEN"}, body)
end
"""

LUA_GET_AS = r"""
local cookies = {COOKIES}
local n = 0
request = function()
  n = n + 1
  local cookie = cookies[(tid * 31 + n) % #cookies + 1]
  return wrk.format("GET", PATH, {["Cookie"] = "sessionid=" .. cookie})
end
"""

LUA_GET = r"""
request = function()
  return wrk.format("GET", PATH)
end
"""


def wrk_ensure() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("Installing wrk (Debian package)...")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], env=env, check=False)
        found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is missing: apt-get install -y wrk")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """gunicorn serving the project against the bench database, stopped on exit."""

    def __init__(
        self, database_url: str, *, worker_class: str = "sync", threads: int = 1
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = _env_int("BENCH_WEB_WORKERS", 2 * (os.cpu_count() or 1) + 1)
        self.worker_class = worker_class
        self.threads = threads
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
            # The throttle would cap one till at 600/min: the bench measures the server.
            "API_RATE": "100000000/min",
            # Production's cache (operations.md): Redis. Without CACHE_URL the
            # default database cache would add queries to every throttled request.
            "CACHE_URL": os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/6"),
            "LOG_LEVEL": "WARNING",
            "LANGUAGE_CODE": "en",
        }
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - lives as long as the server
            prefix="bench-gunicorn-", suffix=".log", delete=False
        )

    def __enter__(self) -> Gunicorn:
        cmd = [
            # This interpreter's gunicorn: a worktree or CI clone has no .venv.
            str(Path(sys.executable).with_name("gunicorn")),
            "loyalty_site.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--worker-class",
            self.worker_class,
            "--threads",
            str(self.threads),
            "--backlog",
            "2048",
            "--timeout",
            "60",
            "--error-logfile",
            "-",
        ]
        self.proc = subprocess.Popen(  # noqa: S603 - our own venv's gunicorn
            cmd, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as r:  # noqa: S310
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        self.__exit__()
        raise RuntimeError(f"gunicorn did not start; see {self.log.name}")

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def wrk_run(
    wrk: str, url: str, *, connections: int, script: str, seconds: int | None = None
) -> dict:
    """BENCH_WARMUP (3) seconds of load, discarded (each gunicorn worker's first
    requests import and compile what it needs), then `seconds` (BENCH_SECONDS,
    10) measured."""
    seconds = seconds or _env_int("BENCH_SECONDS", 10)
    warmup = _env_int("BENCH_WARMUP", 3)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script + LUA_COMMON)
        path = f.name
    try:
        for run_seconds in [s for s in (warmup, seconds) if s > 0]:
            out = subprocess.run(  # noqa: S603 - wrk against our own 127.0.0.1 server
                [
                    wrk,
                    f"-t{min(2, connections)}",
                    f"-c{connections}",
                    f"-d{run_seconds}s",
                    "--timeout",
                    "10s",
                    "-s",
                    path,
                    url,
                ],
                capture_output=True,
                text=True,
                timeout=run_seconds + 60,
                check=True,
            ).stdout
            drain(url)
    finally:
        os.unlink(path)
    line = next(x for x in out.splitlines() if x.startswith("WRK "))
    result = json.loads(line[4:])
    result["rps"] = result["requests"] / result["seconds"]
    result["connections"] = connections
    return result


def drain(url: str) -> None:
    """Wait until the requests still queued from a run are served: gunicorn's
    backlog is first in, first out, so one more request returns after them."""
    with urllib.request.urlopen(url + "/healthz", timeout=120) as r:  # noqa: S310
        r.read()


def lua_list(values: list[str]) -> str:
    return "{" + ", ".join(f'"{v}"' for v in values) + "}"


def api_earn(
    wrk: str, server: Gunicorn, *, token: str, cards: list[str], receipt_prefix: str
) -> list:
    """Receipt ids are receipt_prefix, the concurrency, the time, the wrk thread
    and a counter: each run its own."""
    rows = []
    for connections in api_connections():
        earn = wrk_run(
            wrk,
            server.url,
            connections=connections,
            script=f"EXPECTED = 201\nRUN = '{receipt_prefix}c{connections}-' .. os.time()\n"
            "tid = 0\n"
            + LUA_EARN.replace("{CARDS}", lua_list(cards)).replace("TOKEN", token),
        )
        base = wrk_run(
            wrk,
            server.url,
            connections=connections,
            script="EXPECTED = 200\nPATH = '/healthz'\n" + LUA_GET,
        )
        rows.append((connections, earn, base))
    return rows


def dashboard(
    wrk: str, server: Gunicorn, *, path: str, cookies: list[str], static_path: str
) -> tuple[dict, dict]:
    # A logged-in customer must get the page itself, not the login redirect.
    request = urllib.request.Request(  # noqa: S310 - our own 127.0.0.1 server
        server.url + path, headers={"Cookie": f"sessionid={cookies[0]}"}
    )
    with urllib.request.urlopen(request) as r:  # noqa: S310
        body = r.read().decode()
        if r.url != server.url + path or 'data-testid="tier-card"' not in body:
            raise RuntimeError(
                f"the dashboard did not render for a logged-in customer: {r.url}"
            )
    connections = _env_int("BENCH_DASHBOARD_CONNECTIONS", 50)
    page = wrk_run(
        wrk,
        server.url,
        connections=connections,
        script=f"EXPECTED = 200\nPATH = '{path}'\ntid = 0\n"
        + LUA_GET_AS.replace("{COOKIES}", lua_list(cookies)),
    )
    static = wrk_run(
        wrk,
        server.url,
        connections=connections,
        script=f"EXPECTED = 200\nPATH = '{static_path}'\n" + LUA_GET,
    )
    return page, static
