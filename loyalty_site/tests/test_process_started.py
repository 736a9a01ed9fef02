"""Every long-lived process of the project moves what its start-up made out of
the garbage collector's generations (loyalty_site.process.process_started):
the gunicorn worker (the WSGI and ASGI modules) and each Celery worker
process, started here in a new interpreter, so that this test's process is
left as it was. The benchmarks' own process: tests/tools/test_bench_smoke.py."""

from __future__ import annotations

import pytest

from tests.fresh_process import json_from_fresh_process

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
def test_the_process_freezes_what_its_start_up_made(start, tmp_path):
    code = (
        "import gc, json\nassert gc.get_freeze_count() == 0\n"
        f"{start}\nprint(json.dumps(gc.get_freeze_count()))"
    )
    assert json_from_fresh_process(code, tmp_path) > 10_000
