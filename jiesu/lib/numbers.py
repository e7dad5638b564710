"""Readable ticket numbers: YYYYMMDD + 6-digit daily sequence, e.g. 20261121000042.

The daily sequence is a counter row updated inside the intake transaction, so numbers are unique
and gap-free per day on SQLite and PostgreSQL alike.
"""

import datetime as dt


def format_ticket_number(day: dt.date, seq: int) -> str:
    return f"{day:%Y%m%d}{seq:06d}"
