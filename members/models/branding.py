"""How the program presents itself: its name, logo, colours and icon."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

DEFAULT_PRIMARY = "#0d6efd"  # Bootstrap's blue: the pages before any branding
DEFAULT_SECONDARY = "#6c757d"

colour_validator = RegexValidator(
    r"^#[0-9a-fA-F]{6}$", _("Give a colour as # and six hex digits, e.g. #0d6efd.")
)


class Branding(models.Model):
    """The program's name, logo, colours and favicon: one row (pk 1), edited in
    admin, read through members.branding (cached, so no page pays a query).

    Used by the customer pages, the back office, the emails and the installable
    card's web app manifest and icons."""

    program_name = models.CharField(
        _("program name"),
        max_length=60,
        blank=True,
        help_text=_(
            "In page titles, the menu bar, emails and the installed app. "
            "Empty: “Loyalty club” in the reader's language."
        ),
    )
    short_name = models.CharField(
        _("short name"),
        max_length=20,
        blank=True,
        help_text=_("Under the app's icon on a phone; empty: the program name."),
    )
    logo = models.ImageField(
        _("logo"),
        upload_to="branding/",
        blank=True,
        help_text=_(
            "PNG or JPEG on a transparent or white background: shown in the "
            "menu bar, and on white as the installed app's icon."
        ),
    )
    favicon = models.ImageField(
        _("favicon"),
        upload_to="branding/",
        blank=True,
        help_text=_("A small square PNG or ICO for browser tabs; empty: the default."),
    )
    primary_color = models.CharField(
        _("primary colour"),
        max_length=7,
        default=DEFAULT_PRIMARY,
        validators=[colour_validator],
        help_text=_("Menu bar, buttons, links and the app's theme."),
    )
    secondary_color = models.CharField(
        _("secondary colour"),
        max_length=7,
        default=DEFAULT_SECONDARY,
        validators=[colour_validator],
        help_text=_("Secondary buttons and accents."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("branding")
        verbose_name_plural = _("branding")

    def __str__(self) -> str:
        return str(_("Branding"))
