"""The formatting filters of every staff and customer page:

    {% load loyalty_format %}
    {{ total|money }}            306 517,19 ₴ (the program's currency)
    {{ total|money:"MDL" }}      another currency
    {{ members|number }}         12 345
    {{ average|number:2 }}       1 234,50
    {{ entry.points|signed }}    +1 234 567, -50 (a change of a balance)
    {{ share|percent }}          33,3 %  (the value is in percent)
    {{ when|datetime }}          05.01.25, 08:24
    {{ card.value|metric:card.unit }}   by an analytics metric's unit

Plural forms: {% blocktranslate count n=members %} with {{ n }} written by
`number` inside (see members.formatting)."""

from django import template

from members import formatting

register = template.Library()


@register.filter
def money(value, currency=None):
    return formatting.money_format(value, currency or None)


@register.filter
def number(value, places=None):
    return formatting.number_format(
        value, None if places in (None, "") else int(places)
    )


@register.filter
def signed(value):
    return formatting.signed_number_format(value)


@register.filter
def percent(value, places=1):
    return formatting.percent_format(value, int(places))


@register.filter
def datetime(value, length="short"):
    return formatting.datetime_format(value, length)


# How each unit of a metric is written: analytics' METRICS units.
UNIT_FORMATS = {
    "money": lambda v: formatting.money_format(v),
    "percent": lambda v: formatting.percent_format(v),
    "count": lambda v: formatting.number_format(v),
    "points": lambda v: formatting.number_format(v),
}


@register.filter
def metric(value, unit=""):
    """A value by its unit; units without a rule are plain numbers."""
    if value is None or value == "":
        return ""
    return UNIT_FORMATS.get(unit, formatting.number_format)(value)
