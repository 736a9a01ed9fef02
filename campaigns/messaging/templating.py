"""Campaign texts as Django templates on a sandbox.

The engine knows only a handful of tags and filters (no include, load, url,
extends...), and a text sees only the flat dict `member_context` builds:
strings, numbers and dates, so no attribute of any object is reachable. A
variable that is not in the dict renders empty; `template_check` lists such
variables so the admin form can warn before the campaign goes out.

A text is rendered in the language it is written in (`template_render(...,
language)`; the reader's, or the fallback language of a text not translated):
a number a variable prints is written with that language's separators
("1 234" in uk, "1,234" in en), a date as members.formatting writes a day
("10 грудня 2026"), and the filters of FILTERS (the project's money, number
and date filters, `points` and `plural`) write in that language too. None of
them raises: a value they cannot read renders empty.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

from django.template import (
    Context,
    Engine,
    Library,
    TemplateSyntaxError,
    defaultfilters,
    defaulttags,
)
from django.template.base import FilterExpression, VariableNode
from django.template.base import render_value_in_context as _render_value
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from campaigns.messaging.variables import template_variables_added
from members import formatting

# The variables a campaign text may use, with what each means (shown in admin);
# apps above campaigns add more (campaigns.messaging.variables, variables_known).
VARIABLES: dict[str, str] = {
    "first_name": _("The member's first name"),
    "balance": _("Points balance"),
    "tier": _("Tier name (empty when none)"),
    "points_expiring": _("Points that expire within 30 days"),
    "points_expiring_date": _("The first day some of those points expire"),
    "reward": _(
        "The cheapest reward the member cannot afford yet (or the dearest they can)"
    ),
    "reward_points": _("What that reward costs in points"),
    "reward_points_needed": _("Points still missing for that reward (0 if affordable)"),
    "coupon_code": _("The member's unique coupon code (campaigns with a coupon)"),
    "survey_link": _(
        "The member's own link to the campaign's survey (campaigns with a survey)"
    ),
}
EXPIRING_WITHIN = dt.timedelta(days=30)

# The filters a text may use beyond Django's few, with an example and what it
# gives (shown in admin next to the variables).
FILTERS: dict[str, str] = {
    "{{ balance|points }}": _(
        "The number with the word “points” in the language of the text: "
        "1 point, 5 points"
    ),
    '{{ balance|plural:"point,points" }}': _(
        "Only the word, in the form the number takes; give the forms the "
        "text's language has, separated by commas (Ukrainian and Russian: "
        "three, as in 1, 3, 5; Romanian: three, as in 1, 3, 20; English: two)"
    ),
    "{{ balance|number }}": _(
        "A number with the language's separators (numbers print so anyway); "
        "|number:2 for two decimals"
    ),
    "{{ 1500|money }}": _("An amount in the program's currency"),
    "{{ points_expiring_date|day }}": _(
        "A day as the language writes it (dates print so anyway)"
    ),
}

register = Library()
for _name in (
    "default",
    "default_if_none",
    "upper",
    "lower",
    "title",
    "capfirst",
    "floatformat",
    "pluralize",
    "truncatechars",
    "truncatewords",
    "yesno",
    "date",
):
    register.filter(_name, getattr(defaultfilters, _name))
for _tag in ("if", "firstof", "comment"):
    register.tag(_tag, defaulttags.register.tags[_tag])


def _quiet(function):
    """A filter that renders empty rather than raise on a value (or an
    argument) it cannot read: one odd text must not stop a campaign."""

    def call(*args):
        try:
            return function(*args)
        except (ArithmeticError, LookupError, TypeError, ValueError):
            return ""

    return call


def _count(value) -> int | None:
    """A whole count from a number or a string of digits; None otherwise."""
    if isinstance(value, bool) or value in (None, ""):
        return None
    try:
        return int(Decimal(str(value)))
    except (ArithmeticError, ValueError):
        return None


@register.filter
def points(value):
    """ "1 234 бали", "5 балів", "1 point": the count and the word, in the
    language of the text (the catalog's "%(count)s point")."""
    count = _count(value)
    if count is None:
        return ""
    return ngettext("%(count)s point", "%(count)s points", abs(count)) % {
        "count": formatting.number_format(count)
    }


@register.filter
def plural(value, forms=""):
    """The form of a staff-written word for the count: members.formatting."""
    count = _count(value)
    if count is None:
        return ""
    return formatting.plural_form(count, str(forms))


@register.filter
def money(value, currency=None):
    return _quiet(formatting.money_format)(value, str(currency) if currency else None)


@register.filter
def money_whole(value, currency=None):
    return _quiet(lambda v, c: formatting.money_format(v, c, whole=True))(
        value, str(currency) if currency else None
    )


@register.filter
def number(value, places=None):
    return _quiet(
        lambda v, p: formatting.number_format(v, None if p in (None, "") else int(p))
    )(value, places)


@register.filter
def percent(value, places=1):
    return _quiet(lambda v, p: formatting.percent_format(v, int(p)))(value, places)


@register.filter
def day(value):
    return _quiet(formatting.date_format)(value)


def value_for_text(value):
    """How a variable's value prints when no filter wrote it: a number with
    the language's separators, a date as the language writes a day. A string
    (a name, a coupon or card number) prints as it is."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, Decimal)):
        return formatting.number_format(value)
    if isinstance(value, dt.date):
        return formatting.date_format(value)
    return value


class _FormattedVariableNode(VariableNode):
    def render(self, context):
        try:
            output = self.filter_expression.resolve(context)
        except UnicodeDecodeError:
            return ""
        return _render_value(value_for_text(output), context)


class _FormattedFirstOfNode(defaulttags.FirstOfNode):
    def render(self, context):
        first = ""
        for var in self.vars:
            value = var.resolve(context, ignore_failures=True)
            if value:
                first = _render_value(value_for_text(value), context)
                break
        if self.asvar:
            context[self.asvar] = first
            return ""
        return first


class _SandboxEngine(Engine):
    # Only the tags and filters registered above; no loaders, no libraries.
    default_builtins = ["campaigns.messaging.templating"]


@lru_cache(maxsize=1)
def _engine() -> Engine:
    return _SandboxEngine(
        dirs=[], app_dirs=False, libraries={}, autoescape=False, loaders=[]
    )


def variables_known() -> dict:
    """The variables a campaign text may use: VARIABLES, then the added ones."""
    return {**VARIABLES, **template_variables_added()}


@dataclass
class TemplateCheck:
    errors: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


def _walk(nodes, found: list[FilterExpression]) -> None:
    for node in nodes:
        if isinstance(node, VariableNode):
            found.append(node.filter_expression)
        for attr in getattr(node, "child_nodelists", ()):
            _walk(getattr(node, attr, None) or [], found)
        # {% if %} keeps its branches as (condition, nodelist) pairs.
        for condition, nodelist in getattr(node, "conditions_nodelists", ()):
            if condition is not None:
                _conditions(condition, found)
            _walk(nodelist, found)
        for expression in getattr(node, "vars", ()):  # {% firstof %}
            if isinstance(expression, FilterExpression):
                found.append(expression)


def _conditions(condition, found: list[FilterExpression]) -> None:
    value = getattr(condition, "value", None)
    if value is not None and hasattr(value, "resolve"):
        found.append(value)
    for side in ("first", "second"):
        part = getattr(condition, side, None)
        if part is not None:
            _conditions(part, found)


def template_compile(text: str):
    """Compile a campaign text; raises TemplateSyntaxError with a readable reason.
    Its variables print numbers and dates in the reader's language."""
    template = _engine().from_string(text or "")
    for node in template.nodelist.get_nodes_by_type(VariableNode):
        node.__class__ = _FormattedVariableNode
    for node in template.nodelist.get_nodes_by_type(defaulttags.FirstOfNode):
        node.__class__ = _FormattedFirstOfNode
    return template


def template_check(text: str, known: dict | None = None) -> TemplateCheck:
    """Errors (syntax, attribute access) and unknown variables of one text;
    `known`: the variables the text may use (default: a campaign's)."""
    result = TemplateCheck()
    try:
        template = template_compile(text)
    except TemplateSyntaxError as exc:
        result.errors.append(str(exc))
        return result
    found: list[FilterExpression] = []
    _walk(template.nodelist, found)
    known = variables_known() if known is None else known
    for expression in found:
        var = expression.var
        lookups = getattr(var, "lookups", None)
        if lookups is None:  # a literal
            continue
        if len(lookups) > 1:
            result.errors.append(
                str(
                    _("“%(name)s”: only plain variables, no dots.")
                    % {"name": ".".join(lookups)}
                )
            )
        elif lookups[0] not in known and lookups[0] not in result.unknown:
            result.unknown.append(lookups[0])
    return result


def template_render(template, context: dict, language: str | None = None) -> str:
    """Render a compiled text with a flat dict of strings, numbers and dates,
    in `language` (the text's: its numbers, dates and plural forms; default
    the active language).

    The text is plain (an SMS, an email's text part): nothing is escaped here,
    and the result is a plain `str`. Django returns a SafeString, which a page
    showing the text (the campaign preview) would then print unescaped, with
    whatever markup a member put in their name; the HTML part of an email
    escapes the text itself (messaging.email_build)."""
    if language:
        with translation.override(language):
            rendered = template.render(Context(context, autoescape=False))
    else:
        rendered = template.render(Context(context, autoescape=False))
    return str.__str__(rendered)


@dataclass(frozen=True)
class MemberFacts:
    """What a text may say about one member, gathered in bulk per chunk."""

    first_name: str
    balance: int
    tier: str
    points_expiring: int = 0
    points_expiring_date: dt.date | None = None
    coupon_code: str = ""
    tier_id: int | None = None
    survey_link: str = ""


# A reward a text may name: (name, points cost, ids of the tiers it is only
# for; empty: members of any tier, or of none, may take it).
RewardOffer = tuple[str, int, frozenset[int]]


def rewards_for_tier(
    rewards: list[RewardOffer], tier_id: int | None
) -> list[RewardOffer]:
    """The rewards a member of tier `tier_id` (None: no tier) may take, in
    order: those for every tier and those for theirs (the rule of
    rewards.services' tier check at redemption)."""
    return [r for r in rewards if not r[2] or tier_id in r[2]]


def reward_within_reach(balance: int, rewards: list[RewardOffer]) -> tuple[str, int]:
    """The cheapest reward (name, cost) above `balance`, else the dearest affordable.

    `rewards` is sorted by cost, cheapest first, and holds only rewards the
    member may take (rewards_for_tier).
    """
    if not rewards:
        return "", 0
    for name, cost, _tiers in rewards:
        if cost > balance:
            return name, cost
    name, cost, _tiers = rewards[-1]
    return name, cost


class LazyValue:
    """A context value computed the first time a text uses it, then kept.

    Django templates call a callable variable, and campaigns.journeys.render.render does
    too, so a text that never names the variable never pays for it."""

    def __init__(self, compute: Callable[[], str]):
        self._compute = compute
        self._value: str | None = None

    def __call__(self) -> str:
        if self._value is None:
            self._value = self._compute()
        return self._value

    def __str__(self) -> str:
        return self()


def member_context(
    facts: MemberFacts, rewards: list[RewardOffer], added: dict | None = None
) -> dict:
    """The flat, whitelisted context of a text: strings, numbers and a date (and the
    added variables' values from TemplateVariables.context, lazy values that
    render as strings; empty when not given). `rewards`: every available
    reward (rewards_by_cost); the member is offered only those of their tier."""
    reward, cost = reward_within_reach(
        facts.balance, rewards_for_tier(rewards, facts.tier_id)
    )
    added = added or dict.fromkeys(template_variables_added(), "")
    return {
        "first_name": facts.first_name,
        "balance": facts.balance,
        "tier": facts.tier,
        "points_expiring": facts.points_expiring,
        # A date: written in the text's language when it prints.
        "points_expiring_date": facts.points_expiring_date or "",
        "reward": reward,
        "reward_points": cost,
        "reward_points_needed": max(0, cost - facts.balance) if reward else 0,
        "coupon_code": facts.coupon_code,
        "survey_link": facts.survey_link,
        **added,
    }


__all__ = [
    "FILTERS",
    "value_for_text",
    "VARIABLES",
    "LazyValue",
    "MemberFacts",
    "TemplateCheck",
    "RewardOffer",
    "member_context",
    "variables_known",
    "reward_within_reach",
    "rewards_for_tier",
    "template_check",
    "template_compile",
    "template_render",
]
