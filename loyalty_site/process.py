"""What a long-lived process of the project (a gunicorn worker, a Celery
worker, a benchmark's own process) does once its start-up is done."""

from __future__ import annotations

import gc


def process_started() -> None:
    """Move every object made so far out of the garbage collector's
    generations into its permanent one (gc.freeze): Django's settings, the
    models, the apps' modules and their caches live as long as the process,
    and every full collection walked them all again. On benchmark 1's process
    (some 200,000 such objects) one full collection took about 0.2 s, one in
    3,000 purchases: 0.06 ms a purchase, 3% of its CPU (docs/BENCHMARKS.md,
    session 18). The cycles made later are collected as before."""
    gc.freeze()
