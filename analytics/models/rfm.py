"""RFM scores, customer value and churn risk per member: a nightly snapshot."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _


class RFMSegment(models.TextChoices):
    """The standard RFM segments, from the best customers to the ones gone.

    How scores map to a segment: `analytics.selectors.rfm.segment_for`."""

    CHAMPIONS = "champions", _("Champions")
    LOYAL = "loyal", _("Loyal")
    POTENTIAL_LOYALISTS = "potential_loyalists", _("Potential loyalists")
    NEW = "new", _("New")
    PROMISING = "promising", _("Promising")
    NEED_ATTENTION = "need_attention", _("Need attention")
    ABOUT_TO_SLEEP = "about_to_sleep", _("About to sleep")
    AT_RISK = "at_risk", _("At risk")
    CANT_LOSE = "cant_lose", _("Can't lose them")
    HIBERNATING = "hibernating", _("Hibernating")
    LOST = "lost", _("Lost")


class ChurnRisk(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class MemberRFM(models.Model):
    """One member's RFM scores, value and churn risk as of `computed_at`.

    Written only by `analytics.services.rfm.rfm_refresh` (nightly, in chunks);
    one row per member who ever bought. Scores are quintiles (1 worst, 5 best)
    among the members who bought within the window; members whose last purchase is
    older than the window score 1/1/1 and are Lost. Formulas:
    docs/architecture.md, "RFM, CLV, recommendations".
    """

    member = models.OneToOneField(
        "members.Member",
        verbose_name=_("member"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="rfm",
    )
    window_days = models.PositiveIntegerField(_("window (days)"))
    recency_days = models.PositiveIntegerField(_("days since last purchase"))
    frequency = models.PositiveIntegerField(_("purchases in window"))
    monetary = models.DecimalField(
        _("net spend in window"), max_digits=14, decimal_places=2
    )
    r_score = models.PositiveSmallIntegerField(_("R"))
    f_score = models.PositiveSmallIntegerField(_("F"))
    m_score = models.PositiveSmallIntegerField(_("M"))
    segment = models.CharField(
        _("segment"), max_length=24, choices=RFMSegment.choices, db_index=True
    )
    purchases_total = models.PositiveIntegerField(_("purchases to date"))
    first_purchase_at = models.DateTimeField(_("first purchase"))
    last_purchase_at = models.DateTimeField(_("last purchase"))
    historic_value = models.DecimalField(
        _("net spend to date"), max_digits=14, decimal_places=2
    )
    usual_gap_days = models.DecimalField(
        _("usual days between purchases"), max_digits=8, decimal_places=1
    )
    expected_purchases = models.DecimalField(
        _("expected purchases, next 12 months"), max_digits=8, decimal_places=2
    )
    predicted_value = models.DecimalField(
        _("predicted value, next 12 months"), max_digits=14, decimal_places=2
    )
    churn_risk = models.CharField(
        _("churn risk"), max_length=8, choices=ChurnRisk.choices, db_index=True
    )
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("member RFM score")
        verbose_name_plural = _("member RFM scores")
        ordering = ["-predicted_value", "member_id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(r_score__gte=1, r_score__lte=5)
                & models.Q(f_score__gte=1, f_score__lte=5)
                & models.Q(m_score__gte=1, m_score__lte=5),
                name="rfm_scores_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.r_score}{self.f_score}{self.m_score}"

    @property
    def code(self) -> str:
        return f"{self.r_score}{self.f_score}{self.m_score}"

    @property
    def usual_gap_whole_days(self) -> int:
        """The usual gap rounded to whole days (a plural form needs a whole number)."""
        return int(self.usual_gap_days.quantize(Decimal("1")))
