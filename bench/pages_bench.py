"""Benchmark of the workbench's list pages on the demo city (issue: every list page under 300 ms).

It builds the demo city in a throw-away database (N generated tickets over six months, replayed through the
services), then renders every role's list page with Django's test client, logged in as the demo user of that role.
Each page's p50 and max are printed beside a baseline measured in the same run: the login page, which renders the
same base template without touching a ticket. The 300 ms target is printed next to the numbers; it is never
asserted (machines are shared and noisy).

Usage: .venv/bin/python bench/pages_bench.py [--tickets 3000] [--repeat 20]   (DATABASE_URL selects PostgreSQL)
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiesu.settings")
os.environ.setdefault("JIESU_DEMO", "1")  # benchmarks use the demo city and its generators
if not os.environ.get("DATABASE_URL"):
    os.environ["JIESU_SQLITE_PATH"] = str(Path(tempfile.mkdtemp()) / "bench.sqlite3")

import django

django.setup()

from urllib.parse import urlencode  # noqa: E402

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

TARGET_MS = 300.0
PAGES = [
    ("operator", "/intake/"),
    ("operator", "/tickets/"),
    ("dispatcher", "/dispatch/"),
    ("dispatcher", "/dispatch/?tab=returns"),
    ("dispatcher", "/dispatch/?tab=merge"),
    ("jw_handler", "/inbox/?tab=sign"),
    ("jw_handler", "/inbox/?tab=in_hand"),
    ("jw_handler", "/inbox/?tab=overdue"),
    ("jw_leader", "/inbox/?tab=in_hand"),
    ("callback", "/callbacks/"),
    ("supervisor", "/supervision/"),
    ("supervisor", "/supervision/?scope=open&district=110105"),
    ("supervisor", "/supervision/overview/"),
    ("supervisor_cy", "/supervision/"),
    ("supervisor", "/tickets/?page=20"),
    # the intake console's side panel while the operator types: category, unit and place proposals, duplicates
    (
        "operator",
        "/intake/assist/?"
        + urlencode(
            {
                "title": "暖气不热",
                "content": "家里暖气片冰凉，室温只有十五度，老人孩子受不了",
                "address": "朝阳区建外街道光华路1号",
                "requester_phone": "13800001111",
                "appeal_type": "complaint",
            }
        ),
    ),
]


def timings(client: Client, url: str, repeat: int) -> list[float]:
    client.get(url)  # warm
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(url)
        out.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    start = time.perf_counter()
    call_command("demo", tickets=args.tickets, verbosity=0)
    print(
        f"database: {connection.vendor}; demo city with {args.tickets} tickets built in "
        f"{time.perf_counter() - start:.0f} s; {args.repeat} requests per page"
    )
    setup_test_environment()
    anonymous = Client()
    baseline = timings(anonymous, "/accounts/login/", args.repeat)
    base_p50 = statistics.median(baseline)
    print(f"{'page':<58} {'p50 ms':>8} {'max ms':>8} {'queries':>8} {'x login':>8}  target {TARGET_MS:.0f} ms")
    print(
        f"{'baseline: GET /accounts/login/ (anonymous)':<58} {base_p50:>8.1f} {max(baseline):>8.1f} {'':>8} {1:>8.2f}"
    )
    users = get_user_model().objects
    worst = 0.0
    for username, url in PAGES:
        client = Client()
        client.force_login(users.get(username=username))
        queries: list[str] = []

        def count(execute, sql, params, many, context, queries=queries):  # type: ignore[no-untyped-def]
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            client.get(url)
        ms = timings(client, url, args.repeat)
        p50 = statistics.median(ms)
        worst = max(worst, p50)
        flag = "ok" if p50 < TARGET_MS else "OVER"
        label = (username + " " + url)[:57]
        print(f"{label:<58} {p50:>8.1f} {max(ms):>8.1f} {len(queries):>8} {p50 / base_p50:>8.2f}  {flag}")
    print(f"slowest p50: {worst:.1f} ms (target {TARGET_MS:.0f} ms)")


if __name__ == "__main__":
    main()
