"""gunicorn's configuration for jiesu (`scripts/serve` passes it with -c). Everything comes from the environment,
with the defaults declared in jiesu/settings.py: JIESU_WEB_BIND, JIESU_WEB_WORKERS, JIESU_WEB_THREADS,
JIESU_WEB_TIMEOUT, JIESU_WEB_MAX_REQUESTS."""

import os
import shutil
import tempfile
from typing import Any

wsgi_app = "jiesu.wsgi:application"
bind = os.environ.get("JIESU_WEB_BIND", "127.0.0.1:8000").split(",")
workers = int(os.environ.get("JIESU_WEB_WORKERS", "2"))
# Two threads per worker: one request's Python runs while another waits on the database. More threads add no
# throughput (Python runs one thread at a time per process) but stretch the tail: a thread whose query returned
# waits its turn behind the others. The load bench at 32 clients, 2 workers: p99 295 ms with 8 threads, 231 ms with
# 4, 202–232 ms with 2, for the same rate. Scale with processes (JIESU_WEB_WORKERS, about one per core).
threads = int(os.environ.get("JIESU_WEB_THREADS", "2"))
worker_class = "gthread"
timeout = int(os.environ.get("JIESU_WEB_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# A worker process is replaced after this many requests (bounds slow leaks). A new worker spends seconds of CPU
# loading Django and the assistant's models, so a low figure costs a busy server: at 5,000 the load bench's workers
# were replaced every 10–20 s, in the middle of its measurements.
max_requests = int(os.environ.get("JIESU_WEB_MAX_REQUESTS", "50000"))
max_requests_jitter = max_requests // 10
forwarded_allow_ips = "*"  # jiesu reads X-Forwarded-* itself, as JIESU_TRUSTED_PROXIES says
accesslog = None  # jiesu logs each request itself (JSON, with the request id)
errorlog = "-"
loglevel = os.environ.get("JIESU_LOG_LEVEL", "info").lower()
limit_request_line = 8190
proc_name = "jiesu-web"
control_socket_disable = True  # several servers may run on one machine (tests, bench); signals suffice

# Request metrics of all worker processes, summed by /metrics.
_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="jiesu-metrics-")
os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir


def on_starting(server: Any) -> None:
    shutil.rmtree(_metrics_dir, ignore_errors=True)
    os.makedirs(_metrics_dir, exist_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def post_worker_init(worker: Any) -> None:
    """Each new worker process (also one replaced after max_requests) loads the assistant's models before it takes
    requests: a first classification would otherwise wait seconds. A failure is logged; the worker serves anyway."""
    import logging

    from django.db import connections

    try:
        from jiesu.intel.selectors import warm

        warm()
    except Exception:
        logging.getLogger("jiesu.intel").exception("could not load the assistant's models at start")
    finally:
        connections.close_all()  # back to the pool; requests open their own
