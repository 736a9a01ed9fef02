"""The Celery queues by kind and the routes that fill them by task name
(settings.py sets CELERY_TASK_QUEUES, _DEFAULT_QUEUE and _ROUTES from these;
docs/operations.md, "Celery queues"), so that a 1,000,000-member campaign
never delays the nightly expiry:

- `ledger`: money and what members wait for: expiry, tier moves, memberships,
  the webhook outbox, points grants, the members' own messages (password
  resets);
- `campaigns`: campaign and journey delivery, surveys, event reminders;
- `analytics`: the nightly snapshots, RFM, co-purchases, CLV.

A worker started without -Q consumes all three (make run, make worker);
production runs one worker per queue. Celery tries the exact names first,
then the patterns in order; tests/worker/test_queues.py fails on a task that
no route names. No Django here: settings.py imports it."""

QUEUES = ("ledger", "campaigns", "analytics")
# Celery's own canvas tasks (chunks, chords) go here.
DEFAULT_QUEUE = "ledger"
TASK_ROUTES = {
    # Campaign bonuses are points on the ledger, granted hourly.
    "campaigns.tasks.campaign_bonuses_grant_due": {"queue": "ledger"},
    "rewards.*": {"queue": "ledger"},
    "members.*": {"queue": "ledger"},
    "campaigns.*": {"queue": "campaigns"},
    "analytics.*": {"queue": "analytics"},
}
