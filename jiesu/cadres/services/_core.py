"""cadres services: input checks."""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_lazy as _

from jiesu.lib import clock
from jiesu.lib.errors import Forbidden, InvalidInput, NotFound
from jiesu.lib.validation import clean_text
from jiesu.orgs.models import OrgUnit
from jiesu.tickets import access as ticket_access

from .. import access
from ..models import CadreEvent, CadreProfile

TWO = Decimal("0.01")
# the events the notification outbox turns into notifications (jiesu.cadres.notices)
NOTIFIED = frozenset({"rectification_escalated"})


def _event(
    actor: Any,
    action: str,
    *,
    profile: CadreProfile | None = None,
    unit: OrgUnit | None = None,
    subject: str = "",
    subject_id: int | None = None,
    **data: Any,
) -> CadreEvent:
    at = clock.now()
    return CadreEvent.objects.create(
        actor=actor if actor is not None and getattr(actor, "pk", None) else None,
        profile=profile,
        unit=unit or (profile.unit if profile else None),
        action=action,
        subject=subject,
        subject_id=subject_id,
        data=data,
        at=at,
        notified_at=None if action in NOTIFIED else at,
    )


def _text(value: object, on: str, label: Any, limit: int = 2000, *, required: bool = True) -> str:
    return clean_text(value, on=on, label=label, limit=limit, required=required)


def _date(value: object, on: str, label: Any) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise InvalidInput(_("%(field)s must be a date (YYYY-MM-DD)."), on=on, field=label) from None


def _month(value: object, on: str, label: Any) -> dt.date:
    text = str(value or "").strip()
    if len(text) == 7:
        text += "-01"
    return _date(text, on, label).replace(day=1)


def _datetime(value: object, on: str, label: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    try:
        moment = dt.datetime.fromisoformat(str(value or "").strip())
    except ValueError:
        raise InvalidInput(_("%(field)s must be a date and time (YYYY-MM-DD HH:MM)."), on=on, field=label) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=clock.SHANGHAI)


def _decimal(value: object, on: str, label: Any, *, low: Decimal | None = None, high: Decimal | None = None) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise InvalidInput(_("%(field)s must be a number."), on=on, field=label) from None
    if not number.is_finite() or (low is not None and number < low) or (high is not None and number > high):
        raise InvalidInput(
            _("%(field)s must lie between %(low)s and %(high)s."),
            on=on,
            field=label,
            low=low if low is not None else "−∞",
            high=high if high is not None else "∞",
        )
    return number.quantize(TWO, rounding=ROUND_HALF_UP)


def _choice(value: object, choices: Any, on: str, label: Any) -> str:
    if value not in choices.values:
        raise InvalidInput(_("%(field)s: choose one of the listed values."), on=on, field=label)
    return str(value)


def _unit(code: object, on: str = "unit") -> OrgUnit:
    unit = OrgUnit.objects.filter(code=str(code or "").strip()).first()
    if unit is None:
        raise InvalidInput(_("Unknown unit code."), on=on)
    return unit


def _manage(user: Any, unit: OrgUnit) -> None:
    if not access.may_manage_unit(user, unit):
        raise Forbidden()


def _profile(user: Any, pk: object) -> CadreProfile:
    try:
        return access.visible_profiles(user).get(pk=int(str(pk)))
    except (CadreProfile.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("The cadre does not exist or you may not see them.")) from None


def _ticket_ids(user: Any, numbers: object) -> list[int]:
    """Ticket numbers (space- or comma-separated) the user may see, as ids; an unknown one is refused."""
    text = str(numbers or "").replace(",", " ").replace("，", " ")
    wanted = [n for n in text.split() if n]
    if not wanted:
        return []
    if any(not n.isdigit() for n in wanted):
        raise InvalidInput(_("Ticket numbers are digits only."), on="tickets")
    found = dict(ticket_access.all_tickets().filter(number__in=wanted).values_list("number", "pk"))
    missing = [n for n in wanted if n not in found]
    if missing:
        raise InvalidInput(_("Unknown ticket number: %(number)s."), on="tickets", number=missing[0])
    return [found[n] for n in wanted]
