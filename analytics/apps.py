from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Analytics")

    def ready(self) -> None:
        # Campaign segments can select members by their RFM segment.
        from django.db.models import Exists, OuterRef, Q

        from analytics.models import MemberRFM, RFMSegment
        from campaigns.segments.conditions import Op, register_condition

        def build_q(condition, ctx) -> Q:
            matching = MemberRFM.objects.filter(
                member=OuterRef("pk"), segment__in=condition["value"]
            )
            found = Q(Exists(matching))
            return ~found if condition["op"] == "is_not" else found

        register_condition(
            "rfm",
            _("RFM segment"),
            build_q,
            ops=[Op("is", _("is"), "choices"), Op("is_not", _("is not"), "choices")],
            choices=lambda: RFMSegment.choices,
            replace=True,
        )
        # Member 360 shows complaints, survey answers and event sign-ups.
        import analytics.timeline_campaigns  # noqa: F401, PLC0415
