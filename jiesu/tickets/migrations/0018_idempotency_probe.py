"""The intake's idempotency check in one round trip (PostgreSQL): wait for a concurrent intake with the same key, then
look for its ticket. A VOLATILE function takes a fresh snapshot for each statement in it, so the lookup sees what
the transaction that held the lock committed, as two separate statements did."""

from typing import Any

from django.db import migrations

FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION jiesu_idempotency_probe(p_key text) RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    found bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(p_key, 23));
    SELECT id INTO found FROM tickets_ticket WHERE idempotency_key = p_key;
    RETURN found;
END $$;
"""


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION_SQL, params=None)


def drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS jiesu_idempotency_probe(text)", params=None)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0017_ticket_tags")]
    operations = [migrations.RunPython(create, drop, elidable=False)]
