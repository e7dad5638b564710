"""Model bases shared by the apps."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models


class AppendOnly(models.Model):
    """A record that is written once and never changed or deleted: the event trails (tickets, assessment) and the
    model-activation log. Corrections are new rows. (Bulk `QuerySet.update` is left to the one service allowed
    to do bookkeeping, e.g. the outbox's `notified_at`.)"""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValidationError(f"{type(self)._meta.verbose_name} is immutable")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValidationError(f"{type(self)._meta.verbose_name} is immutable")
