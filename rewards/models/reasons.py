"""The columns of a row whose reason the system may write (rewards.reasons)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from rewards.reasons import reason_text


class SystemReasonFields(models.Model):
    """`reason_code` and `reason_params` next to a model's own `reason` text:
    empty for a reason a person typed, else the code (rewards.reasons) that
    renders the reason in the reader's language. A model whose text column
    has another name says so in `reason_text_field`."""

    reason_text_field = "reason"

    reason_code = models.CharField(_("reason code"), max_length=40, blank=True)
    reason_params = models.JSONField(_("reason parameters"), default=dict, blank=True)

    class Meta:
        abstract = True

    def reason_text(self) -> str:
        """The reason in the active language (rewards.reasons.reason_text)."""
        return reason_text(self)
