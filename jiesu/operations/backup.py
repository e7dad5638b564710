"""Backup and restore: the database, the photos (media), the text models and the assessment's columnar copies.

A backup is a folder: `database.dump` (PostgreSQL, pg_dump's custom format) or `database.sqlite3` (SQLite's online
backup), `files.tar.gz` (media/, models/, columnar/) and `manifest.json` (what it holds: row counts, the published
assessment snapshots with their digests and facts hashes, the sha256 of each file). A restore loads them into the
configured database and folders and then proves itself against the manifest: the same counts, the same published
digests, and frozen facts files whose sha256 is the one each snapshot recorded.
"""

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection

COUNTED = [
    "auth.User",
    "orgs.OrgUnit",
    "tickets.Ticket",
    "tickets.TicketEvent",
    "tickets.Attachment",
    "assessment.Snapshot",
    "assessment.UnitScore",
    "notify.Notification",
    "integrations.ApiClient",
]


def _folders() -> dict[str, Any]:
    """The folders a backup carries beside the database, by name."""
    return {"media": settings.MEDIA_ROOT, "models": settings.MODEL_DIR, "columnar": settings.COLUMNAR_DIR}


class BackupError(Exception):
    pass


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def counts() -> dict[str, int]:
    found: dict[str, int] = {}
    for label in COUNTED:
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        found[label] = model._default_manager.count()
    return found


def published_snapshots() -> list[dict[str, Any]]:
    from jiesu.assessment.models import Snapshot

    rows = Snapshot.objects.filter(published_at__isnull=False).order_by("month", "version")
    return [
        {
            "month": f"{s.month:%Y-%m}",
            "version": s.version,
            "digest": s.digest,
            "facts_sha256": s.facts_sha256,
            "facts_file": s.facts_file,
        }
        for s in rows
    ]


def _pg_env() -> tuple[list[str], dict[str, str]]:
    d = connection.settings_dict
    env = dict(os.environ)
    if d.get("PASSWORD"):
        env["PGPASSWORD"] = str(d["PASSWORD"])
    args = ["-h", str(d.get("HOST") or "127.0.0.1"), "-p", str(d.get("PORT") or 5432), "-U", str(d.get("USER"))]
    return args, env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]))
    if versions:
        return str(versions[-1])
    raise BackupError(f"{name} is not installed (Debian: postgresql-client)")


def backup(target: Path) -> Path:
    """Write a new backup folder under `target`; returns it."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = target / f"jiesu-backup-{stamp}"
    folder.mkdir(parents=True)
    manifest: dict[str, Any] = {
        "made_at": stamp,
        "vendor": connection.vendor,
        "counts": counts(),
        "published_snapshots": published_snapshots(),
        "folders": {name: str(folder) for name, folder in _folders().items()},
    }
    if connection.vendor == "postgresql":
        args, env = _pg_env()
        dump = folder / "database.dump"
        subprocess.run(
            [_tool("pg_dump"), *args, "-Fc", "--no-owner", "-f", str(dump), str(connection.settings_dict["NAME"])],
            env=env,
            check=True,
        )
    elif connection.vendor == "sqlite":
        connection.ensure_connection()
        with sqlite3.connect(folder / "database.sqlite3") as copy:
            connection.connection.backup(copy)  # type: ignore[union-attr]
        copy.close()
    else:
        raise BackupError(f"no backup for {connection.vendor}")
    with tarfile.open(folder / "files.tar.gz", "w:gz") as tar:
        for name, kept in _folders().items():
            source = Path(kept)
            if source.exists():
                tar.add(source, arcname=name)
    manifest["files"] = {p.name: _sha256(p) for p in sorted(folder.iterdir())}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    return folder


def restore(folder: Path, *, force: bool = False) -> dict[str, Any]:
    """Load a backup folder into the configured database and folders, then check it against the manifest.
    Returns the manifest; raises BackupError on any difference."""
    manifest: dict[str, Any] = json.loads((folder / "manifest.json").read_text())
    for name, sha in manifest["files"].items():
        if _sha256(folder / name) != sha:
            raise BackupError(f"{name} is damaged: its sha256 differs from the manifest")
    if manifest["vendor"] != connection.vendor:
        raise BackupError(f"the backup is of {manifest['vendor']}, the configured database is {connection.vendor}")
    if connection.vendor == "postgresql":
        args, env = _pg_env()
        connection.close()
        subprocess.run(
            [
                _tool("pg_restore"),
                *args,
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "-d",
                str(connection.settings_dict["NAME"]),
                str(folder / "database.dump"),
            ],
            env=env,
            check=True,
        )
    else:
        target = Path(str(connection.settings_dict["NAME"]))
        connection.close()
        if target.exists() and target.stat().st_size and not force:
            raise BackupError(f"{target} exists: restore onto a fresh database, or give --force")
        for suffix in ("-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        with sqlite3.connect(folder / "database.sqlite3") as source, sqlite3.connect(target) as copy:
            source.backup(copy)
    with tarfile.open(folder / "files.tar.gz") as tar:
        for name, kept in _folders().items():
            destination = Path(kept)
            members = [m for m in tar.getmembers() if m.name == name or m.name.startswith(name + "/")]
            for member in members:
                member.name = member.name[len(name) :].lstrip("/") or "."
            destination.mkdir(parents=True, exist_ok=True)
            tar.extractall(destination, members=members, filter="data")
    _relocate_facts(manifest)
    verify(manifest)
    return manifest


def _relocate_facts(manifest: dict[str, Any]) -> None:
    """Frozen facts files keep their names under this machine's JIESU_COLUMNAR_DIR; the snapshot rows learn the new
    place (their content is unchanged: the sha256 is checked in `verify`)."""
    from jiesu.assessment.models import Snapshot

    old = manifest["folders"]["columnar"].rstrip("/") + "/"
    new = str(settings.COLUMNAR_DIR).rstrip("/") + "/"
    if old == new:
        return
    for pk, path in Snapshot.objects.filter(facts_file__startswith=old).values_list("pk", "facts_file"):
        Snapshot.objects.filter(pk=pk).update(facts_file=new + path[len(old) :])


def verify(manifest: dict[str, Any]) -> None:
    problems = []
    now = counts()
    for label, count in manifest["counts"].items():
        if now.get(label) != count:
            problems.append(f"{label}: {now.get(label)} rows, the backup had {count}")
    restored = {(s["month"], s["version"]): s for s in published_snapshots()}
    for snap in manifest["published_snapshots"]:
        here = restored.get((snap["month"], snap["version"]))
        if here is None or here["digest"] != snap["digest"]:
            problems.append(f"snapshot {snap['month']} v{snap['version']}: digest differs or missing")
        elif not Path(here["facts_file"]).exists() or _sha256(Path(here["facts_file"])) != snap["facts_sha256"]:
            problems.append(f"snapshot {snap['month']} v{snap['version']}: its frozen facts file differs or is missing")
    if problems:
        raise BackupError("; ".join(problems))
