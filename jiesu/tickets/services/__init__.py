"""The ticket service layer: the only code that changes a ticket's state.

Every public function here
- takes the acting user and a ticket id, loads the ticket through `access` (so a ticket the user may not
  see answers NotFound), checks the user's role and unit,
- validates all input before writing anything,
- runs in one transaction, changes the ticket with a compare-and-set on its `version`
  (optimistic concurrency: a stale edit gets ConcurrentEdit), and
- writes exactly one immutable TicketEvent per state change.
Errors are ServiceError subclasses whose message is in the user's language; on error nothing is changed.

The functions live in modules by concept (intake, dispatch, handling, callback, escalation, history);
this package re-exports the public ones, so callers write `services.dispatch(...)`.
"""

from ._core import HANDLING_KINDS, LIMITS, PHONE_RE
from .callback import close, rate_by_requester, rate_call, record_callback, reopen
from .dispatch import (
    approve_return,
    auto_dispatch,
    dispatch,
    group_warning,
    last_auto_dispatch,
    merge,
    propose_tags,
    reject_return,
    request_return,
    set_tags,
    split,
    undo_auto_dispatch,
)
from .escalation import (
    DEADLINES,
    HANDLING_DEADLINE,
    SIGN_DEADLINE,
    Deadline,
    answer_supervision,
    assessment_event,
    escalate_overdue,
    overdue_candidates,
    supervise,
)
from .handling import (
    accept,
    add_progress,
    approve_extension,
    assign_handler,
    deny_extension,
    reply,
    report_in,
    request_extension,
    whistle,
)
from .history import (
    HISTORY_SEQUENCE_FROM,
    HistoryOrder,
    PreparedHistory,
    import_history,
    imported_keys,
    load_history,
    prepare_history,
    reserve_history_numbers,
    write_history,
)
from .intake import (
    answer_directly,
    appeal_decline,
    category_for,
    decline,
    intake,
    record_decline_appeal,
    requester_note,
    send_tracking_codes,
    submit_external,
    submit_public,
    time_limit,
)

__all__ = [
    "DEADLINES",
    "HANDLING_DEADLINE",
    "HANDLING_KINDS",
    "HISTORY_SEQUENCE_FROM",
    "LIMITS",
    "PHONE_RE",
    "SIGN_DEADLINE",
    "Deadline",
    "HistoryOrder",
    "PreparedHistory",
    "accept",
    "add_progress",
    "answer_directly",
    "answer_supervision",
    "appeal_decline",
    "approve_extension",
    "approve_return",
    "assessment_event",
    "assign_handler",
    "auto_dispatch",
    "category_for",
    "close",
    "decline",
    "deny_extension",
    "dispatch",
    "escalate_overdue",
    "group_warning",
    "import_history",
    "imported_keys",
    "intake",
    "last_auto_dispatch",
    "load_history",
    "merge",
    "overdue_candidates",
    "prepare_history",
    "propose_tags",
    "rate_by_requester",
    "rate_call",
    "record_callback",
    "record_decline_appeal",
    "reject_return",
    "reopen",
    "reply",
    "report_in",
    "request_extension",
    "request_return",
    "requester_note",
    "reserve_history_numbers",
    "send_tracking_codes",
    "set_tags",
    "split",
    "submit_external",
    "submit_public",
    "supervise",
    "time_limit",
    "undo_auto_dispatch",
    "whistle",
    "write_history",
]
