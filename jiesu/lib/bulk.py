"""Fast bulk inserts for loading history: ids reserved up front, rows written with COPY on PostgreSQL and with
executemany elsewhere (SQLite). Rows are dicts keyed by field attname; every concrete field must be given."""

import enum
from collections.abc import Sequence
from typing import Any

from django.db import connection, models


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` new primary keys for `model`. Call inside the transaction that inserts them (on SQLite the write lock
    is held from BEGIN IMMEDIATE, so MAX(id) cannot move meanwhile)."""
    if count <= 0:
        return []
    table, column = model._meta.db_table, model._meta.pk.column  # type: ignore[union-attr]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, column, count]
            )
            return [row[0] for row in cursor.fetchall()]
        quote = connection.ops.quote_name
        cursor.execute(f"SELECT COALESCE(MAX({quote(column)}), 0) FROM {quote(table)}")
        first = int(cursor.fetchone()[0]) + 1
        return list(range(first, first + count))


def defaults(model: type[models.Model]) -> dict[str, Any]:
    """Every concrete field's default, by attname (choices as their plain values): the base rows are merged onto.
    Callers give plain values too: psycopg would write an Enum by its name."""
    found = {f.attname: f.get_default() for f in model._meta.concrete_fields}
    return {k: (v.value if isinstance(v, enum.Enum) else v) for k, v in found.items()}


def _pg_type(db_type: str) -> str:
    """The base type name psycopg's binary COPY needs: "varchar(20)" → "varchar", "serial"-like ids → "bigint"."""
    base = db_type.split("(")[0].strip().lower()
    return {"timestamp with time zone": "timestamptz", "bigserial": "bigint", "serial": "integer"}.get(base, base)


def insert_rows(model: type[models.Model], rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    fields = list(model._meta.concrete_fields)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            from psycopg.types.json import Jsonb

            names = [f.attname for f in fields]
            json_at = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
            types = [_pg_type(f.db_type(connection) or "text") for f in fields]
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(types)
                for row in rows:
                    values = [row[name] for name in names]
                    for i in json_at:
                        values[i] = Jsonb(values[i])
                    copy.write_row(values)
            return
        marks = ", ".join(["%s"] * len(fields))
        cursor.executemany(
            f"INSERT INTO {table} ({columns}) VALUES ({marks})",
            [[f.get_db_prep_save(row[f.attname], connection) for f in fields] for row in rows],
        )
