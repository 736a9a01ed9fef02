"""Fitted customer value: the nightly BG/NBD + Gamma-Gamma fit of the program's
purchases and each member's predictions from it (or from the heuristic).

Written only by analytics.services.clv.clv_model_refit; the formulas are in
analytics.selectors.clv_model."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _


class CLVMethod(models.TextChoices):
    MODEL = "model", _("Fitted model (BG/NBD, Gamma-Gamma)")
    HEURISTIC = "heuristic", _("Heuristic (too little history)")


class CLVModelFit(models.Model):
    """One nightly fit: the parameters, their log-likelihoods and how many
    customers they rest on, and the check of a fit on the earlier purchases
    against the last `holdout_days` (a chart on the RFM page).

    `parameters` is {"bgnbd": {r, alpha, a, b}, "gamma_gamma": {p, q, gamma}}
    (time in weeks, spend in the program's currency); empty when the program
    had too little history to fit (`fitted` False: every member got the
    heuristic). `holdout` is {"start", "end", "weeks", "customers",
    "model": {predicted, actual, mae}, "heuristic": {...}, "bins": [...]}."""

    fitted_at = models.DateTimeField(_("fitted at"), db_index=True)
    fitted = models.BooleanField(_("model fitted"), default=False)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    log_likelihood = models.FloatField(_("BG/NBD log-likelihood"), null=True)
    customers = models.PositiveIntegerField(_("customers"), default=0)
    spend_log_likelihood = models.FloatField(_("Gamma-Gamma log-likelihood"), null=True)
    spend_customers = models.PositiveIntegerField(
        _("customers in the spend model"), default=0
    )
    holdout = models.JSONField(_("holdout check"), default=dict, blank=True)
    members_model = models.PositiveIntegerField(_("members by the model"), default=0)
    members_heuristic = models.PositiveIntegerField(
        _("members by the heuristic"), default=0
    )

    class Meta:
        verbose_name = _("customer value model fit")
        verbose_name_plural = _("customer value model fits")
        ordering = ["-fitted_at", "-id"]

    def __str__(self) -> str:
        return f"CLV fit {self.fitted_at:%Y-%m-%d %H:%M}"


class MemberCLV(models.Model):
    """One member's predictions as of `computed_at` (one row per member who
    ever bought; rewritten nightly)."""

    member = models.OneToOneField(
        "members.Member",
        verbose_name=_("member"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="clv",
    )
    method = models.CharField(_("method"), max_length=12, choices=CLVMethod.choices)
    p_alive = models.DecimalField(
        _("P(alive)"), max_digits=5, decimal_places=4, db_index=True
    )
    expected_purchases = models.DecimalField(
        _("expected purchases, next 12 months"), max_digits=10, decimal_places=2
    )
    expected_spend = models.DecimalField(
        _("expected spend per purchase"), max_digits=14, decimal_places=2
    )
    predicted_value = models.DecimalField(
        _("predicted value, next 12 months"), max_digits=14, decimal_places=2
    )
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("member customer value")
        verbose_name_plural = _("member customer values")
        ordering = ["-predicted_value", "member_id"]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.p_alive}"

    @property
    def p_alive_percent(self) -> Decimal:
        """P(alive) in percent, for the `percent` filter."""
        return self.p_alive * 100
