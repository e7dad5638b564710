"""The user's own notifications (escalations, dispatches, requests to review, and whatever the registered sources
send: community tasks, care alerts …): newest first, paged, filtered to the unread ones by default, marked read one
by one, by page, or all at once. A sourced line's text and link come from its source (`outbox.describe`)."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from jiesu.lib import clock
from jiesu.lib.sorting import Sorts

from . import outbox
from .models import Notification

PAGE_SIZE = 30
SORTS = Sorts({"at": ("at",), "ticket": ("event__ticket__number",), "action": ("event__action",)})


def _mine(request: HttpRequest) -> QuerySet[Notification]:
    return Notification.objects.filter(user_id=int(request.user.pk or 0))  # login_required: always a real user


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    show = request.GET.get("show", "unread")
    if show not in {"unread", "all"}:
        show = "unread"
    mine = _mine(request)
    unread_total = mine.filter(read_at__isnull=True).count()
    if show == "unread":
        mine = mine.filter(read_at__isnull=True)
    rows = (
        mine.select_related("event__ticket", "event__actor_unit")
        .annotate(at=Coalesce(F("event__created_at"), F("source_at")))
        .order_by(F("at").desc(nulls_last=True), "-id")
    )
    rows, sorting = SORTS.apply(request.GET, rows)
    query = request.GET.copy()
    query.pop("page", None)
    query["show"] = show
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    outbox.describe(list(page))
    return render(
        request,
        "notify/list.html",
        {"page": page, "show": show, "unread_total": unread_total, "query": query.urlencode(), "sorting": sorting},
    )


@login_required
@require_POST
def mark_read(request: HttpRequest) -> HttpResponse:
    """Mark read: the ticked notifications (`ids`), or every unread one (`all=1`). Only the user's own."""
    unread = _mine(request).filter(read_at__isnull=True)
    if request.POST.get("all") != "1":
        ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
        unread = unread.filter(pk__in=ids)
    unread.update(read_at=clock.now())
    back = reverse("notifications")
    show = request.POST.get("show", "")
    return redirect(f"{back}?show={show}" if show in {"unread", "all"} else back)


@login_required
def open_notification(request: HttpRequest, pk: int) -> HttpResponse:
    """Open what a notification is about, and mark it read on the way."""
    n = _mine(request).filter(pk=pk).select_related("event").first()
    if n is None:
        return redirect("notifications")
    if n.read_at is None:
        Notification.objects.filter(pk=n.pk).update(read_at=clock.now())
    if n.event is None:
        outbox.describe([n])
        return redirect(getattr(n, "link", "") or reverse("notifications"))
    return redirect("ticket-detail", n.event.ticket_id)


def unread_count(request: HttpRequest) -> dict[str, int]:
    """Context processor: the badge in the header."""
    if not request.user.is_authenticated:
        return {}
    return {
        "unread_notifications": Notification.objects.filter(
            user_id=int(request.user.pk or 0), read_at__isnull=True
        ).count()
    }
