"""Panels that higher apps add to the ticket page, so that `tickets` never imports them.

An app registers a panel in its `AppConfig.ready`: `panels.register("library", build)`, where
`build(user, ticket, actions)` returns the template context for that panel (or None to show nothing). `actions` are
the action codes the user may perform on the ticket now. The ticket page puts each panel's result into its context
under the panel's name; the template decides where it goes.
"""

from collections.abc import Callable, Iterable
from typing import Any

from .models import Ticket

Panel = Callable[[Any, Ticket, frozenset[str]], Any]

_panels: dict[str, Panel] = {}


def register(name: str, build: Panel) -> None:
    _panels[name] = build


def context(user: Any, ticket: Ticket, actions: Iterable[str]) -> dict[str, Any]:
    allowed = frozenset(actions)
    return {name: build(user, ticket, allowed) for name, build in _panels.items()}
