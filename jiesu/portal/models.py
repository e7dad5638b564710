"""The portal's abuse protection: a counter per client address, action and clock hour."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Throttle(models.Model):
    """How often one client did one thing in one hour. Old rows are only history; nothing reads them."""

    key = models.CharField(_("key"), max_length=100)
    hour = models.DateTimeField(_("hour"))
    count = models.PositiveIntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("portal throttle")
        verbose_name_plural = _("portal throttles")
        constraints = [models.UniqueConstraint(fields=["key", "hour"], name="throttle_key_hour")]

    def __str__(self) -> str:
        return f"{self.key} {self.hour:%Y-%m-%d %H}: {self.count}"
