"""Readable ticket numbers without a hot row: YYYYMMDD + the day's sequence (`20261121000042`).

- PostgreSQL: one database sequence per day (`jiesu_ticket_no_YYYYMMDD`), created on the day's first order by the
  function `jiesu_ticket_seq(day)` (migration 0006) and read with `nextval`, which never waits for another
  transaction. Numbers are unique; a rolled-back intake leaves a gap (gap-tolerant, as numbering allows).
  A sequence made on a day that already has tickets (the day of the upgrade) starts after the highest of them.
- SQLite has one writer at a time (`BEGIN IMMEDIATE`), so the day's counter row costs nothing extra there: one
  upsert returning the new value, no savepoint.

Live numbers count from 1; loaded history takes 500001 up (`services.reserve_history_numbers`), so they never meet.
"""

import datetime as dt

from django.db import connection

from jiesu.lib.numbers import format_ticket_number

from .models import TicketNumberCounter


def next_number(day: dt.date) -> str:
    """The next ticket number of `day`, in one statement."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT jiesu_ticket_seq(%s)", [day])
        else:
            table = connection.ops.quote_name(TicketNumberCounter._meta.db_table)
            cursor.execute(
                f'INSERT INTO {table} ("day", "last") VALUES (%s, 1) ON CONFLICT ("day") '
                f'DO UPDATE SET "last" = {table}."last" + 1 RETURNING "last"',
                [connection.ops.adapt_datefield_value(day)],
            )
        row = cursor.fetchone()
    return format_ticket_number(day, int(row[0]))
