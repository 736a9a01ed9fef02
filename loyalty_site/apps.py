from django.apps import AppConfig


class LoyaltySiteConfig(AppConfig):
    """The project package as an app, for its system checks only (no models)."""

    name = "loyalty_site"
    verbose_name = "Loyalty site"

    def ready(self) -> None:
        from loyalty_site import checks  # noqa: F401 - registers the checks
