"""Template variables that an app above campaigns adds: an extension point.

Campaign texts (campaigns.messaging.templating.VARIABLES) and journey texts
(campaigns.journeys.render.COMMON) know a fixed set of variables about the
member. An app above campaigns adds its own from its `AppConfig.ready`, the way
analytics adds `recommended` and `reward_suggestion`
(analytics.campaign_hooks)::

    template_variables_register(
        "recommendations",
        variables={"recommended": _("Up to three products ...")},
        for_chunk=Suggestions,
    )

`variables` maps each name to what it means (listed in the admin next to the
built-in ones, accepted by the text checks). `for_chunk(member_ids, now)` is
called once per chunk of members (a campaign chunk, a journey chunk, a preview
or test send) and must read nothing yet; its `.context(member)` gives that
member's values, each a string or a `LazyValue` (campaigns.messaging.templating),
which is computed only when a text uses it. Without a registration the
variables do not exist: a text naming them is warned about and renders them
empty.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_SOURCES: dict[str, VariableSource] = {}


@dataclass(frozen=True)
class VariableSource:
    name: str
    variables: dict[str, Any]  # variable name -> what it means (translatable)
    for_chunk: Callable[[list[int], dt.datetime | None], Any]


def template_variables_register(
    name: str,
    *,
    variables: dict[str, Any],
    for_chunk: Callable[[list[int], dt.datetime | None], Any],
    replace: bool = False,
) -> VariableSource:
    """Add a source of template variables. A second registration of the same
    name raises unless `replace`; a variable name already known raises too."""
    if name in _SOURCES and not replace:
        raise ValueError(f"template variables {name!r} are registered already")
    taken = {
        variable
        for other, source in _SOURCES.items()
        if other != name
        for variable in source.variables
    }
    clash = sorted(taken & set(variables))
    if clash:
        raise ValueError(f"template variables {clash} are registered already")
    source = VariableSource(name=name, variables=dict(variables), for_chunk=for_chunk)
    _SOURCES[name] = source
    return source


def template_variables_unregister(name: str) -> None:
    _SOURCES.pop(name, None)


def template_variables_added() -> dict[str, Any]:
    """Every added variable and what it means, in the order they were added."""
    return {
        variable: meaning
        for source in _SOURCES.values()
        for variable, meaning in source.variables.items()
    }


class TemplateVariables:
    """The added variables for the members of one chunk: each source is set up
    once per chunk, and nothing is read until a text uses one of its values."""

    def __init__(self, member_ids: list[int], now: dt.datetime | None = None):
        ids = list(member_ids)
        self._chunks = [source.for_chunk(ids, now) for source in _SOURCES.values()]

    def context(self, member) -> dict:
        """The member's added values, by variable name."""
        values: dict = {}
        for chunk in self._chunks:
            values.update(chunk.context(member))
        return values
