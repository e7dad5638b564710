"""Rate limits for the anonymous portal and the API clients, kept in the database so that every server process
shares them."""

from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest

from jiesu.lib import clock

from .models import Throttle


def client_address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", "unknown"))[:45]


def allow(request: HttpRequest, action: str, per_hour: int) -> bool:
    """Count one `action` by this client address in the current hour; False once it is over `per_hour`."""
    return allow_key(f"{action}:{client_address(request)}", per_hour)


def allow_key(key: str, per_hour: int) -> bool:
    """Count one use of `key` (an address and action, or an API client) in the current hour; False once it is over
    `per_hour`."""
    hour = clock.now().replace(minute=0, second=0, microsecond=0)
    key = key[:100]
    with transaction.atomic():
        if not Throttle.objects.filter(key=key, hour=hour).update(count=F("count") + 1):
            try:
                with transaction.atomic():
                    Throttle.objects.create(key=key, hour=hour, count=1)
            except IntegrityError:
                Throttle.objects.filter(key=key, hour=hour).update(count=F("count") + 1)
        count = Throttle.objects.get(key=key, hour=hour).count
    return count <= per_hour
