"""Probes and metrics for operators: /healthz (liveness), /readyz (readiness), /metrics (Prometheus); the 500 page
with the request id."""

import hmac
import ipaddress
import logging

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils import timezone
from django.views import defaults
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST

from jiesu.lib.routing import replication

from . import metrics, selectors
from .logs import request_id

log = logging.getLogger("jiesu.operations")


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """Alive: the process answers. Nothing else is checked (a database outage must not restart every worker)."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    """Ready to serve: the database answers, every migration is applied, `jiesu worker` beat recently, and the
    outbox is not lagging. 200 when all pass, 503 with the failing checks otherwise."""
    checks: dict[str, dict[str, object]] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = {"ok": True}
    except Exception as error:  # the one place where any failure is an answer, not a crash
        log.warning("readyz: database unavailable: %s", error)
        return JsonResponse(
            {"status": "fail", "checks": {"database": {"ok": False, "error": str(error)[:200]}}}, status=503
        )
    pending = selectors.unapplied_migrations()
    checks["migrations"] = {"ok": not pending, "unapplied": pending[:20]}
    now = timezone.now()
    age = selectors.worker_age(now)
    checks["worker"] = {
        "ok": age is not None and age <= settings.READY_WORKER_MAX_AGE,
        "heartbeat_age_seconds": None if age is None else round(age, 1),
        "max": settings.READY_WORKER_MAX_AGE,
    }
    lag, count = selectors.outbox_lag(now)
    checks["outbox"] = {
        "ok": lag <= settings.READY_OUTBOX_MAX_LAG,
        "lag_seconds": round(lag, 1),
        "pending": count,
        "max": settings.READY_OUTBOX_MAX_LAG,
    }
    standbys = replication()
    if standbys:  # a cluster (issue 23): shown, never a reason to take this node out of the balancer
        checks["replication"] = {"ok": True, "standbys": standbys}
    ok = all(c["ok"] for c in checks.values())
    return JsonResponse({"status": "ok" if ok else "fail", "checks": checks}, status=200 if ok else 503)


def _metrics_allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        given = str(request.META.get("HTTP_AUTHORIZATION", "")).removeprefix("Bearer ").strip()
        return hmac.compare_digest(given.encode(), token.encode())
    try:
        return ipaddress.ip_address(str(request.META.get("REMOTE_ADDR", ""))).is_loopback
    except ValueError:
        return False


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text format. With JIESU_METRICS_TOKEN set, only `Authorization: Bearer <token>`; without it, only
    loopback addresses. Anyone else gets 404, as for a page that does not exist."""
    if not _metrics_allowed(request):
        return HttpResponse("Not Found", status=404, content_type="text/plain")
    return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """400. A request refused before the session and the user are known (a bad Host header) cannot render the page
    inside the site's frame; it gets the plain page."""
    if hasattr(request, "user"):
        try:
            return defaults.bad_request(request, exception)
        except Exception:
            log.exception("the 400 page failed")
    body = loader.get_template("400_plain.html").render({"request_id": request_id.get()})
    return HttpResponse(body, status=400)


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page, with the request id to quote to the operators (it is in the logs beside the traceback)."""
    rid = getattr(request, "request_id", None) or request_id.get()
    try:
        body = loader.get_template("500.html").render({"request_id": rid})
    except Exception:  # the error page itself must never fail
        body = f"<h1>500</h1><p>request id: {rid}</p>"
    return HttpResponse(body, status=500)
