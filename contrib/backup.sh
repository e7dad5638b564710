#!/usr/bin/env bash
# Backs up jiesu (database, photos, models, columnar copies) into $JIESU_BACKUP_DIR/jiesu-backup-<time>/ and deletes
# backups older than $JIESU_BACKUP_KEEP_DAYS days. Restore with: jiesu restore <folder>   (see README).
# Needs pg_dump (Debian: postgresql-client) for PostgreSQL. Copy the folders off the machine as well.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${JIESU_BACKUP_DIR:-/var/backups/jiesu}"
KEEP="${JIESU_BACKUP_KEEP_DAYS:-14}"
PY="${JIESU_PYTHON:-$PWD/.venv/bin/python}"
mkdir -p "$DIR"
FOLDER="$("$PY" -m jiesu backup "$DIR")"
echo "backup: $FOLDER"
find "$DIR" -maxdepth 1 -type d -name 'jiesu-backup-*' -mtime "+$KEEP" -print -exec rm -rf {} +
