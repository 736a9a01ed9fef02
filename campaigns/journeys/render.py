"""Journey texts: rendered by the campaigns' sandbox (campaigns.messaging.templating)
with a flat dict of strings, numbers and dates.

The variable names are the campaigns' (campaigns.messaging.templating: first_name,
balance, tier, points_expiring, points_expiring_date), the ones apps above
campaigns add (campaigns.messaging.variables: analytics' recommended and
reward_suggestion), plus a few a journey adds. The campaigns' filters work
here too (`{{ balance|points }}`, `|plural`, `|money`...), in the text's
language. A text the sandbox cannot read (saved before the check) still goes
out with its plain `{{ name }}` replaced, as journeys always did.
"""

from __future__ import annotations

import re

from django.template import TemplateSyntaxError
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from campaigns.messaging.templating import (
    template_check,
    template_compile,
    template_render,
    value_for_text,
)
from campaigns.messaging.variables import template_variables_added

# Every journey may use these ...
COMMON: dict[str, str] = {
    "first_name": _("The member's first name"),
    "balance": _("Points balance"),
    "tier": _("Tier name (empty when none; the new tier in tier journeys)"),
    "points_expiring": _("Points that expire soon"),
    "points_expiring_date": _("The first day some of those points expire"),
    "card_number": _("The member's card number"),
}
# ... and these only in their own journey.
EXTRA: dict[str, dict[str, str]] = {
    "tier_up": {"previous_tier": _("The tier before the move")},
    "tier_down": {"previous_tier": _("The tier before the move")},
    "win_back": {
        "days_since_purchase": _("Days since the last purchase"),
        "leave_reason_link": _(
            "The one-tap “why did you leave?” link (added as a last line "
            "when the text does not place it)"
        ),
    },
    "voucher_reminder": {
        "reward": _("The voucher's reward"),
        "voucher_code": _("The voucher's code"),
        "voucher_expires_date": _("The day the voucher expires"),
    },
    "membership_renewal": {
        "plan": _("The membership plan"),
        "membership_ends_date": _("The day the membership ends"),
    },
}

VARIABLE_RE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def variables_allowed(kind: str) -> dict[str, str]:
    return {**COMMON, **template_variables_added(), **EXTRA.get(kind, {})}


def variables_unknown(text: str, *, kind: str) -> list[str]:
    """Variables a text uses that its journey does not know, in order."""
    return template_check(text or "", known=variables_allowed(kind)).unknown


def text_errors(text: str, *, kind: str) -> list[str]:
    """What keeps the sandbox from reading a text (syntax, dotted names)."""
    return template_check(text or "", known=variables_allowed(kind)).errors


def _value(context: dict, name: str) -> str:
    value = context.get(name, "")
    return str(value_for_text(value() if callable(value) else value))


def render(text: str, context: dict, language: str | None = None) -> str:
    """The text for one member, in `language` (the text's; default the active
    one); a name missing from `context` renders empty. A callable value
    (campaigns.messaging.templating.LazyValue) is called only when the text
    uses it."""
    try:
        template = template_compile(text or "")
    except TemplateSyntaxError:
        with translation.override(language or translation.get_language()):
            return VARIABLE_RE.sub(lambda m: _value(context, m.group(1)), text or "")
    return template_render(template, context, language)
