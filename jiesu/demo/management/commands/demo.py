import time
from typing import Any

from django.core.management.base import BaseCommand

from jiesu.demo.cadres import CADRE_LOGINS, seed_cadres
from jiesu.demo.calls import seed_call_ratings
from jiesu.demo.city import (
    PASSWORD,
    assess_past_months,
    demo_ticket_count,
    ensure_users,
    generate_history,
    generate_tickets,
    plant_hotspots,
)
from jiesu.demo.community import COMMUNITY_LOGINS, seed_communities
from jiesu.demo.integrations import ensure_clients, seed_attributes
from jiesu.demo.training import TRAINING_LOGINS, seed_training
from jiesu.governance.models import OPEN_HOTSPOT_STATES, Hotspot
from jiesu.intel.models import ModelKind, TextModelVersion
from jiesu.intel.services import train_category_model, train_router
from jiesu.lib.errors import InvalidInput
from jiesu.operations.reference_data import seed_reference
from jiesu.operations.worker import escalated, run_tasks, tick
from jiesu.orgs.models import OrgUnit


class Command(BaseCommand):
    help = "Seeds the demo city (reference data, users for every role, generated tickets). Idempotent."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--tickets", type=int, default=3000, help="tickets to generate on first run")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--history", type=int, default=24000, help="generated closed tickets over six months, for the assessment"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        seed_reference()
        users = ensure_users()
        if demo_ticket_count() == 0 and options["tickets"]:
            started = time.monotonic()
            self.stdout.write(f"generating {options['tickets']} tickets over the last six months…")
            made = generate_tickets(options["tickets"], seed=options["seed"])
            made += plant_hotspots(seed=options["seed"])
            self.stdout.write(f"made {made} tickets (hotspots planted) in {time.monotonic() - started:.0f} s")
            self.stdout.write(
                f"callers rated {seed_call_ratings(seed=options['seed'])} calls on the phone after hanging up"
            )
            if options["history"]:
                self.stdout.write(f"generating {options['history']} closed tickets of the last six months…")
                self.stdout.write(f"made {generate_history(options['history'], seed=options['seed'])} more")
        overdue = escalated(tick(batch=100000))
        run_tasks()  # what the tick enqueued (retraining, hotspots, forecasts), here rather than in `jiesu db_worker`
        self.stdout.write(f"{demo_ticket_count()} tickets in the demo city; {overdue} newly overdue escalated")
        # the tasks above may have trained them already (enough closed tickets); otherwise train them here
        for kind, train in ((ModelKind.CATEGORY, train_category_model), (ModelKind.ROUTER, train_router)):
            row = TextModelVersion.objects.filter(kind=kind, is_active=True).first()
            if row is None:
                try:
                    row = train()
                except InvalidInput as e:
                    self.stdout.write(f"{kind} model not trained: {e}")
                    continue
            self.stdout.write(f"{kind} model {row.version}: {row.labelled} labelled rows, {row.metrics}")
        hot = Hotspot.objects.filter(state__in=OPEN_HOTSPOT_STATES).order_by("-heat")[:5]
        self.stdout.write(
            "hotspots now: " + ("; ".join(f"{h.label} ({h.size}, heat {h.heat:.0f})" for h in hot) or "none")
        )
        for line in assess_past_months():
            self.stdout.write(line)
        seed_attributes()
        started = time.monotonic()
        seeded = seed_communities()
        self.stdout.write(
            f"communities: {seeded.communities} ({seeded.members} members and {seeded.tasks} tasks of history made "
            f"in {time.monotonic() - started:.0f} s)"
        )
        cadres = seed_cadres()
        self.stdout.write(f"cadres: {cadres.profiles} new profiles; " + "; ".join(cadres.lines))
        started = time.monotonic()  # after the cadres: the newcomer's profile is not one of their posts
        trained = seed_training(seed=options["seed"])
        self.stdout.write(
            f"training and care: {trained.cases} cases, {trained.courses} courses, {trained.history} tickets of "
            f"simulated history for measured transfer, {trained.alerts} care alerts "
            f"({time.monotonic() - started:.0f} s)"
        )
        self.stdout.write("\nDemo API clients (demo keys: never use them outside the demo)")
        for name, username, key in ensure_clients():
            self.stdout.write(f"  {name:<20} acts as {username:<12} key {key}")
        self.stdout.write(f"\nDemo users (password for all: {PASSWORD})")
        for du in users:
            unit = OrgUnit.objects.get(code=du.unit_code)
            self.stdout.write(f"  {du.username:<14} {du.name:<6} {du.role:<17} {unit.name}")
        for username, text in COMMUNITY_LOGINS:
            self.stdout.write(f"  {username:<14} {text}")
        for username, text in (*CADRE_LOGINS, *TRAINING_LOGINS):
            self.stdout.write(f"  {username:<14} {text}")
