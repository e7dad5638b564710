"""Prometheus metrics (prometheus_client).

Request counts and latencies are counted in each server process; under gunicorn the processes share them through
PROMETHEUS_MULTIPROC_DIR (set by jiesu/operations/gunicorn_conf.py). The state of the work (orders by state,
overdue, outbox and task lag, webhook failures, the worker's heartbeat) is read from the database at each scrape.
"""

import os
from collections.abc import Iterator
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

QUIET_ROUTES = {"healthz", "readyz", "metrics"}  # probes: counted, not logged

REQUESTS = Counter("jiesu_http_requests_total", "HTTP requests answered", ["method", "route", "status"])
LATENCY = Histogram(
    "jiesu_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["route"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def route_of(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return str(match.route or match.view_name or "unmatched")[:100]


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    method = method if method in {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"} else "OTHER"
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(route).observe(seconds)


class WorkCollector(Collector):
    """The work's state, from the database, at scrape time."""

    def collect(self) -> Iterator[Any]:
        from . import selectors

        state = selectors.work_state(timezone.now())
        orders = GaugeMetricFamily("jiesu_orders", "Orders by dispatch state", labels=["state"])
        for name, count in sorted(state["orders_by_state"].items()):
            orders.add_metric([name], count)
        yield orders
        yield GaugeMetricFamily("jiesu_orders_overdue", "Open orders past their deadline", value=state["overdue"])
        yield GaugeMetricFamily(
            "jiesu_outbox_lag_seconds", "Age of the oldest event not yet processed", value=state["outbox_lag"]
        )
        yield GaugeMetricFamily("jiesu_outbox_pending", "Events not yet processed", value=state["outbox_pending"])
        yield GaugeMetricFamily(
            "jiesu_tasks_lag_seconds", "Age of the oldest due background task not yet run", value=state["tasks_lag"]
        )
        yield CounterMetricFamily(
            "jiesu_webhook_failures", "Webhook delivery attempts that failed", value=state["webhook_failures"]
        )
        yield GaugeMetricFamily(
            "jiesu_webhook_subscriptions_failing",
            "Active webhook subscriptions whose last attempt failed",
            value=state["webhooks_failing"],
        )
        age = state["worker_age"]
        yield GaugeMetricFamily(
            "jiesu_worker_heartbeat_age_seconds",
            "Seconds since `jiesu worker` last beat (-1: never)",
            value=-1 if age is None else age,
        )


def exposition() -> bytes:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(REQUESTS)
        registry.register(LATENCY)
    registry.register(WorkCollector())
    return generate_latest(registry)
