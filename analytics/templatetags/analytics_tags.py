from django import template

register = template.Library()


@register.filter
def item(mapping, key):
    """mapping[key] in a template (dashboard table cells)."""
    return mapping.get(key)
