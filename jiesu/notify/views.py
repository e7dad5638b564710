"""The user's own notifications (escalations, dispatches, requests to review)."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from jiesu.lib import clock

from .models import Notification
from .outbox import describers


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    user_id = int(request.user.pk or 0)  # login_required: always a real user
    mine = Notification.objects.filter(user_id=user_id).select_related(
        "event__ticket", "event__actor_unit", "community_event"
    )
    page = Paginator(mine.order_by("-id"), 50).get_page(request.GET.get("page"))
    for n in page:
        for field, describe in describers.items():
            source = getattr(n, field)
            if source is not None:
                n.text, n.link = describe(source)  # type: ignore[attr-defined]
    unread = [n.pk for n in page if n.read_at is None]
    response = render(request, "notify/list.html", {"page": page, "unread": set(unread)})
    Notification.objects.filter(pk__in=unread).update(read_at=clock.now())
    return response


def unread_count(request: HttpRequest) -> dict[str, int]:
    """Context processor: the badge in the header."""
    if not request.user.is_authenticated:
        return {}
    return {
        "unread_notifications": Notification.objects.filter(
            user_id=int(request.user.pk or 0), read_at__isnull=True
        ).count()
    }
