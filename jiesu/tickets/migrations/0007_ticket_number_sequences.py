"""Per-day ticket number sequences on PostgreSQL (see jiesu/tickets/numbering.py); nothing on SQLite."""

from typing import Any

from django.db import migrations

FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION jiesu_ticket_seq(day date) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    prefix text := to_char(day, 'YYYYMMDD');
    seq text := 'jiesu_ticket_no_' || to_char(day, 'YYYYMMDD');
    first bigint;
BEGIN
    IF to_regclass(seq) IS NULL THEN
        PERFORM pg_advisory_xact_lock(738120231);  -- one creator at a time; the others then find it made
        IF to_regclass(seq) IS NULL THEN
            SELECT coalesce(max(substr(number, 9)::bigint), 0) + 1 INTO first FROM tickets_ticket
             WHERE number >= prefix || '000000' AND number < prefix || '500000';
            EXECUTE format('CREATE SEQUENCE %I START %s', seq, first);
        END IF;
    END IF;
    RETURN nextval(seq);
END $$;
"""


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION_SQL, params=None)


def drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS jiesu_ticket_seq(date)")


class Migration(migrations.Migration):
    dependencies = [("tickets", "0006_load_history_action")]
    operations = [migrations.RunPython(create, drop, elidable=False)]
