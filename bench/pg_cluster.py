"""Throw-away PostgreSQL clusters under a temporary directory: the one `make
chaos` restarts at will, and the primary/streaming-replica pair the replica
tests start (loyalty_site/tests/test_replica.py). No Django here; the test
suite and bench/ both import it (bench/ on sys.path).

As root the server runs as the `postgres` OS user (initdb refuses root)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bindir() -> Path | None:
    """The newest installed server's bin directory (Debian's layout), if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


class PrivateCluster:
    """A PostgreSQL cluster of our own in `directory`, on a free port, with
    trust authentication (replication connections from 127.0.0.1 included, as
    initdb writes them), and one database `dbname`."""

    def __init__(self, directory: Path, dbname: str, *, options: str = "") -> None:
        bindir = pg_bindir()
        if bindir is None:
            raise RuntimeError(
                "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin)"
            )
        self.bindir = bindir
        self.dir = Path(directory)
        self.dbname = dbname
        self.options = options
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []

    def run(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        """One of the server's programs, as the user the cluster runs as."""
        return subprocess.run(  # noqa: S603 - the server's own programs
            [*self.as_user, *args], check=True, capture_output=True, **kwargs
        )

    def _prepare_dir(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        if self.as_user:
            for folder in (self.dir.parent, self.dir):
                shutil.chown(folder, "postgres")
        self.dir.chmod(0o700)

    def start(self) -> None:
        """initdb, start, create the database."""
        self._prepare_dir()
        self.run(
            str(self.bindir / "initdb"), "-D", str(self.dir), "-A", "trust",
            "-U", "postgres", "--no-sync",
        )  # fmt: skip
        self.ctl("start")
        self.run(
            str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
            "-U", "postgres", self.dbname,
        )  # fmt: skip

    def start_replica_of(self, primary: PrivateCluster) -> None:
        """A hot standby streaming from `primary`: pg_basebackup -R writes
        standby.signal and primary_conninfo, then the server starts."""
        self._prepare_dir()
        self.run(
            str(self.bindir / "pg_basebackup"), "-h", "127.0.0.1",
            "-p", str(primary.port), "-U", "postgres", "-D", str(self.dir),
            "-R", "-X", "stream", "--no-sync", "--checkpoint=fast",
        )  # fmt: skip
        self.ctl("start")

    def ctl(self, *action: str) -> None:
        self.run(
            str(self.bindir / "pg_ctl"), "-D", str(self.dir), "-w", "-l",
            str(self.dir / "server.log"),
            "-o", f"-p {self.port} -k {self.dir} -c fsync=off "
            f"-c max_connections=200 {self.options}",
            *action,
        )  # fmt: skip

    def psql(self, sql: str, **variables: object) -> str:
        """Run `sql` with psql, as a script (`:name` in it is the variable
        `name`, with -c it would not be); its unaligned output."""
        given = [f"--set={name}={value}" for name, value in variables.items()]
        return subprocess.run(  # noqa: S603
            [str(self.bindir / "psql"), "-h", "127.0.0.1", "-p", str(self.port),
             "-U", "postgres", "-d", self.dbname, "-v", "ON_ERROR_STOP=1",
             *given, "-Atq"],
            input=sql, check=True, capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip

    def wait_ready(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with contextlib.suppress(subprocess.CalledProcessError):
                self.psql("select 1")
                return
            time.sleep(0.2)
        raise RuntimeError(f"PostgreSQL on port {self.port} did not start")

    def restart(self) -> None:
        self.ctl("restart", "-m", "immediate")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.ctl("stop", "-m", "fast")
