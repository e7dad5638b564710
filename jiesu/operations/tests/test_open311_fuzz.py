"""Property-based requests to every Open311 method (hypothesis): any parameter values, GET and POST, both formats.
No answer is a 5xx, and every error is the specification's error list. JIESU_OPEN311_FUZZ_EXAMPLES raises the count
for a long run (the count of requests and of 5xx answers is printed)."""

import json
import os
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jiesu.integrations.models import ApiClient
from jiesu.tickets.tests.helpers import ticket_in

pytestmark = pytest.mark.django_db
EXAMPLES = int(os.environ.get("JIESU_OPEN311_FUZZ_EXAMPLES", "60"))
PARAMS = [
    "service_code", "lat", "long", "address_string", "address_id", "description", "start_date", "end_date",
    "status", "service_request_id", "page", "page_size", "jurisdiction_id", "first_name", "last_name", "phone",
    "media_url", "update_id", "updated_datetime", "attribute[SHOP_TYPE]", "attribute[WHEN][]",
]  # fmt: skip
NASTY = st.sampled_from([
    "", "nan", "inf", "-inf", "1e400", "-91", "181", "39.9", "116.4", "0001-01-01T00:00:00+08:00",
    "9999-12-31T23:59:59-14:00", "2026-11-01T00:00:00+25:00", "2026-11-01T08:00:00 08:00", "open,closed", "\x00",
    "010101", "110105001", "ﾟ∀ﾟ" * 50, "' OR 1=1 --", "<script>", "9" * 40, "-1", "0",
])  # fmt: skip
VALUES = st.one_of(NASTY, st.text(max_size=60))
PATHS = [
    "discovery", "v2/services", "v2/services/010101", "v2/services/nope", "v2/requests", "v2/requests/{number}",
    "v2/request/{number}", "v2/tokens/{token}", "v2/servicerequestupdates", "v2/nothing",
]  # fmt: skip


def test_open311_never_answers_5xx_and_errors_are_the_spec_list(world: Any) -> None:
    ticket = ticket_in(world, "accepted")
    api = ApiClient(name="fuzz", user=None, rate_limit_per_hour=10**9)
    key = api.issue_key()
    api.save()
    counted = {"requests": 0, "5xx": 0}
    http = Client()

    @given(
        path=st.sampled_from(PATHS),
        fmt=st.sampled_from(["json", "xml", "html"]),
        method=st.sampled_from(["GET", "POST"]),
        params=st.dictionaries(st.sampled_from(PARAMS), VALUES, max_size=6),
        keyed=st.booleans(),
    )
    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    def check(path: str, fmt: str, method: str, params: dict[str, str], keyed: bool) -> None:
        url = "/open311/" + path.format(number=ticket.number, token="0" * 32) + "." + fmt
        data = {k: v.replace("\x00", "") for k, v in params.items()} | ({"api_key": key} if keyed else {})
        response = http.post(url, data) if method == "POST" else http.get(url, data)
        counted["requests"] += 1
        counted["5xx"] += response.status_code >= 500
        assert response.status_code < 500, (url, data, response.content[:300])
        if response.status_code >= 400 and fmt == "json":
            body = json.loads(response.content)
            assert isinstance(body, list) and all({"code", "description"} <= set(e) for e in body), body
        elif response.status_code >= 400:
            assert b"<errors>" in response.content, response.content[:200]

    check()
    print(f"open311 fuzz: {counted['requests']} requests, {counted['5xx']} server errors")
