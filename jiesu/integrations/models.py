"""The outside contracts' own records: client systems and their keys, Open311 service attributes, requester
updates received through Open311, webhook subscriptions with their delivery attempts, and the calls the
telephony system reports (screen pop, missed calls to call back) with their trail."""

import hashlib
import hmac
import secrets
from functools import cache
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models import Q
from django.db.models.expressions import Col
from django.utils.translation import gettext_lazy as _

from jiesu.lib.models import AppendOnly
from jiesu.orgs.models import Membership, OrgUnit
from jiesu.tickets.models import Ticket, TicketEvent


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiClient(models.Model):
    """A client system (the city app, a district system, an Open311 client) or a person using the API.

    Its key is shown once when made and stored only as a SHA-256 hash; the first part (before the dot) finds the
    row. With `user`, REST API calls act as that user and see exactly what that user sees in the web UI; without
    one, the key may only post Open311 requests and updates."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    key_prefix = models.CharField(_("key prefix"), max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acts as user"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("REST API calls and webhooks see what this user sees. Leave empty for an Open311-only client."),
    )
    rate_limit_per_hour = models.PositiveIntegerField(_("requests per hour"), default=3600)
    telephony = models.BooleanField(
        _("telephony system"),
        default=False,
        help_text=_("May post incoming and missed calls (screen pop, 漏接回拨) to /telephony/calls/."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def issue_key(self, key: str | None = None) -> str:
        """Give the client a new key (replacing the old one) and return it; only its hash is kept."""
        key = key or f"{secrets.token_hex(4)}.{secrets.token_urlsafe(24)}"
        prefix, dot, secret = key.partition(".")
        if not dot or not prefix or len(prefix) > 16 or len(secret) < 8:
            raise ValidationError("An API key is <prefix>.<secret>, the secret at least 8 characters.")
        self.key_prefix, self.key_hash = prefix, hash_key(key)
        return key

    @classmethod
    def by_key(cls, key: str) -> "ApiClient | None":
        """The active client holding `key`, compared in constant time, or None."""
        prefix = str(key or "").partition(".")[0]
        if not prefix or len(str(key)) > 200:
            return None
        client = cls.objects.select_related("user__membership__unit").filter(key_prefix=prefix, is_active=True).first()
        if client is None or not hmac.compare_digest(client.key_hash, hash_key(str(key))):
            return None
        return client

    @classmethod
    def by_key_checked(cls, key: str, failures_sql: tuple[str, list[Any]]) -> "tuple[ApiClient | None, int]":
        """`by_key` and a count read in the same statement (`failures_sql`: a scalar subquery and its parameters,
        the address's failed keys from `jiesu.lib.logins.api_key_failures_sql`): (the client or None, the count).

        One statement per API request, built once per process (no ORM compilation): the client, its user, the
        user's membership and unit come back as model instances with the relations cached, as
        `select_related("user__membership__unit")` would give them."""
        prefix = str(key or "").partition(".")[0]
        if not prefix or len(str(key)) > 200:
            prefix = ""  # matches no client; the count is still read
        sub, params = failures_sql
        models_, sql, converters = _key_lookup()
        with connection.cursor() as cursor:
            cursor.execute(sql.format(failures=sub), [*params, prefix])
            row = cursor.fetchone()
        failures = int(row[0] or 0)
        values = list(row[1:])
        for i, column, functions in converters:
            for function in functions:
                values[i] = function(values[i], column, connection)
        objects: list[Any] = []
        at = 0
        for model in models_:
            width = len(model._meta.concrete_fields)
            mine = values[at : at + width]
            at += width
            objects.append(None if mine[0] is None else model.from_db(connection.alias, None, mine))  # type: ignore[arg-type]
        client, user, membership, unit = objects
        if client is None or not hmac.compare_digest(client.key_hash, hash_key(str(key))):
            return None, failures
        if user is not None:
            client.user = user
            if membership is not None:
                membership.unit = unit
                membership.user = user  # both sides, as select_related sets them
            type(user).membership.related.set_cached_value(user, membership)  # None: "no membership", no query
        return client, failures


@cache
def _key_lookup() -> tuple[tuple[type[models.Model], ...], str, list[tuple[int, Col, list[Any]]]]:
    """The models of `ApiClient.by_key_checked`'s row, in order, its SQL ({failures} is the count's subquery) and
    the converters the ORM would apply to each column (e.g. SQLite's dates), by position."""
    user_model = get_user_model()
    tables = ((ApiClient, "c"), (user_model, "u"), (Membership, "m"), (OrgUnit, "o"))
    q = connection.ops.quote_name
    fields = [(alias, f) for model, alias in tables for f in model._meta.concrete_fields]
    columns = ", ".join(f"{alias}.{q(f.column)}" for alias, f in fields)
    converters = []
    for i, (alias, f) in enumerate(fields):
        column = Col(alias, f)
        functions = connection.ops.get_db_converters(column) + f.get_db_converters(connection)  # type: ignore[attr-defined]
        if functions:
            converters.append((i, column, functions))
    sql = (
        f"SELECT {{failures}}, {columns} FROM (SELECT 1 AS one) AS x "
        f"LEFT JOIN {q(ApiClient._meta.db_table)} c ON c.{q('key_prefix')} = %s AND c.{q('is_active')} "
        f"LEFT JOIN {q(user_model._meta.db_table)} u ON u.{q('id')} = c.{q('user_id')} "
        f"LEFT JOIN {q(Membership._meta.db_table)} m ON m.{q('user_id')} = u.{q('id')} "
        f"LEFT JOIN {q(OrgUnit._meta.db_table)} o ON o.{q('id')} = m.{q('unit_id')}"
    )
    return tuple(model for model, _ in tables), sql, converters


class Datatype(models.TextChoices):
    STRING = "string", _("Text (one line)")
    NUMBER = "number", _("Number")
    DATETIME = "datetime", _("Date and time")
    TEXT = "text", _("Text (several lines)")
    SINGLE = "singlevaluelist", _("One of a list")
    MULTI = "multivaluelist", _("Several of a list")


class ServiceAttribute(models.Model):
    """An extra question an Open311 client asks for one category (its service definition). Applies to every version
    of the category code."""

    category_code = models.CharField(_("category code"), max_length=32, db_index=True)
    code = models.SlugField(_("code"), max_length=50)
    datatype = models.CharField(_("data type"), max_length=20, choices=Datatype.choices)
    required = models.BooleanField(_("required"), default=False)
    variable = models.BooleanField(_("an input"), default=True, help_text=_("Off: information only."))
    description = models.CharField(_("question"), max_length=255)
    datatype_description = models.CharField(_("format hint"), max_length=255, blank=True)
    order = models.PositiveSmallIntegerField(_("order"))
    values = models.JSONField(
        _("values"), default=list, blank=True, help_text=_('For lists: [{"key": "food", "name": "餐饮"}, …]')
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("Open311 service attribute")
        verbose_name_plural = _("Open311 service attributes")
        ordering = ["category_code", "order"]
        constraints = [
            models.UniqueConstraint(fields=["category_code", "code"], name="attribute_code"),
            models.UniqueConstraint(fields=["category_code", "order"], name="attribute_order"),
            models.CheckConstraint(condition=Q(order__gte=1), name="attribute_order_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.category_code} {self.code}"

    def clean(self) -> None:
        is_list = self.datatype in {Datatype.SINGLE, Datatype.MULTI}
        values = self.values if isinstance(self.values, list) else None
        ok = values is not None and all(
            isinstance(v, dict) and str(v.get("key", "")).strip() and str(v.get("name", "")).strip() for v in values
        )
        if is_list and not (ok and values):
            raise ValidationError({"values": _("A list needs values, each with a key and a name.")})
        if not is_list and values:
            raise ValidationError({"values": _("Only list types have values.")})

    def keys(self) -> list[str]:
        return [str(v["key"]) for v in self.values or []]


class RequesterUpdate(models.Model):
    """A requester's comment an Open311 client posted (servicerequestupdates); its note is on the ticket's trail.
    The client's own update id may come only once per ticket."""

    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="+")
    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="+")
    update_id = models.CharField(_("client's update id"), max_length=64)
    event = models.ForeignKey(TicketEvent, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("received"))

    class Meta:
        verbose_name = _("requester update")
        verbose_name_plural = _("requester updates")
        constraints = [models.UniqueConstraint(fields=["ticket", "update_id"], name="one_update_id_per_ticket")]

    def __str__(self) -> str:
        return f"{self.ticket_id}/{self.update_id}"


class WebhookSubscription(models.Model):
    """A client's endpoint that receives ticket events (of the tickets its user may see), in order, each signed
    with the subscription's secret. `cursor` is the last event delivered; a failure waits with back-off."""

    client = models.ForeignKey(
        ApiClient, verbose_name=_("API client"), on_delete=models.PROTECT, related_name="subscriptions"
    )
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=100, default=secrets.token_hex)
    actions = models.CharField(
        _("only these actions"), max_length=500, blank=True, help_text=_("Comma-separated; empty: every event.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    cursor = models.BigIntegerField(
        _("last event delivered"), default=0, help_text=_("Delivery continues after this event id.")
    )
    failures = models.PositiveIntegerField(_("failures in a row"), default=0, editable=False)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True, editable=False)
    last_error = models.TextField(_("last error"), blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")

    def __str__(self) -> str:
        return f"{self.client} → {self.url}"

    def clean(self) -> None:
        if self.client_id and self.client.user_id is None:
            raise ValidationError(_("The client needs a user: webhooks carry what that user may see."))

    def action_list(self) -> list[str]:
        return [a.strip() for a in self.actions.split(",") if a.strip()]


class WebhookDelivery(AppendOnly):
    """One attempt to deliver one event to one subscription."""

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(TicketEvent, on_delete=models.PROTECT, related_name="+")
    attempt = models.PositiveIntegerField(_("attempt"))
    attempted_at = models.DateTimeField(_("attempted at"))
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    ok = models.BooleanField(_("delivered"))
    error = models.CharField(_("error"), max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-id"]
        indexes = [models.Index(fields=["subscription", "-id"], name="delivery_subscription")]

    def __str__(self) -> str:
        return f"{self.subscription_id} #{self.event_id} try {self.attempt}: {'ok' if self.ok else self.error}"


class CallKind(models.TextChoices):
    ANSWERED = "answered", _("Answered (screen pop)")
    MISSED = "missed", _("Missed (漏接)")


class CallBackOutcome(models.TextChoices):
    REACHED = "reached", _("Reached")
    NO_ANSWER = "no_answer", _("No answer")
    WRONG_NUMBER = "wrong_number", _("Wrong or dead number")


class IncomingCall(models.Model):
    """A call the telephony system reported: answered by an operator (the screen pop opens the intake console with
    the caller's number and history; the recording id goes onto the ticket), or missed (漏接), to be called back
    within JIESU_MISSED_CALL_CALLBACK_MINUTES. One row per (client, call id): a replayed report is refused."""

    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="+")
    call_id = models.CharField(_("call id"), max_length=64)
    kind = models.CharField(_("kind"), max_length=16, choices=CallKind.choices)
    caller_phone = models.CharField(_("caller's number"), max_length=20, blank=True)
    recording_id = models.CharField(_("call recording"), max_length=50, blank=True)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    rang_at = models.DateTimeField(_("rang at"))
    callback_due_at = models.DateTimeField(_("call back by"), null=True, blank=True)
    called_back_at = models.DateTimeField(_("called back at"), null=True, blank=True)
    callback_outcome = models.CharField(_("outcome"), max_length=16, choices=CallBackOutcome.choices, blank=True)
    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("incoming call")
        verbose_name_plural = _("incoming calls")
        ordering = ["-rang_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["client", "call_id"], name="one_call_per_client_id")]
        indexes = [
            models.Index(
                fields=["callback_due_at"], name="missed_open", condition=Q(kind="missed", called_back_at=None)
            )
        ]

    def __str__(self) -> str:
        return f"{self.call_id} {self.get_kind_display()}"


class CallEvent(AppendOnly):
    """The trail of a reported call: reported, called back (attempts included)."""

    call = models.ForeignKey(IncomingCall, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(_("action"), max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("call event")
        verbose_name_plural = _("call events")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.call_id} {self.action}"
