import os

from celery import Celery, Task
from celery.signals import worker_init, worker_process_init
from django.db.utils import InterfaceError, OperationalError

from loyalty_site import kombu_filesystem
from loyalty_site.process import process_started

kombu_filesystem.register()  # filesystem:// with atomic files (make run, tests)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loyalty_site.settings")


class LoyaltyTask(Task):
    """Every task of the project: one that fails because the database went away
    (a restart, a failover) is tried again later, with backoff, instead of being
    acknowledged as failed and lost. Tasks are safe to run twice (CONVENTIONS),
    so a second run finishes what the first began."""

    autoretry_for = (OperationalError, InterfaceError)
    retry_backoff = 2
    retry_backoff_max = 60
    retry_jitter = True
    max_retries = 10


app = Celery("loyalty_site", task_cls=LoyaltyTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect  # the worker's own process (the solo and thread pools run tasks in it)
@worker_process_init.connect  # each process of the prefork pool
def _process_started(**_kwargs) -> None:
    process_started()
