"""Login throttling (django-axes) for the login page and the API keys."""

from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.handlers.proxy import AxesProxyHandler
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
    """True when this client address has sent too many bad API keys within the cool-off period."""
    if not settings.AXES_ENABLED:
        return False
    return bool(AxesProxyHandler.get_failures(request, API_CREDENTIALS) >= settings.API_KEY_FAILURE_LIMIT)


def api_key_failed(request: HttpRequest) -> None:
    """Count a bad key. The API answers in its own format, so django-axes' lockout page is not used here."""
    if not settings.AXES_ENABLED:
        return
    user_login_failed.send(sender=__name__, credentials=API_CREDENTIALS, request=request)
    request.axes_locked_out = False  # type: ignore[attr-defined]
