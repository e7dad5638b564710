"""Deployment checks (`jiesu check --deploy`)."""

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def production_settings(app_configs: Any, **kwargs: Any) -> list[Any]:
    problems: list[Any] = []
    if settings.SECRET_KEY == settings.BUILTIN_SECRET_KEY:
        problems.append(Error("JIESU_SECRET_KEY is not set: the built-in key is refused.", id="jiesu.E001"))
    if "testserver" in settings.ALLOWED_HOSTS or "*" in settings.ALLOWED_HOSTS:
        problems.append(Warning("JIESU_ALLOWED_HOSTS should name only this site's host names.", id="jiesu.W001"))
    return problems


def refuse_builtin_secret() -> None:
    """Called by jiesu.wsgi: a served process with DEBUG off never runs with the built-in key."""
    from django.core.exceptions import ImproperlyConfigured

    if not settings.DEBUG and settings.SECRET_KEY == settings.BUILTIN_SECRET_KEY:
        raise ImproperlyConfigured("JIESU_SECRET_KEY is not set: the built-in key is refused when JIESU_DEBUG is off.")
