"""Every change of the Party members' community service: registrations, groups, the service and demand lists,
tasks (publish with matching, claim, record, rate, escalate), the points ledger and call-outs. Each runs in one
transaction and writes a `CommunityEvent` (who, what, when, from → to); notifications are made from those events.

The functions live in modules by concept; this package re-exports them (`services.name(...)`)."""

from ._core import CLAIM_WINDOW, GENERAL_SKILL, MAX_OPEN_CLAIMS, PHONE, M
from .callouts import ShiftInput, close_callout, create_callout, record_attendance, sign_up
from .lists import create_post, demand_from_ticket, join_post, refuse_demand, staff_duty_for, submit_demand
from .points import correct_points, parse_quarter, quarter_of
from .registry import (
    Login,
    confirm_member,
    create_interest_group,
    form_compound_branches,
    register_member,
    reject_member,
    report_member,
)
from .tasks import (
    cancel_task,
    claim_task,
    escalate_due,
    member_columns,
    publish_demand,
    rate_task,
    record_service,
    rematch,
)

__all__ = [
    "CLAIM_WINDOW",
    "GENERAL_SKILL",
    "MAX_OPEN_CLAIMS",
    "PHONE",
    "Login",
    "M",
    "ShiftInput",
    "cancel_task",
    "claim_task",
    "close_callout",
    "confirm_member",
    "correct_points",
    "create_callout",
    "create_interest_group",
    "create_post",
    "demand_from_ticket",
    "escalate_due",
    "form_compound_branches",
    "join_post",
    "member_columns",
    "parse_quarter",
    "publish_demand",
    "quarter_of",
    "rate_task",
    "record_attendance",
    "record_service",
    "refuse_demand",
    "register_member",
    "reject_member",
    "rematch",
    "report_member",
    "sign_up",
    "staff_duty_for",
    "submit_demand",
]
