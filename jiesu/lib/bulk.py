"""Fast bulk inserts for loading history: ids reserved up front, complete rows (`Rows`: value lists in the table's
column order) written with COPY on PostgreSQL and with executemany elsewhere (SQLite)."""

import enum
import io
from collections.abc import Sequence
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` new primary keys for `model`. Call inside the transaction that inserts them (on SQLite the write lock
    is held from BEGIN IMMEDIATE, so MAX(id) cannot move meanwhile)."""
    if count <= 0:
        return []
    table, column = model._meta.db_table, model._meta.pk.column  # type: ignore[union-attr]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The sequence is looked up first: inside the series, pg_get_serial_sequence would run once per id
            # (six times slower for 10,000 ids).
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, column])
            sequence = cursor.fetchone()[0]
            cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, count])
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


class Rows:
    """Complete rows of `model` as value lists in its table's column order, each made from the fields' defaults and
    the values given by attname: `Rows(Ticket)(id=…, title=…)`. Cheaper than merging dicts, for many rows."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.names = [f.attname for f in model._meta.concrete_fields]
        self.at = {name: i for i, name in enumerate(self.names)}
        base = defaults(model)
        self.base = [base[name] for name in self.names]

    def __call__(self, **values: Any) -> list[Any]:
        row = self.base.copy()
        at = self.at
        for name, value in values.items():
            row[at[name]] = value
        return row


def insert_values(model: type[models.Model], values: list[list[Any]]) -> None:
    """Rows given as value lists in the column order (`Rows`): binary COPY on PostgreSQL, executemany elsewhere."""
    if not values:
        return
    if connection.vendor == "postgresql":
        copy_in(model, copy_data(model, encode_json(model, values)))
        return
    fields = list(model._meta.concrete_fields)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({marks})",
            [[f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True)] for row in values],
        )


def _identity(text: str) -> str:
    return text


def encode_json(model: type[models.Model], values: list[list[Any]]) -> list[list[Any]]:
    """`values` (value lists in the column order, changed in place and returned) with their JSON columns encoded for
    `copy_data`."""
    from psycopg.types.json import Jsonb

    json_at = [i for i, f in enumerate(model._meta.concrete_fields) if isinstance(f, models.JSONField)]
    encode = DjangoJSONEncoder(ensure_ascii=False).encode  # as the ORM writes a JSONField with this encoder
    for row in values:
        for i in json_at:
            if row[i] is not None:
                row[i] = Jsonb(encode(row[i]), dumps=_identity)
    return values


def copy_types(model: type[models.Model]) -> list[str]:
    """The column types psycopg's binary COPY needs for `model`'s table, in column order."""
    return [_pg_type(f.db_type(connection) or "text") for f in model._meta.concrete_fields]


def _copy_sql(model: type[models.Model]) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in model._meta.concrete_fields)
    return f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN (FORMAT BINARY)"


def copy_data(model: type[models.Model], values: Sequence[Sequence[Any]]) -> bytes:
    """`values` (value lists in the column order, JSON encoded by `encode_json`) as one complete binary COPY stream
    for `model`'s table (PostgreSQL), formatted by psycopg without a round trip to the server: all the Python work of
    a COPY, so that one thread can do it while another thread's `copy_in` waits on the database."""
    from psycopg.copy import Copy, FileWriter

    buffer = io.BytesIO()
    with connection.cursor() as cursor, Copy(cursor.cursor, binary=True, writer=FileWriter(buffer)) as copy:
        copy.set_types(copy_types(model))
        for row in values:
            copy.write_row(row)
    return buffer.getvalue()


def copy_in(model: type[models.Model], data: bytes) -> None:
    """One binary COPY of `data` (made by `copy_data`) into `model`'s table (PostgreSQL). The Python side only hands
    the bytes to libpq, which sends them without holding the GIL."""
    with connection.cursor() as cursor, cursor.cursor.copy(_copy_sql(model)) as copy:
        copy.write(data)
