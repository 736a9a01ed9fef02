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
member's own data inside). The tag holds it to that when the template is
compiled: a variable inside (or inside a template it includes by name) that is
neither one of the values, nor what they stand for (DERIVED), nor the same for
every visitor (SITE_WIDE), nor set inside the part (`as`, `for`, `with`) is a
TemplateSyntaxError naming it. Each compiled template keeps its own copies (a
template reloaded under DEBUG starts afresh), at most MAX_KEPT per tag.
"""

from __future__ import annotations

from django import template
from django.template import Engine
from django.template.base import FilterExpression, NodeList, Token, TokenType, Variable
from django.template.defaulttags import CsrfTokenNode
from django.template.loader_tags import BlockNode, IncludeNode
from django.urls import get_script_prefix, get_urlconf
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

register = template.Library()

# Names the same for every visitor with the same key: the brand (its version is
# in every key), the active language and its list, the CSRF token (put back per
# request), a loop's counters.
SITE_WIDE = {
    "brand",
    "LANGUAGE_CODE",
    "LANGUAGES",
    "LANGUAGE_BIDI",
    "csrf_token",
    "forloop",
}
# What a value in the key stands for as well.
DERIVED = {"request.get_full_path": {"request.path"}}
# Node attributes that name what a tag sets (`{% url ... as x %}`, `{% for x in %}`,
# `{% get_available_languages as x %}`, `{% with x=... %}`).
_SETS = ("asvar", "variable", "var_name", "loopvars", "target")
_SKIP = ("origin", "token", "template", "source")

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


def _variables(node, found: set[str], local: set[str], seen: set[int]) -> None:
    """The dotted names `node` reads (into found) and sets (into local)."""
    if id(node) in seen or node is None or isinstance(node, str | int | float | bool):
        return
    seen.add(id(node))
    if isinstance(node, FilterExpression):
        if isinstance(node.var, Variable) and node.var.lookups:
            found.add(".".join(node.var.lookups))
        for _func, args in node.filters:
            for lookup, arg in args:
                if lookup and isinstance(arg, Variable) and arg.lookups:
                    found.add(".".join(arg.lookups))
        return
    if isinstance(node, Token):  # {% blocktranslate %}'s {{ name }}
        if node.token_type == TokenType.VAR:
            found.add(node.contents.strip())
        return
    if isinstance(node, Variable):
        if node.lookups:
            found.add(".".join(node.lookups))
        return
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str):
                local.add(key)  # {% with key=value %}, {% include ... with key=value %}
            _variables(value, found, local, seen)
        return
    if isinstance(node, list | tuple | NodeList):
        for item in node:
            _variables(item, found, local, seen)
        return
    if isinstance(node, IncludeNode) and isinstance(node.template.var, str):
        # The included template is walked too (its name is constant).
        included = Engine.get_default().get_template(node.template.var)
        _variables(included.nodelist, found, local, seen)
    attributes = getattr(node, "__dict__", None)
    if attributes is None:
        return
    for name, value in attributes.items():
        if name in _SKIP:
            continue
        if name in _SETS:
            for item in value if isinstance(value, list | tuple) else [value]:
                if isinstance(item, str):
                    local.add(item)
            if not isinstance(value, FilterExpression | Variable):
                continue
        _variables(value, found, local, seen)


def _unkeyed(nodelist, vary: list[str]) -> list[str]:
    """The names the part reads that its key does not cover."""
    found: set[str] = set()
    local: set[str] = set()
    _variables(nodelist, found, local, set())
    covered = set(vary).union(*(DERIVED.get(value, ()) for value in vary))
    return sorted(
        name
        for name in found
        if name not in covered
        and name.split(".")[0] not in SITE_WIDE | local
        and not any(name.startswith(value + ".") for value in covered)
    )


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
    unkeyed = _unkeyed(nodelist, bits[2:])
    if unkeyed:
        raise template.TemplateSyntaxError(
            f"'keep' {bits[1]} shows {', '.join(unkeyed)}, which its key does not "
            "hold: give them as values, or render them outside the kept part"
        )
    return KeepNode(nodelist, bits[1], [parser.compile_filter(bit) for bit in bits[2:]])
