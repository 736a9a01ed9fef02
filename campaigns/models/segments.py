from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SegmentKind(models.TextChoices):
    RULES = "rules", _("Conditions")
    STATIC = "static", _("Uploaded list")


class Segment(models.Model):
    """A set of members a campaign goes to.

    A rules segment is a tree of conditions kept as JSON in `definition`
    (`{"op": "and"|"or", "conditions": [...]}`) and evaluated as one SQL query
    each time it is used (`campaigns.segments.selectors.segment_members`); a static
    segment is a list uploaded once (`SegmentStaticMember`).
    """

    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(
        _("kind"), max_length=10, choices=SegmentKind.choices, default=SegmentKind.RULES
    )
    definition = models.JSONField(_("conditions"), default=dict, blank=True)
    # The last upload of a static segment: counts and every row that matched no
    # member ({"file", "at", "rows", "matched", "added", "unmatched": [...]}),
    # kept so that nothing of the file is lost once the page is gone.
    import_summary = models.JSONField(_("last upload"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SegmentStaticMember(models.Model):
    """One member of an uploaded (static) segment."""

    segment = models.ForeignKey(
        Segment,
        on_delete=models.CASCADE,
        related_name="static_members",
        # The index on (segment, member) serves it (tests/house/test_indexes.py).
        db_index=False,
    )
    member = models.ForeignKey(
        "members.Member", on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        verbose_name = _("segment member")
        verbose_name_plural = _("segment members")
        constraints = [
            models.UniqueConstraint(
                fields=["segment", "member"], name="segment_static_member_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.segment_id}:{self.member_id}"
