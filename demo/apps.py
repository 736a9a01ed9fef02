from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """All demo seeding (seed_demo, the bulk seed, the demo builders): above the
    four apps, which never import it. No models."""

    name = "demo"
    verbose_name = _("Demo data")
