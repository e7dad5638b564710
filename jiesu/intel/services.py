"""Training, registering and switching the text models. The only writer of `TextModelVersion`.

Two kinds are trained from the platform's own history:
- the category classifier: closed tickets labelled with their leaf category's code, the catalogue's names and
  keywords as taxonomy (so a category nobody has used yet is still known by its name), open tickets as
  unlabelled texts;
- the router: closed tickets labelled with the unit that finally led them, from their category and place
  words plus their text. It speaks where the dispatch catalogue is silent.
"""

import datetime as dt
import logging
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from jiesu.catalog.models import Category
from jiesu.lib import clock
from jiesu.lib.errors import InvalidInput, NotFound
from jiesu.tickets import access
from jiesu.tickets.workflow import OPEN_STATES, DispatchState

from .classifier import Doc, TextModel
from .models import ModelActivation, ModelKind, TextModelVersion

log = logging.getLogger(__name__)
MAX_TRAINING_ROWS = 200_000
MAX_UNLABELLED_ROWS = 5_000


def register(model: TextModel, kind: str, source: str, *, by: Any = None, activate: bool = False) -> TextModelVersion:
    """Write the model file (once, never changed) and record it; activate it if asked."""
    now = clock.now()
    version = f"{now:%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"
    path = Path(settings.MODEL_DIR) / kind / f"{version}.joblib"
    model.save(path)
    with transaction.atomic():
        row = TextModelVersion.objects.create(
            kind=kind,
            version=version,
            path=str(path),
            source=source[:255],
            labelled=model.meta.get("labelled", 0),
            unlabelled=model.meta.get("unlabelled", 0),
            classes=len(model.classes),
            metrics=model.meta.get("cv3", {}),
            created_at=now,
            created_by=by,
        )
        if activate:
            row = activate_version(kind, version, by=by, reason=_("trained"))
    return row


def activate_version(kind: str, version: str, *, by: Any = None, reason: str = "") -> TextModelVersion:
    with transaction.atomic():
        target = TextModelVersion.objects.select_for_update().filter(kind=kind, version=version).first()
        if target is None:
            raise NotFound(_("No %(kind)s model version “%(version)s”."), kind=kind, version=version)
        if not Path(target.path).exists():
            raise InvalidInput(_("The model file %(path)s is missing."), path=target.path)
        current = TextModelVersion.objects.select_for_update().filter(kind=kind, is_active=True).first()
        if current is not None and current.pk == target.pk:
            return target
        if current is not None:
            current.is_active = False
            current.save(update_fields=["is_active"])
        target.is_active = True
        target.save(update_fields=["is_active"])
        ModelActivation.objects.create(
            kind=kind, from_version=current, to_version=target, actor=by, reason=reason[:255], created_at=clock.now()
        )
    return target


# --- training from the platform's own tickets -----------------------------------------------------------
def taxonomy(day: dt.date) -> dict[str, list[str]]:
    """Leaf code → the names that describe it: its own, its parents', its keywords."""
    leaves = Category.objects.effective_on(day).filter(level=3).select_related("parent__parent")
    tax: dict[str, list[str]] = {}
    for c in leaves:
        names = [c.name, c.parent.name if c.parent else "", *c.keywords.split()]
        tax[c.code] = [n for n in dict.fromkeys(names) if n]
    return tax


def _closed() -> Any:
    return (
        access.training_tickets()
        .filter(dispatch_state=DispatchState.CLOSED, duplicate_of__isnull=True)
        .select_related("category", "district", "street", "lead_unit")
        .order_by("-closed_at")
    )


def train_category_model(*, by: Any = None, activate: bool = True) -> TextModelVersion:
    day = clock.local_date(clock.now())
    tax = taxonomy(day)
    docs: list[Doc] = []
    labels: list[str] = []
    for t in _closed().filter(category__level=3)[:MAX_TRAINING_ROWS]:
        if t.category.code in tax:
            docs.append((t.title, t.content))
            labels.append(t.category.code)
    open_ = access.training_tickets().filter(dispatch_state__in=OPEN_STATES).order_by("-intake_at")
    unlabelled: list[Doc] = [(t.title, t.content) for t in open_.only("title", "content")[:MAX_UNLABELLED_ROWS]]
    if len(tax) < 2:
        raise InvalidInput(_("The catalogue has fewer than two effective categories: nothing to learn."))
    model = TextModel().fit(docs, labels, unlabelled=unlabelled, taxonomy=tax)
    return register(
        model,
        ModelKind.CATEGORY,
        _("%(n)d closed tickets and the catalogue") % {"n": len(docs)},
        by=by,
        activate=activate,
    )


def router_doc(category: Category | None, district: Any, street: Any, title: str, content: str) -> Doc:
    """What the router reads: category and place words first (its "title"), then the request's text."""
    words = [
        category.code if category else "",
        category.name if category else "",
        category.parent.name if category and category.parent else "",
        district.name if district else "",
        street.name if street else "",
    ]
    return (" ".join(w for w in words if w), f"{title}。{content}")


def train_router(*, by: Any = None, activate: bool = True) -> TextModelVersion:
    docs: list[Doc] = []
    labels: list[str] = []
    for t in _closed().filter(lead_unit__isnull=False).select_related("category__parent")[:MAX_TRAINING_ROWS]:
        docs.append(router_doc(t.category, t.district, t.street, t.title, t.content))
        labels.append(t.lead_unit.code)
    if len(set(labels)) < 2:
        raise InvalidInput(_("The dispatch history names fewer than two lead units: nothing to learn."))
    model = TextModel(balanced=False).fit(docs, labels)
    return register(
        model, ModelKind.ROUTER, _("%(n)d closed tickets' lead units") % {"n": len(docs)}, by=by, activate=activate
    )


def retrain_needed(*, min_new: int | None = None) -> bool:
    """Enough tickets closed since the active category model was trained (`INTEL_RETRAIN_AFTER`); one count."""
    min_new = settings.INTEL_RETRAIN_AFTER if min_new is None else min_new
    active = TextModelVersion.objects.filter(kind=ModelKind.CATEGORY, is_active=True).first()
    closed = _closed()
    if active is not None:
        closed = closed.filter(closed_at__gt=active.created_at)
    return bool(closed.count() >= min_new)


def retrain_if_due(*, min_new: int | None = None) -> list[TextModelVersion]:
    """Retrain both models when `retrain_needed` (the `retrain_models` task, enqueued by the worker)."""
    if not retrain_needed(min_new=min_new):
        return []
    trained = []
    for train in (train_category_model, train_router):
        try:
            trained.append(train())
        except (InvalidInput, OSError) as e:  # nothing to learn yet, or the model folder is not writable
            log.warning("retraining skipped: %s", e)
    return trained
