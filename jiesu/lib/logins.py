"""Login throttling (django-axes) for the login page and the API keys."""

import ipaddress
from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.backends import AxesStandaloneBackend
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest


class AxesBackend(AxesStandaloneBackend):  # type: ignore[misc]
    """django-axes' check, for logins that come with a request (the login page, the admin). `Client.login()` and
    other programmatic logins without a request go on to the next backend unchecked."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


# All bad API keys from one address count together, as failed logins of one pseudo user per address.
API_CREDENTIALS = {"username": "<api-key>"}


def api_key_locked(request: HttpRequest) -> bool:
    """True when this client address has sent too many bad API keys within the cool-off period (a query of its own;
    the API reads the count inside its key lookup instead, see `api_key_failures_sql`)."""
    if not settings.AXES_ENABLED:
        return False
    return api_key_over_limit(AxesProxyHandler.get_failures(request, API_CREDENTIALS))


def api_key_over_limit(failures: int) -> bool:
    return bool(settings.AXES_ENABLED and failures >= settings.API_KEY_FAILURE_LIMIT)


def api_key_failures_sql(request: HttpRequest) -> tuple[str, list[Any]]:
    """The same count as `api_key_locked` reads (django-axes' failures of this address's pseudo user within the
    cool-off), as a scalar SQL subquery and its parameters, so that the API key lookup reads it in its own
    statement instead of a second query per request. ("0", []) when the lockout is off."""
    if not settings.AXES_ENABLED:
        return "0", []
    AxesProxyHandler.update_request(request)  # the address and the attempt time, as django-axes records them
    table = AccessAttempt._meta.db_table
    ip = str(request.axes_ip_address or "")  # type: ignore[attr-defined]
    try:
        ipaddress.ip_address(ip)
        address, params = 'a."ip_address" = %s', [ip]
    except ValueError:  # no usable address (e.g. no REMOTE_ADDR): axes records it as NULL
        address, params = 'a."ip_address" IS NULL', []
    sql = (
        f'(SELECT COALESCE(SUM(a."failures_since_start"), 0) FROM "{table}" a '
        f'WHERE a."username" = %s AND {address} AND a."attempt_time" >= %s)'
    )
    return sql, [API_CREDENTIALS["username"], *params, get_cool_off_threshold(request)]


def api_key_failed(request: HttpRequest) -> None:
    """Count a bad key. The API answers in its own format, so django-axes' lockout page is not used here."""
    if not settings.AXES_ENABLED:
        return
    user_login_failed.send(sender=__name__, credentials=API_CREDENTIALS, request=request)
    request.axes_locked_out = False  # type: ignore[attr-defined]
