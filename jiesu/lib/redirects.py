"""Where to go back to after a form: a `next` parameter, but only to this site."""

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest, default: str) -> str:
    """The request's `next` (POST, else GET) when it stays on this site (a path or this host, same scheme), else
    `default`. `//evil.example`, `https://evil.example/` and `javascript:` never leave the site."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return default
