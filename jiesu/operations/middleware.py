"""The first middleware: the request id (X-Request-ID), the real client address behind proxies, request metrics
and one access log line per request."""

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from . import metrics
from .logs import request_id

log = logging.getLogger("jiesu.request")
GOOD_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def client_address(request: HttpRequest) -> str:
    """REMOTE_ADDR, or with JIESU_TRUSTED_PROXIES = N the N-th address from the right of X-Forwarded-For."""
    remote = str(request.META.get("REMOTE_ADDR", ""))
    hops = settings.TRUSTED_PROXIES
    if hops <= 0:
        return remote
    forwarded = [a.strip() for a in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",") if a.strip()]
    if len(forwarded) >= hops:
        return forwarded[-hops][:45]
    return forwarded[0][:45] if forwarded else remote


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = str(request.META.get("HTTP_X_REQUEST_ID", ""))
        rid = given if GOOD_ID.match(given) else uuid.uuid4().hex
        request.request_id = rid  # type: ignore[attr-defined]
        # Not reset after the response: Django logs a failed request after the middleware returned; the next
        # request on this thread sets its own.
        request_id.set(rid)
        request.META["REMOTE_ADDR"] = client_address(request)
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        response["X-Request-ID"] = rid
        route = metrics.route_of(request)
        metrics.observe_request(request.method or "", route, response.status_code, elapsed)
        if route not in metrics.QUIET_ROUTES:
            log.info(
                "%s %s %s",
                request.method,
                request.path[:200],
                response.status_code,
                extra={"status": response.status_code, "ms": round(elapsed * 1000, 1), "route": route},
            )
        return response
