from django import template

from members import formatting

register = template.Library()


@register.filter
def item(mapping, key):
    """mapping[key] in a template (dashboard table cells)."""
    return mapping.get(key)


CELL_FORMATS = {
    "money": formatting.money_format,
    "percent": formatting.percent_format,
    "number": formatting.number_format,
}


@register.filter
def cell(value, kind="number"):
    """A table cell by its column's format (COLUMN_FORMATS of
    analytics.admin.dashboard_tables), written by the one set of formatting
    functions (members.formatting); text as is."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return CELL_FORMATS.get(kind, formatting.number_format)(value)
