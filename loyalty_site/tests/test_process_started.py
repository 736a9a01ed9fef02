"""Every long-lived process of the project moves what its start-up made out of
the garbage collector's generations (loyalty_site.process.process_started):
the gunicorn worker (the WSGI and ASGI modules), each Celery worker process
and the benchmarks' own process. Each is started here in a new interpreter,
so that this test's process is left as it was."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

STARTS = {
    "wsgi": "import loyalty_site.wsgi",
    "asgi": "import loyalty_site.asgi",
    "celery prefork process": (
        "from loyalty_site.celery import app\n"
        "from celery.signals import worker_process_init\n"
        "worker_process_init.send(sender=None)"
    ),
    "celery worker": (
        "from loyalty_site.celery import app\n"
        "from celery.signals import worker_init\n"
        "worker_init.send(sender=None)"
    ),
}


@pytest.mark.parametrize("start", STARTS.values(), ids=STARTS.keys())
def test_the_process_freezes_what_its_start_up_made(start):
    code = f"import gc\nassert gc.get_freeze_count() == 0\n{start}\nprint(gc.get_freeze_count())"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "loyalty_site.settings"}
    out = subprocess.run(  # noqa: S603 - this interpreter, our own code
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert int(out.strip().splitlines()[-1]) > 10_000


def test_the_benchmarks_run_in_a_started_process():
    """bench/run.py calls it after its set-up, before any benchmark."""
    source = (ROOT / "bench" / "run.py").read_text()
    setup_at = source.index("store, members = setup()")
    started_at = source.index("process_started()", setup_at)
    assert started_at < source.index("RUNNERS[b.name](ctx)")
