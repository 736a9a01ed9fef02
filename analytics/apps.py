from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Analytics")

    def ready(self) -> None:
        from analytics.campaign_hooks import campaign_hooks_register

        # Campaign segments can select members by their RFM segment; campaign
        # and journey texts can name recommendations (campaigns' extension points).
        campaign_hooks_register()
        # Member 360 shows complaints, survey answers and event sign-ups.
        import analytics.selectors.timeline_campaigns  # noqa: F401, PLC0415
