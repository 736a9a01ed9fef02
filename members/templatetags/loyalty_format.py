"""The formatting filters of every staff and customer page:

    {% load loyalty_format %}
    {{ total|money }}            306 517,19 ₴ (the program's currency)
    {{ total|money:"MDL" }}      another currency
    {{ 5000|money_whole }}       5 000 грн (a whole amount without its decimals)
    {{ members|number }}         12 345
    {{ average|number:2 }}       1 234,50
    {{ entry.points|signed }}    +1 234 567, -50 (a change of a balance)
    {{ share|percent }}          33,3 %  (the value is in percent)
    {{ when|day }}               5 січня 2025 (one form a language, genitive
                                 months in uk and ru; a date-time: its day)
    {{ when|datetime }}          5 січня 2025, 08:24
    {{ when|clock }}             08:24
    {{ period|month }}           січень 2025 (a month on its own)
    {{ card.value|metric:card.unit }}   by an analytics metric's unit

Plural forms: {% blocktranslate count n=members %} with {{ n }} written by
`number` inside (see members.formatting). Django's `|date`, `|time`,
`|floatformat` and `|intcomma` are not used on pages (tests/i18n keeps it so)."""

from django import template

from members import formatting

register = template.Library()


@register.filter
def money(value, currency=None):
    return formatting.money_format(value, currency or None)


@register.filter
def money_whole(value, currency=None):
    return formatting.money_format(value, currency or None, whole=True)


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
def day(value):
    return formatting.date_format(value)


@register.filter
def datetime(value):
    return formatting.datetime_format(value)


@register.filter
def clock(value):
    return formatting.time_format(value)


@register.filter
def month(value):
    return formatting.month_format(value)


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
