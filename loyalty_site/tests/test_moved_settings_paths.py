"""Settings that name a class or function by its dotted path keep working when an
.env written before the campaigns sub-packages names the old path."""

from django.utils.module_loading import import_string

from tests.fresh_process import json_from_fresh_process

CODE = """
import json, django
django.setup()
from django.conf import settings
print(json.dumps({"sms": settings.LOYALTY_SMS_BACKEND,
                  "reminder": settings.LOYALTY_MEMBERSHIP_REMINDER_SENDER}))
"""


def test_old_dotted_paths_in_the_environment_name_the_moved_code(tmp_path):
    got = json_from_fresh_process(
        CODE,
        tmp_path,
        SMS_BACKEND="campaigns.backends.sms.HttpGatewaySmsBackend",
        LOYALTY_MEMBERSHIP_REMINDER_SENDER="campaigns.journeys.membership_reminder_send",
    )
    assert got == {
        "sms": "campaigns.messaging.backends.sms.HttpGatewaySmsBackend",
        "reminder": "campaigns.journeys.services.membership_reminder_send",
    }
    for path in got.values():
        import_string(path)  # both name code that exists
