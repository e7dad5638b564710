from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntelConfig(AppConfig):
    name = "jiesu.intel"
    verbose_name = _("Intelligence")

    def ready(self) -> None:
        from jiesu.tickets import panels
        from jiesu.tickets.workflow import Action

        from .selectors import return_review, solution_library

        def library(user: Any, ticket: Any, actions: frozenset[str]) -> Any:
            """The solution library, for whoever may reply now."""
            return solution_library(user, ticket) if Action.REPLY in actions else None

        panels.register("library", library)

        def review(user: Any, ticket: Any, actions: frozenset[str]) -> Any:
            """The return review assist, for whoever may decide a pending return now."""
            return return_review(user, ticket) if Action.APPROVE_RETURN in actions else None

        panels.register("return_review", review)

        from . import tasks

        tasks.register()

        from jiesu.lib.jobs import Tick, register_tick_step

        from . import services

        def assistant(tick: Tick) -> int:
            return services.assist_queued(tick.batch, seconds=services.ASSIST_TICK_SECONDS)

        # orders from the API, Open311 and the portal: after intake, before the outbox notifies their events
        register_tick_step("assistant", assistant, order=40)
