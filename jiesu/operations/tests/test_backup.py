"""Backup → restore onto a fresh machine (another database file and other folders, in another process): the same
row counts, the same published snapshot digests, the frozen facts files with their recorded sha256, the photos."""

import datetime as dt
import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection

from jiesu.assessment import services as assessment
from jiesu.assessment.models import RuleSet, Snapshot
from jiesu.lib.clock import SHANGHAI
from jiesu.testing.images import png
from jiesu.tickets import services
from jiesu.tickets.models import Attachment, Ticket

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.django_db(transaction=True)
def test_backup_then_restore_on_a_fresh_machine(tmp_path: Path, settings: Any, clock: Any) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the round trip runs on SQLite here; PostgreSQL uses pg_dump/pg_restore the same way")
    from jiesu.testing.world import build_world
    from jiesu.tickets.tests.helpers import ticket_in

    settings.MEDIA_ROOT = tmp_path / "media"
    world = build_world()
    clock.move_to(dt.datetime(2026, 10, 13, 9, 0, tzinfo=SHANGHAI))
    for _ in range(3):
        t = ticket_in(world, "replied")
        services.record_callback(world.agent, t.pk, contacted=True, resolution="solved", satisfaction="satisfied")
    photo = SimpleUploadedFile("p.png", png(), content_type="image/png")
    services.add_progress(world.jw_handler, ticket_in(world, "accepted").pk, "现场照片", photos=[photo])
    clock.move_to(dt.datetime(2026, 11, 3, 9, 0, tzinfo=SHANGHAI))
    RuleSet.objects.update(min_sample=1)
    published = assessment.publish(dt.date(2026, 10, 1), by=world.city_supervisor)
    (Path(settings.MODEL_DIR)).mkdir(parents=True, exist_ok=True)
    (Path(settings.MODEL_DIR) / "classifier.joblib").write_bytes(b"model bytes")

    call_command("backup", str(tmp_path / "backups"), stdout=io.StringIO())
    folder = next((tmp_path / "backups").iterdir())
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["counts"]["tickets.Ticket"] == Ticket.objects.count()
    assert manifest["published_snapshots"][0]["digest"] == published.digest

    fresh = tmp_path / "fresh"
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIESU_") and k != "DATABASE_URL"}
    env |= {
        "PYTHONPATH": str(ROOT),
        "JIESU_DATA_DIR": str(fresh),
        "JIESU_SQLITE_PATH": str(fresh / "jiesu.sqlite3"),
        "JIESU_MEDIA_ROOT": str(fresh / "media"),
        "JIESU_MODEL_DIR": str(fresh / "models"),
        "JIESU_COLUMNAR_DIR": str(fresh / "columnar"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "jiesu", "restore", str(folder)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "restored and checked" in done.stdout

    with sqlite3.connect(fresh / "jiesu.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM tickets_ticket").fetchone()[0] == Ticket.objects.count()
        digest, facts = db.execute(
            "SELECT digest, facts_file FROM assessment_snapshot WHERE published_at IS NOT NULL"
        ).fetchone()
    assert digest == published.digest and facts.startswith(str(fresh / "columnar"))
    stored = Attachment.objects.get().file.name
    assert (fresh / "media" / stored).read_bytes() == (Path(settings.MEDIA_ROOT) / stored).read_bytes()
    assert (fresh / "models" / "classifier.joblib").read_bytes() == b"model bytes"

    # a damaged backup is refused before anything is loaded
    (folder / "files.tar.gz").write_bytes(b"broken")
    again = subprocess.run(
        [sys.executable, "-m", "jiesu", "restore", "--force", str(folder)], env=env, capture_output=True, text=True
    )
    assert again.returncode != 0 and "damaged" in again.stderr
    assert Snapshot.objects.filter(published_at__isnull=False).count() == 1
