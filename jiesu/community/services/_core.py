"""community services: shared checks and helpers."""

import datetime as dt
import re
from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

from jiesu.community import access as community_access
from jiesu.lib import events
from jiesu.lib.errors import ConcurrentEdit, Forbidden, InvalidInput, NotFound
from jiesu.lib.validation import clean_text
from jiesu.orgs.models import COMMUNITY_KINDS, OrgUnit

from ..models import ALL_SLOTS, CommunityEvent, Compound, Skill

M = TypeVar("M", bound=Model)


CLAIM_WINDOW = dt.timedelta(hours=24)  # unclaimed after this → back to the community (escalated)


MAX_OPEN_CLAIMS = 3  # a member holds at most this many claimed, unserved tasks


GENERAL_SKILL = "general"


PHONE = re.compile(r"^\+?\d{7,20}$")


def _event(
    actor: Any,
    community: OrgUnit | int,
    subject: str,
    subject_id: int,
    action: str,
    src: str = "",
    dst: str = "",
    **data: Any,
) -> CommunityEvent:
    return events.record(
        CommunityEvent,
        actor=actor,
        community_id=community if isinstance(community, int) else community.pk,
        subject=subject,
        subject_id=subject_id,
        action=action,
        from_state=src,
        to_state=dst,
        data=data,
    )


def _text(value: Any, label: str, on: str, limit: int, required: bool = True) -> str:
    return clean_text(value, on=on, label=label, limit=limit, required=required)


def _phone(value: Any, on: str = "phone") -> str:
    phone = re.sub(r"[\s-]", "", str(value or ""))
    if not PHONE.match(phone):
        raise InvalidInput(_("Enter a phone number of 7 to 20 digits."), on=on)
    return phone


def _slots(value: Any) -> int:
    try:
        slots = int(value or 0)
    except (TypeError, ValueError):
        raise InvalidInput(_("The available times are not valid."), on="slots") from None
    if not 0 <= slots <= ALL_SLOTS:
        raise InvalidInput(_("The available times are not valid."), on="slots")
    return slots


def _community(value: OrgUnit | str | int) -> OrgUnit:
    if isinstance(value, OrgUnit):
        return value
    unit = OrgUnit.objects.filter(code=str(value).strip(), kind__in=COMMUNITY_KINDS, is_active=True).first()
    if unit is None:
        raise InvalidInput(_("There is no such community."), on="community")
    return unit


def _managed(actor: Any, community: OrgUnit) -> None:
    if not community_access.may_manage_community(actor, community):
        raise Forbidden(_("You do not run this community's work."))


def _skills(codes: Any) -> list[Skill]:
    codes = [str(c) for c in (codes or []) if str(c).strip()]
    found = list(Skill.objects.filter(code__in=codes))
    if len(found) != len(set(codes)):
        raise InvalidInput(_("Unknown skill."), on="skills")
    return found


def _compound(community: OrgUnit, value: Any) -> Compound | None:
    if value in (None, ""):
        return None
    try:
        return Compound.objects.get(pk=int(value), community=community)
    except (Compound.DoesNotExist, TypeError, ValueError):
        raise InvalidInput(_("That compound or grid is not in this community."), on="compound") from None


def _locked(qs: QuerySet[M], pk: Any, missing: str) -> M:
    """The row `pk` of `qs`, locked for this transaction (only the row itself, not the joined ones); NotFound
    with `missing` for a missing row or a malformed key."""
    try:
        return qs.select_for_update(of=("self",)).get(pk=int(pk))
    except (ObjectDoesNotExist, TypeError, ValueError):
        raise NotFound(missing) from None


def _check_version(obj: Any, version: Any) -> None:
    if version not in (None, "") and str(obj.version) != str(version):
        raise ConcurrentEdit(_("Someone else changed this at the same time. Reload the page and try again."))
