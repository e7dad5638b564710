"""Work orders (工单), their unit assignments, requests made on them, and the immutable event trail."""

import datetime as dt
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jiesu.catalog.models import Category, DispatchRule, TimeLimitClass
from jiesu.lib.masking import mask_name, mask_phone, mask_text
from jiesu.lib.models import AppendOnly
from jiesu.orgs.models import OrgUnit
from jiesu.sla.models import TimeLimitPolicy

from .workflow import Action, DispatchState, PublicStatus


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    WEB = "web", _("Web")
    APP = "app", _("App")
    WECHAT = "wechat", _("WeChat mini-program")
    API = "api", _("API")
    EMAIL = "email", _("Email")
    OTHER_HOTLINE = "other_hotline", _("Merged hotline")


class AppealType(models.TextChoices):
    INQUIRY = "inquiry", _("Inquiry (咨询)")
    HELP = "help", _("Help (求助)")
    COMPLAINT = "complaint", _("Complaint (投诉)")
    TIPOFF = "tipoff", _("Tip-off (举报)")
    SUGGESTION = "suggestion", _("Suggestion (建议)")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")
    EMERGENCY = "emergency", _("Emergency")


class AffectedGroup(models.TextChoices):
    """事项 × 标签: the groups of people an order affects, beside its category (issue 19)."""

    ELDERLY = "elderly", _("Elderly people")
    DISABLED = "disabled", _("People with disabilities")
    CHILDREN = "children", _("Children")
    NEW_RESIDENTS = "new_residents", _("New residents")
    BUSINESSES = "businesses", _("Businesses")


class Requester(models.Model):
    """The caller's personal data, stored apart from the ticket and masked for all but hotline roles."""

    name = models.CharField(_("name"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=20, db_index=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("requester")
        verbose_name_plural = _("requesters")

    def __str__(self) -> str:
        return f"{mask_name(self.name)} {mask_phone(self.phone)}"


class DeclineReason(models.Model):
    """A published reason to decline a request (不予受理), per the 2025 national rules for 12345 hotlines. The list
    is public (the digest names it) and kept by administrators."""

    code = models.CharField(_("code"), max_length=16, unique=True)
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    ordering = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("decline reason (不予受理)")
        verbose_name_plural = _("decline reasons (不予受理)")
        ordering = ["ordering", "code"]

    def __str__(self) -> str:
        return self.title


class TicketNumberCounter(models.Model):
    """The daily sequence behind readable ticket numbers."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"


class Ticket(models.Model):
    """A work order. Status fields change only through `jiesu.tickets.services`."""

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    appeal_type = models.CharField(_("appeal type"), max_length=16, choices=AppealType.choices)
    requester = models.ForeignKey(
        Requester, verbose_name=_("requester"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("title"), max_length=200)
    content = models.TextField(_("content"))
    address = models.CharField(_("address"), max_length=255, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    district = models.ForeignKey(
        OrgUnit, verbose_name=_("district"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    street = models.ForeignKey(
        OrgUnit, verbose_name=_("street/township"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="+")
    urgency = models.CharField(_("urgency"), max_length=16, choices=Urgency.choices, default=Urgency.NORMAL)
    time_limit_class = models.CharField(_("time-limit class"), max_length=16, choices=TimeLimitClass.choices)
    time_limit_policy = models.ForeignKey(
        TimeLimitPolicy, verbose_name=_("time-limit policy"), on_delete=models.PROTECT, related_name="+"
    )
    dispatch_rule = models.ForeignKey(
        DispatchRule, verbose_name=_("dispatch rule"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lead_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("lead unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    dispatch_state = models.CharField(
        _("dispatch state"), max_length=20, choices=DispatchState.choices, default=DispatchState.NEW
    )
    public_status = models.CharField(
        _("public status"), max_length=16, choices=PublicStatus.choices, default=PublicStatus.RECEIVED
    )
    intake_at = models.DateTimeField(_("intake at"))
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    accept_due_at = models.DateTimeField(_("sign due at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    accept_overdue_at = models.DateTimeField(_("marked not signed in time at"), null=True, blank=True)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    paused_at = models.DateTimeField(_("clock paused at"), null=True, blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    overdue_at = models.DateTimeField(_("marked overdue at"), null=True, blank=True)
    reply = models.TextField(_("reply"), blank=True)
    decline_reason = models.ForeignKey(
        DeclineReason,
        verbose_name=_("decline reason"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decline_appealed = models.BooleanField(_("decline appealed"), default=False)
    confidential = models.BooleanField(
        _("confidential (保密)"),
        default=False,
        help_text=_("The caller asked for confidentiality: name and number stay masked outside the hotline."),
    )
    recording_id = models.CharField(
        _("call recording"), max_length=50, blank=True, help_text=_("The telephony system's id of the call.")
    )
    supervised = models.BooleanField(_("under supervision (督办)"), default=False)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    callback_attempts = models.PositiveSmallIntegerField(_("callback calls not answered (this round)"), default=0)
    callback_retry_at = models.DateTimeField(_("call the caller back again at"), null=True, blank=True)
    excluded_from_scoring = models.BooleanField(
        _("unreasonable appeal, excluded from scoring (不合理诉求)"), default=False
    )
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duplicates",
    )
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handler"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The person in the lead unit who handles the ticket: the signer, or whom a leader assigned."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated at"))
    version = models.PositiveIntegerField(default=1, editable=False)
    # 事项 × 标签: AffectedGroup values, space-separated with a space at both ends (" elderly children "), so that a
    # tag filters with one `contains` on every database (`tickets.selectors.with_tag`). Set by services only.
    tags = models.CharField(_("affected groups"), max_length=100, blank=True, default="", editable=False)

    # Not a column: intake sets it on the earlier ticket it returns for a repeated idempotency key.
    repeated = False

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-intake_at"]
        indexes = [
            models.Index(fields=["dispatch_state", "due_at"], name="ticket_state_due"),
            models.Index(fields=["-intake_at"], name="ticket_intake"),
            models.Index(fields=["lead_unit", "dispatch_state"], name="ticket_lead_state"),
            models.Index(fields=["requester", "-intake_at"], name="ticket_requester"),
            models.Index(
                fields=["due_at"],
                name="ticket_overdue_candidates",
                condition=Q(overdue_at__isnull=True, paused_at__isnull=True)
                & Q(dispatch_state__in=["dispatched", "return_requested", "accepted"]),
            ),
        ]

    def __str__(self) -> str:
        # Shown wherever a ticket is named (admin headings, lists of related rows): numbers in the title masked.
        return f"{self.number} {mask_text(self.title)}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk and not kwargs.get("update_fields"):
            raise ValidationError("Tickets change only through jiesu.tickets.services")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def tag_list(self) -> list[str]:
        return [t for t in self.tags.split() if t in AffectedGroup.values]

    @property
    def tag_labels(self) -> list[str]:
        return [str(AffectedGroup(t).label) for t in self.tag_list]


class AssignmentRole(models.TextChoices):
    LEAD = "lead", _("Lead (主办)")
    ASSIST = "assist", _("Assisting (协办)")
    WHISTLE = "whistle", _("Summoned by whistle (吹哨)")


class Assignment(models.Model):
    """One unit's part in one ticket. Past assignments stay (is_current=False) for the record."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="assignments")
    unit = models.ForeignKey(OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="assignments")
    role = models.CharField(_("role"), max_length=16, choices=AssignmentRole.choices)
    is_current = models.BooleanField(_("current"), default=True)
    assigned_at = models.DateTimeField(_("assigned at"))
    report_in_due_at = models.DateTimeField(_("report in by"), null=True, blank=True)
    reported_in_at = models.DateTimeField(_("reported in at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["assigned_at", "id"]
        indexes = [models.Index(fields=["unit", "is_current"])]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(is_current=True, role="lead"), name="one_current_lead"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} ({self.get_role_display()})"


class RequestState(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class ReviewedRequest(models.Model):
    """A unit's request that the hotline centre approves or rejects; one may be pending per ticket."""

    unit = models.ForeignKey(OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("requested at"))
    state = models.CharField(_("state"), max_length=16, choices=RequestState.choices, default=RequestState.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.unit} {self.get_state_display()}"  # type: ignore[attr-defined]

    def decide(self, state: str, by: Any, at: dt.datetime, note: str) -> None:
        type(self)._default_manager.filter(pk=self.pk).update(
            state=state, decided_by=by, decided_at=at, decision_note=note
        )


class ReturnRequest(ReviewedRequest):
    """退单: a unit asks to hand the ticket back; the hotline centre reviews it."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="return_requests")

    class Meta:
        verbose_name = _("return request")
        verbose_name_plural = _("return requests")
        constraints = [
            models.UniqueConstraint(fields=["ticket"], condition=Q(state="pending"), name="one_pending_return"),
        ]


class ExtensionRequest(ReviewedRequest):
    """延期: the lead unit asks for a later deadline; the hotline centre approves or denies.
    The clock is paused while the request is pending."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="extension_requests")
    requested_due_at = models.DateTimeField(_("requested deadline"))

    class Meta:
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        constraints = [
            models.UniqueConstraint(fields=["ticket"], condition=Q(state="pending"), name="one_pending_extension"),
        ]


class Resolution(models.TextChoices):
    SOLVED = "solved", _("Solved")
    PARTLY = "partly", _("Partly solved")
    UNSOLVED = "unsolved", _("Unsolved")
    NOT_ASKED = "not_asked", _("Not asked (caller not reached or refused)")

    @classmethod
    def answers(cls) -> list[tuple[str, Any]]:
        """What an agent records for a reached caller."""
        return [(v, label) for v, label in cls.choices if v != cls.NOT_ASKED]


class CallbackOutcome(models.TextChoices):
    """What came of a callback call, as agents record it."""

    REACHED = "reached", _("Reached")
    NO_ANSWER = "no_answer", _("No answer (无人接听)")
    REFUSED = "refused", _("Refused to answer (拒访)")
    WRONG_NUMBER = "wrong_number", _("Wrong or dead number")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    FAIRLY_SATISFIED = "fairly_satisfied", _("Fairly satisfied")
    DISSATISFIED = "dissatisfied", _("Dissatisfied")
    NOT_RATED = "not_rated", _("Not rated")
    NOT_ASKED = "not_asked", _("Not asked (caller not reached or refused)")

    @classmethod
    def answers(cls) -> list[tuple[str, Any]]:
        """What an agent records for a reached caller."""
        return [(v, label) for v, label in cls.choices if v != cls.NOT_ASKED]


class Callback(models.Model):
    """回访: the hotline centre's three separate questions to the requester, one row per round."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="callbacks")
    round = models.PositiveSmallIntegerField(_("round"))
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("lead unit judged"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    contacted = models.BooleanField(_("was the requester contacted"))
    resolution = models.CharField(_("is it solved"), max_length=16, choices=Resolution.choices)
    satisfaction = models.CharField(_("is the requester satisfied"), max_length=20, choices=Satisfaction.choices)
    comment = models.TextField(_("comment"), blank=True)
    outcome = models.CharField(
        _("outcome of the call"), max_length=16, choices=CallbackOutcome.choices, default=CallbackOutcome.REACHED
    )
    attempts = models.PositiveSmallIntegerField(_("calls made"), default=1)
    signed_in_time = models.BooleanField(
        _("signed in time"), null=True, help_text=_("Whether the unit judged signed for this round within its limit.")
    )
    created_at = models.DateTimeField(_("called back at"))

    class Meta:
        verbose_name = _("callback")
        verbose_name_plural = _("callbacks")
        constraints = [models.UniqueConstraint(fields=["ticket", "round"], name="one_callback_per_round")]
        indexes = [models.Index(fields=["created_at"], name="callback_time")]

    def __str__(self) -> str:
        return f"{self.ticket_id} #{self.round}: {self.resolution}/{self.satisfaction}"


class SupervisionOrder(models.Model):
    """督办: a supervisor's instruction on a ticket with a deadline for the lead unit's answer (督办反馈)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="supervision_orders")
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit to answer"), on_delete=models.PROTECT, related_name="supervision_orders"
    )
    instruction = models.TextField(_("instruction"))
    respond_by = models.DateTimeField(_("answer by"))
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(_("issued at"))
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("supervision order (督办)")
        verbose_name_plural = _("supervision orders (督办)")
        ordering = ["respond_by", "id"]
        indexes = [models.Index(fields=["unit", "answered_at"], name="supervision_unit_open")]

    def __str__(self) -> str:
        return f"{self.ticket_id} → {self.unit_id} by {self.respond_by:%Y-%m-%d %H:%M}"


class TicketEvent(AppendOnly):
    """One row per change: who, in which unit, what, from → to, when.

    Immutable: the audit trail, the source for statistics, and the notification outbox
    (`notified_at` is the outbox's only bookkeeping column, set once by the worker).
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(_("action"), max_length=24, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("actor's unit"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    from_state = models.CharField(_("from"), max_length=20, blank=True)
    to_state = models.CharField(_("to"), max_length=20)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("at"))
    notified_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["ticket", "id"], name="event_ticket"),
            models.Index(fields=["action", "created_at"], name="event_action_time"),
            models.Index(fields=["id"], name="event_outbox", condition=Q(notified_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.get_action_display()} {self.from_state}→{self.to_state}"

    @property
    def from_label(self) -> str:
        return str(DispatchState(self.from_state).label) if self.from_state else "∅"

    @property
    def to_label(self) -> str:
        return str(DispatchState(self.to_state).label)


def attachment_path(instance: "Attachment", filename: str) -> str:
    """Files are named by the server, never by the uploader: tickets/<ticket id>/<random>.<type>."""
    return f"tickets/{instance.ticket_id}/{uuid.uuid4().hex}.{instance.extension}"


class Attachment(models.Model):
    """A photo added to a ticket at intake (by the requester) or with a progress note (by a unit).
    Its type is checked by content (`jiesu.lib.uploads`); it is served only to those who may see the ticket."""

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="attachments")
    event = models.ForeignKey(TicketEvent, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(_("file"), upload_to=attachment_path)
    content_type = models.CharField(_("content type"), max_length=50)
    size = models.PositiveIntegerField(_("size in bytes"))
    original_name = models.CharField(_("original name"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.original_name or self.file.name}"

    @property
    def extension(self) -> str:
        return self.content_type.rsplit("/", 1)[-1].replace("jpeg", "jpg")


class TrackingCode(models.Model):
    """The citizen's own secret for a request (issue 22), stored only as a keyed hash and never shown to staff. It
    tracks the request on the portal and is the only way to rate it there.

    - A portal submission shows it once to the citizen on the answer page.
    - A phone request to a mobile number gets one by SMS: `sms_code` holds it only until the worker hands the message
      to the SMS gateway (`JIESU_SMS_SENDER`), then it is blanked; the operator's screen never shows it.
    - Requests from partner systems, and phone requests from a landline, have none (the hotline's callback rates
      them)."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="tracking_code", editable=False)
    code_hash = models.CharField(max_length=64, editable=False)
    sms_to = models.CharField(max_length=20, blank=True, editable=False)  # the mobile the code is sent to
    sms_code = models.CharField(max_length=8, blank=True, editable=False)  # the code, only until the SMS is sent
    sms_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    sms_attempts = models.PositiveSmallIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("tracking code")
        verbose_name_plural = _("tracking codes")
        indexes = [models.Index(fields=["id"], condition=~Q(sms_code=""), name="tracking_sms_pending")]

    def __str__(self) -> str:
        return f"{self.ticket_id}"

    ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L

    @staticmethod
    def normalise(code: str) -> str:
        return "".join(c for c in str(code or "").upper() if c.isalnum())[:16]

    @staticmethod
    def digest(code: str) -> str:
        from django.utils.crypto import salted_hmac

        return salted_hmac("jiesu.tickets.TrackingCode", TrackingCode.normalise(code)).hexdigest()

    @classmethod
    def issue(cls, ticket: "Ticket", *, sms_to: str = "") -> str:
        """A new code for `ticket` (8 characters, shown as XXXX-XXXX); only its hash is kept, and with `sms_to` the
        code itself until the SMS to that number is sent."""
        from django.utils.crypto import get_random_string

        code = get_random_string(8, cls.ALPHABET)
        cls.objects.create(ticket=ticket, code_hash=cls.digest(code), sms_to=sms_to, sms_code=code if sms_to else "")
        return cls.shown(code)

    @staticmethod
    def shown(code: str) -> str:
        return f"{code[:4]}-{code[4:]}"

    def matches(self, code: str) -> bool:
        import hmac

        return len(self.normalise(code)) == 8 and hmac.compare_digest(self.code_hash, self.digest(code))
