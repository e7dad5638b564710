"""The day's first orders arriving together must not fail on creating the day's number sequence (PostgreSQL).

After the advisory lock, the check reads pg_class with a fresh snapshot (which also takes a lock on pg_class and so
refreshes this backend's catalogue caches), and a sequence made meanwhile by another transaction is taken as found.
"""

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
        IF NOT EXISTS (SELECT 1 FROM pg_class WHERE relname = seq AND relkind = 'S') THEN
            SELECT coalesce(max(substr(number, 9)::bigint), 0) + 1 INTO first FROM tickets_ticket
             WHERE number >= prefix || '000000' AND number < prefix || '500000';
            BEGIN
                EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %I START %s', seq, first);
            EXCEPTION WHEN duplicate_table OR unique_violation THEN
                NULL;  -- made by a concurrent first order of the day
            END;
        END IF;
    END IF;
    RETURN nextval(seq::regclass);
END $$;
"""


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0014_actions_after_merge")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop, elidable=False)]
