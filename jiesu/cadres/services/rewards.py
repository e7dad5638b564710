"""cadres services: rewards and the spending ledger."""

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from jiesu.assessment import selectors as assessment_selectors
from jiesu.assessment.models import UnitScore
from jiesu.governance.models import MonthlyTopic
from jiesu.lib import clock
from jiesu.lib.errors import InvalidInput, NotFound

from .. import access
from ..models import Reward, RewardRule, Spending
from ._core import _decimal, _event, _manage, _month, _text, _ticket_ids
from .interviews import _area


@transaction.atomic
def compute_rewards(actor: Any, month: Any) -> list[Reward]:
    """Apply the reward rules in force to the month's published ranking (the organisation department's area).
    Idempotent: a unit's reward for a rule and snapshot is made once."""
    area = _area(actor)
    first = _month(month, "month", _("assessment month"))
    snapshot = assessment_selectors.current_snapshot(first, published_only=True)
    if snapshot is None:
        raise InvalidInput(_("That month is not published yet."), on="month")
    made = []
    for rule in RewardRule.objects.filter(active=True, effective_from__lte=first):
        rows = UnitScore.objects.filter(
            snapshot=snapshot,
            group=rule.group,
            rank__isnull=False,
            rank__lte=rule.top_n,
            unit__path__startswith=area.path,
        ).select_related("unit")
        for row in rows:
            reward, created = Reward.objects.get_or_create(
                rule=rule,
                snapshot=snapshot,
                unit=row.unit,
                defaults={"rank": row.rank, "amount": rule.amount, "created_at": clock.now()},
            )
            if created:
                _event(
                    actor,
                    "reward_made",
                    unit=row.unit,
                    subject="reward",
                    subject_id=reward.pk,
                    amount=str(reward.amount),
                )
                made.append(reward)
    return made


def spent(reward: Reward) -> Decimal:
    return sum((s.amount for s in reward.spendings.all()), Decimal(0))


@transaction.atomic
def spend(
    actor: Any, reward_id: int, *, amount: Any, purpose: str, tickets: str = "", topic_id: Any = None
) -> Spending:
    """A line of the ledger: the money goes to residents' problems, so every line names tickets or a topic."""
    reward = Reward.objects.select_for_update(of=("self",)).select_related("unit").filter(pk=reward_id).first()
    if reward is None or not access.may_read_unit(actor, reward.unit):
        raise NotFound(_("The reward does not exist or you may not see it."))
    _manage(actor, reward.unit)
    value = _decimal(amount, "amount", _("amount (yuan)"), low=Decimal("0.01"), high=reward.amount)
    if value > reward.amount - spent(reward):
        raise InvalidInput(_("The amount exceeds what is left of the reward."), on="amount")
    ids = _ticket_ids(actor, tickets)
    topic = None
    if topic_id:
        topic = MonthlyTopic.objects.filter(pk=int(str(topic_id))).first() if str(topic_id).isdigit() else None
        if topic is None:
            raise InvalidInput(_("Unknown topic."), on="topic")
    if not ids and topic is None:
        raise InvalidInput(_("Name the residents' problems the money went to: tickets or a topic."), on="tickets")
    line = Spending.objects.create(
        reward=reward,
        amount=value,
        purpose=_text(purpose, "purpose", _("purpose"), 2000),
        tickets=ids,
        topic=topic,
        by=actor,
        at=clock.now(),
    )
    _event(
        actor, "reward_spent", unit=reward.unit, subject="reward", subject_id=reward.pk, amount=str(value), tickets=ids
    )
    return line
