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
import time
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext as _

from jiesu.catalog.models import Category
from jiesu.lib import clock
from jiesu.lib.errors import Forbidden, InvalidInput, NotFound
from jiesu.orgs.access import membership
from jiesu.orgs.models import Role
from jiesu.tickets import access
from jiesu.tickets import services as tickets
from jiesu.tickets.models import TicketEvent
from jiesu.tickets.workflow import OPEN_STATES, Action, DispatchState

from .classifier import Doc, TextModel
from .index import INDEX_MAX_ROWS, TextIndex
from .models import (
    AssistQueue,
    Feature,
    FeatureSwitch,
    ModelActivation,
    ModelKind,
    Outcome,
    ProposalRecord,
    TextModelVersion,
)

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
    model = TextModel(open_set_max=settings.INTEL_OPEN_SET_MAX).fit(docs, labels, unlabelled=unlabelled, taxonomy=tax)
    model.text_index = build_text_index()
    return register(
        model,
        ModelKind.CATEGORY,
        _("%(n)d closed tickets and the catalogue") % {"n": len(docs)},
        by=by,
        activate=activate,
    )


def build_text_index() -> TextIndex:
    """The character TF-IDF the duplicate search and "similar past orders" query (`intel.index`), fitted on the
    newest tickets' texts and addresses; stored in the category model's file, so it is replaced with the model."""
    rows = access.training_tickets().order_by("-intake_at").values_list("title", "content", "address")
    texts: list[str] = []
    for title, content, address in rows[:INDEX_MAX_ROWS]:
        texts.append(f"{title}{content}")
        if address:
            texts.append(address)
    return TextIndex(texts)


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
    model = TextModel(balanced=False, open_set=False).fit(docs, labels)
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


# --- switches, the proposal record and automatic dispatch ----------------------------------------------------
def set_feature(user: Any, feature: str, *, enabled: bool, precision: float | None = None) -> FeatureSwitch:
    """An administrator switches an assistant feature on or off (and sets automatic dispatch's precision)."""
    m = membership(user)
    if not getattr(user, "is_superuser", False) and (m is None or m.role != Role.ADMINISTRATOR):
        raise Forbidden()
    if feature not in Feature.values:
        raise InvalidInput(_("Unknown assistant feature “%(feature)s”."), feature=str(feature)[:30])
    if precision is not None and not 0.5 <= precision <= 0.999:
        raise InvalidInput(
            _("The precision must lie between %(low)s and %(high)s."), on="precision", low="50 %", high="99.9 %"
        )
    with transaction.atomic():
        row, _created = FeatureSwitch.objects.select_for_update().get_or_create(
            feature=feature, defaults={"enabled": enabled, "updated_at": clock.now()}
        )
        row.enabled = enabled
        if precision is not None:
            row.precision = precision
        row.updated_at = clock.now()
        row.updated_by = user if getattr(user, "pk", None) else None
        row.save()
    return row


def auto_dispatch_precision() -> float:
    row = FeatureSwitch.objects.filter(feature=Feature.AUTO_DISPATCH).first()
    return row.precision if row is not None else DEFAULT_PRECISION


DEFAULT_PRECISION = 0.92


def undo_rates(days: int = 90) -> dict[str, tuple[int, int]]:
    """Category code → (automatic dispatches, of them undone) over the last `days`, from the ticket events."""
    since = clock.now() - dt.timedelta(days=days)
    events = TicketEvent.objects.filter(created_at__gte=since)
    out: dict[str, tuple[int, int]] = {}
    autos = events.filter(action=Action.DISPATCH, data__auto=True).values_list("ticket__category__code", flat=True)
    for code in autos:
        n, undone = out.get(code, (0, 0))
        out[code] = (n + 1, undone)
    for code in events.filter(action=Action.UNDO_AUTO_DISPATCH).values_list("data__category", flat=True):
        n, undone = out.get(code, (0, 0))
        out[code] = (max(n, undone + 1), undone + 1)
    return out


def category_threshold(
    model: TextModel, code: str, precision: float, rates: dict[str, tuple[int, int]]
) -> float | None:
    """The probability a category proposal must reach for automatic dispatch: the threshold that held `precision`
    on the closed history's held-out rows, made stricter by the category's undo rate (each undone automatic
    dispatch is evidence that the history overstated the precision: the precision asked for rises by the undo
    rate, at most to 99.9 %)."""
    n, undone = rates.get(code, (0, 0))
    asked = min(0.999, precision + (undone / n if n else 0.0))
    return model.threshold_at(asked, code)


def after_intake(user: Any, ticket: Any, *, title: str, content: str) -> Any:
    """What the assistant does once the console registers a ticket: record its category proposal beside the
    category the operator kept, and dispatch the ticket by itself when automatic dispatch is on and both the
    category and the unit clear their measured thresholds. Returns the automatic dispatch's ticket or None."""
    from . import selectors  # selectors import this module

    day = clock.local_date(clock.now())
    assist = selectors.assess_category(title, content, day)
    if assist.proposals:
        top = assist.proposals[0]
        final = ticket.category.code if ticket.category else ""
        ProposalRecord.objects.create(
            feature=Feature.CATEGORY,
            ticket=ticket,
            proposed=top.category.code,
            final=final,
            probability=top.probability,
            acted_alone=assist.sure,
            outcome=Outcome.ACCEPTED if final == top.category.code else Outcome.OVERRIDDEN,
            created_at=clock.now(),
            decided_at=clock.now(),
        )
    propose_tags(ticket, title, content)
    if selectors.feature_on(Feature.GROUP_WARNING):
        warn_group(ticket)
    if not selectors.feature_on(Feature.AUTO_DISPATCH) or ticket.dispatch_state != DispatchState.NEW:
        return None
    decision = auto_dispatch_decision(ticket, assist, title, content)
    if decision is None:
        return None
    lead, evidence = decision
    done = tickets.auto_dispatch(ticket.pk, lead_code=lead, evidence=evidence)
    ProposalRecord.objects.create(
        feature=Feature.AUTO_DISPATCH,
        ticket=ticket,
        proposed=ticket.category.code,
        final=lead,
        probability=evidence["category_p"],
        acted_alone=True,
        created_at=clock.now(),
    )
    return done


ASSIST_MAX_ATTEMPTS = 5


def queue_assist(ticket: Any) -> None:
    """An order from a machine interface waits for the assistant (`intake(then=queue_assist)`: in the intake's own
    transaction). The request answers at once; `assist_queued` does the work in the worker. One plain INSERT (the
    ORM's compilation of it cost as much processor time as the statement)."""
    with connection.cursor() as cursor:
        cursor.execute(_QUEUE, [ticket.pk, connection.ops.adapt_datetimefield_value(clock.now())])


_QUEUE = f'INSERT INTO "{AssistQueue._meta.db_table}" ("ticket_id", "queued_at", "attempts") VALUES (%s, %s, 0)'


ASSIST_TICK_SECONDS = 1.0


def assist_queued(limit: int = 100, seconds: float | None = None) -> int:
    """A step of `jiesu worker`: the assistant's after-intake work (`after_intake`) for the queued orders, oldest
    first, each in its own transaction with its queue row, claimed with SKIP LOCKED (a second worker takes the next
    one; a killed worker's order is claimed again). An order whose work fails is retried on the next ticks and
    dropped after `ASSIST_MAX_ATTEMPTS` (the order itself is registered and untouched; only the assistance is
    lost, and the log says so). With `seconds`, it stops taking orders after that long (the worker's tick gives it
    `ASSIST_TICK_SECONDS`, so a burst of orders never holds up the deadlines, the outbox and the webhooks behind
    it). Returns how many orders were assisted."""
    done, last = 0, 0
    stop_at = None if seconds is None else time.monotonic() + seconds
    for _n in range(limit):
        if stop_at is not None and time.monotonic() >= stop_at:
            break
        with transaction.atomic():
            row = (
                AssistQueue.objects.select_for_update(skip_locked=True)
                .filter(ticket_id__gt=last)
                .order_by("ticket_id")
                .first()
            )
            if row is None:
                break
            last = row.ticket_id
            ticket = access.all_tickets().select_related("category", "requester").get(pk=row.ticket_id)
            try:
                with transaction.atomic():
                    after_intake(None, ticket, title=ticket.title, content=ticket.content)
            except Exception:
                log.exception("the assistant failed on ticket %s (attempt %d)", ticket.number, row.attempts + 1)
                row.attempts += 1
                if row.attempts < ASSIST_MAX_ATTEMPTS:
                    row.save(update_fields=["attempts"])
                    continue
                log.error("ticket %s dropped from the assistant's queue after %d attempts", ticket.number, row.attempts)
                row.delete()
                continue
            row.delete()
            done += 1
    return done


def propose_tags(ticket: Any, title: str, content: str) -> list[str]:
    """事项 × 标签 at intake: the groups the text names (`intel.tags` rules) are set on the ticket by the assistant
    (an event with the matching words) and recorded as a proposal; staff edit them on the ticket page, and such an
    edit counts as an override. Nothing when the feature is off or nothing matches."""
    from . import selectors

    found = selectors.propose_tags(title, content)
    if not found:
        return []
    values = [t.tag for t in found]
    done = tickets.propose_tags(ticket.pk, values, {"words": {t.tag: t.words for t in found}})
    if done is not None:
        ticket.tags, ticket.version = done.tags, done.version
    ProposalRecord.objects.create(
        feature=Feature.TAGS,
        ticket=ticket,
        proposed=" ".join(values)[:64],
        final=" ".join(values)[:64],
        acted_alone=True,
        created_at=clock.now(),
    )
    return values


def auto_dispatch_decision(ticket: Any, assist: Any, title: str, content: str) -> tuple[str, dict[str, Any]] | None:
    """(lead unit code, evidence) when the ticket may be dispatched without a person, else None: the operator's
    category is the assistant's sure proposal and clears the category threshold at the configured precision, and
    the unit is the dispatch catalogue's rule (not the district fallback) or the router's proposal above its own
    threshold at that precision."""
    from . import selectors

    if ticket.category is None or not assist.sure or assist.proposals[0].category.code != ticket.category.code:
        return None
    model = selectors.active_model(ModelKind.CATEGORY)
    if model is None:
        return None
    precision = auto_dispatch_precision()
    p = assist.proposals[0].probability
    need = category_threshold(model, ticket.category.code, precision, undo_rates())
    if need is None or p < need:
        return None
    day = clock.local_date(clock.now())
    units = selectors.propose_units(ticket.category, ticket.district, ticket.street, title, content, day)
    if not units or units[0].source == "fallback":
        return None
    evidence: dict[str, Any] = {
        "category_p": round(p, 4),
        "category_threshold": round(need, 4),
        "precision": precision,
        "unit_source": units[0].source,
    }
    if units[0].source == "learned":
        router = selectors.active_model(ModelKind.ROUTER)
        unit_need = router.threshold_at(precision) if router is not None else None
        if unit_need is None or units[0].probability is None or units[0].probability < unit_need:
            return None
        evidence |= {"unit_p": round(units[0].probability, 4), "unit_threshold": round(unit_need, 4)}
    return units[0].unit.code, evidence


def acceptance() -> list[dict[str, Any]]:
    """Per feature: proposals recorded, accepted and overridden, and the acceptance rate. For automatic dispatch,
    an undo (a dispatcher's one click, an event on the ticket) is the override; for tags, a staff edit of them."""
    undone = set(TicketEvent.objects.filter(action=Action.UNDO_AUTO_DISPATCH).values_list("ticket_id", flat=True))
    edited = set(
        TicketEvent.objects.filter(action=Action.SET_TAGS, data__by="staff").values_list("ticket_id", flat=True)
    )
    out = []
    for feature in Feature:
        rows = ProposalRecord.objects.filter(feature=feature)
        if feature in (Feature.AUTO_DISPATCH, Feature.TAGS):
            tickets_ = list(rows.values_list("ticket_id", flat=True))
            changed = undone if feature == Feature.AUTO_DISPATCH else edited
            total, overridden = len(tickets_), sum(1 for t in tickets_ if t in changed)
        else:
            total = rows.count()
            overridden = rows.filter(outcome=Outcome.OVERRIDDEN).count()
        out.append(
            {
                "feature": feature,
                "label": Feature(feature).label,
                "on": None,
                "total": total,
                "accepted": total - overridden,
                "overridden": overridden,
                "rate": (total - overridden) / total if total else None,
            }
        )
    return out


# --- group complaints -----------------------------------------------------------------------------------------
GROUP_HOURS = 6
GROUP_MIN_CALLERS = 5
GROUP_SIMILARITY = 0.3


def warn_group(ticket: Any) -> Any:
    """群体诉求预警: when `ticket` makes at least `GROUP_MIN_CALLERS` distinct callers (by phone) about one place (its
    street) and one matter (same category, or texts at least `GROUP_SIMILARITY` alike) within `GROUP_HOURS`, warn
    the district's supervisors once per place and window (a `group_warning` event; the outbox notifies them).
    Returns the warned ticket or None."""
    from . import selectors

    if ticket.street_id is None or ticket.district_id is None:
        return None
    since = ticket.intake_at - dt.timedelta(hours=GROUP_HOURS)
    # The cheap refusals first (a burst at one place makes this run for each of its orders): the place already
    # warned in the window; then too few distinct callers in the whole window, before any text is compared.
    already = TicketEvent.objects.filter(
        action=Action.GROUP_WARNING, ticket__street_id=ticket.street_id, created_at__gte=since
    ).exists()
    if already:
        return None
    pool = list(  # plain values: (id, number, title + content, category, phone)
        access.all_tickets()
        .filter(street_id=ticket.street_id, intake_at__gte=since, intake_at__lte=ticket.intake_at)
        .exclude(pk=ticket.pk)
        .order_by("-intake_at")
        .values_list("id", "number", "title", "content", "category_id", "requester__phone")[:300]
    )

    def caller(pk: int, phone: str | None) -> str:
        return selectors.phone_key(phone) if phone is not None else f"#{pk}"  # None: no requester

    own = caller(ticket.pk, ticket.requester.phone if ticket.requester else None)
    if len({own} | {caller(row[0], row[5]) for row in pool}) < GROUP_MIN_CALLERS:
        return None
    scores = selectors.similarities(f"{ticket.title}{ticket.content}", [f"{row[2]}{row[3]}" for row in pool])
    same = [
        row
        for row, score in zip(pool, scores, strict=True)
        if score >= GROUP_SIMILARITY or (ticket.category_id is not None and row[4] == ticket.category_id)
    ]
    callers = {own} | {caller(row[0], row[5]) for row in same}
    if len(callers) < GROUP_MIN_CALLERS:
        return None
    group = [ticket.number, *(row[1] for row in same)]
    evidence = {
        "callers": len(callers),
        "tickets": group[:50],
        "hours": GROUP_HOURS,
        "street": ticket.street.code if ticket.street else None,
    }
    return tickets.group_warning(ticket.pk, evidence)
