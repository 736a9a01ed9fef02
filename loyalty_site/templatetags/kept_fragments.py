"""{% keep %}: a part of the page that is the same for everyone who sees it
with the same values, rendered once per process for each set of them.

base.html's head, menu and footer (two dozen `{% url %}`, as many
translations, the language list, the brand) were a third of the customer
dashboard's Django CPU (docs/BENCHMARKS.md, "Issue 18: dashboard"). They
depend only on the language, the brand, whether someone is logged in and the
path; the one per-visitor value inside them, the CSRF token of the language
and log-out forms, is rendered from this request's context on every use.

    {% keep "navbar" user.is_authenticated request.get_full_path brand.version %}
      ...
    {% endkeep %}

The key is the name, the active language, the URL prefix and urlconf, and the
values given: **everything the part shows must be among them** (never put a
member's own data inside). Each compiled template keeps its own copies (a
template reloaded under DEBUG starts afresh), at most MAX_KEPT per tag.
"""

from __future__ import annotations

from django import template
from django.template.defaulttags import CsrfTokenNode
from django.template.loader_tags import BlockNode
from django.urls import get_script_prefix, get_urlconf
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

register = template.Library()

MAX_KEPT = 500  # query strings are part of the path: a bound on what they add
# What {% csrf_token %} renders inside a kept part while it is rendered once;
# every use puts this request's own token (CsrfTokenNode's output) in its place.
_STAND_IN = "kept-csrf-token-7f3a9c"


class KeepNode(template.Node):
    # Not walked by get_nodes_by_type: {% extends %} walks base.html for its
    # blocks on every render, and the menu alone is hundreds of nodes. There
    # is no block inside (keep() refuses one: it would be kept as first shown).
    child_nodelists = ()

    def __init__(self, nodelist, name, vary):
        self.nodelist = nodelist
        self.name = name
        self.vary = vary
        self.kept: dict[tuple, tuple[str, str]] = {}

    def render(self, context):
        key = (
            get_language(),
            get_script_prefix(),
            get_urlconf(),
            *(value.resolve(context) for value in self.vary),
        )
        kept = self.kept.get(key)
        if kept is None:
            with context.push(csrf_token=_STAND_IN):
                sentinel = CsrfTokenNode().render(context)
                html = self.nodelist.render(context)
            if len(self.kept) >= MAX_KEPT:
                self.kept.clear()
            kept = self.kept[key] = (html, sentinel)
        html, sentinel = kept
        if sentinel in html:
            html = html.replace(sentinel, CsrfTokenNode().render(context))
        return mark_safe(html)  # noqa: S308 - the template's own output, escaped there


@register.tag
def keep(parser, token):
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError(
            "'keep' takes a name and the values the part depends on"
        )
    nodelist = parser.parse(("endkeep",))
    parser.delete_first_token()
    if nodelist.get_nodes_by_type(BlockNode):
        raise template.TemplateSyntaxError("'keep' cannot hold a {% block %}")
    return KeepNode(nodelist, bits[1], [parser.compile_filter(bit) for bit in bits[2:]])
