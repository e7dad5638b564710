"""Reference data held in each process's memory: the working-day calendar, the time-limit policies, the category
catalogue, the active units. They change a few times a year and are read by every order, so intake reads them
from here instead of the database.

A cached value is dropped
- at once in the process that changes one of its models (post_save / post_delete / m2m_changed signals, and on
  commit of that transaction), and
- in every other process after `JIESU_REFERENCE_CACHE_SECONDS` (default 60): an admin's change reaches the other
  application nodes and workers within a minute.
`clear()` drops everything (the tests call it between tests, whose rollbacks send no signal).
"""

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.conf import settings
from django.db import models, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

T = TypeVar("T")

_values: dict[str, tuple[float, Any]] = {}
_lock = threading.Lock()
_watched: dict[type[models.Model], set[str]] = {}


def _ttl() -> float:
    return float(settings.JIESU_REFERENCE_CACHE_SECONDS)


def get(name: str, loader: Callable[[], T]) -> T:
    """The cached value `name`, loaded with `loader()` when missing or older than the time to live."""
    now = time.monotonic()
    found = _values.get(name)
    if found is not None and now - found[0] < _ttl():
        return found[1]  # type: ignore[no-any-return]
    value = loader()
    with _lock:
        _values[name] = (now, value)
    return value


def invalidate(*names: str) -> None:
    with _lock:
        for name in names:
            _values.pop(name, None)


def clear() -> None:
    with _lock:
        _values.clear()


def _changed(sender: type[models.Model], **kwargs: Any) -> None:
    names = tuple(_watched.get(sender, ()))
    if not names:
        return
    invalidate(*names)
    # A reader in this process between the change and its commit may have cached the old rows again.
    transaction.on_commit(lambda: invalidate(*names))


def watch(name: str, *model_classes: type[models.Model], through: Iterable[type[models.Model]] = ()) -> None:
    """Drop `name` whenever a row of one of `model_classes` (or an m2m `through` table) is saved or deleted."""
    for model in model_classes:
        first = model not in _watched
        _watched.setdefault(model, set()).add(name)
        if first:
            post_save.connect(_changed, sender=model, dispatch_uid=f"refcache-save-{model._meta.label}")
            post_delete.connect(_changed, sender=model, dispatch_uid=f"refcache-delete-{model._meta.label}")
    for table in through:
        first = table not in _watched
        _watched.setdefault(table, set()).add(name)
        if first:
            m2m_changed.connect(_changed, sender=table, dispatch_uid=f"refcache-m2m-{table._meta.label}")
