"""The one way a service writes an event: one immutable row of an app's trail (a subclass of
`jiesu.lib.models.AppendOnly`), in the caller's transaction.

Every app's trail has an actor (a user, or nobody for the system and the public), a time and what happened;
`record` fills the first two the same way everywhere: the actor only when it is a saved user, the time from the one
clock (`jiesu.lib.clock`) unless the caller passes the moment it is recording (the worker's tick, loaded history).
The model names its time column in `EVENT_TIME_FIELD` (default `created_at`).
"""

import datetime as dt
from typing import Any, TypeVar

from django.db import models

from . import clock

E = TypeVar("E", bound=models.Model)


def record(model: type[E], *, actor: Any = None, at: dt.datetime | None = None, **fields: Any) -> E:
    time_field = getattr(model, "EVENT_TIME_FIELD", "created_at")
    user = actor if actor is not None and getattr(actor, "pk", None) else None
    created: E = model._default_manager.create(**{time_field: at or clock.now(), "actor": user}, **fields)
    return created
