"""Only tickets/access.py decides which tickets a user sees and only the ticket services change tickets: pages never
query Ticket.objects."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {f"tickets/services/{p.name}" for p in (ROOT / "tickets" / "services").glob("*.py")}
ALLOWED = {"tickets/access.py", "tickets/models.py"} | SERVICES


def code_files() -> list[Path]:
    return [
        p
        for p in ROOT.rglob("*.py")
        if "tests" not in p.parts and "migrations" not in p.parts and p.parent.name not in {"demo", "testing"}
    ]


def test_no_ticket_query_outside_access_and_services() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in code_files()
        if str(p.relative_to(ROOT)) not in ALLOWED and re.search(r"\bTicket\.objects\b", p.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_status_fields_are_written_only_by_services() -> None:
    # an attribute assignment, or an update(...) call naming a status field
    pattern = re.compile(r"\.(dispatch_state|public_status)\s*=(?!=)|update\([^)]*\b(dispatch_state|public_status)\s*=")
    offenders = [
        str(p.relative_to(ROOT))
        for p in code_files()
        if str(p.relative_to(ROOT)) not in ALLOWED | {"tickets/workflow.py"}
        and pattern.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []
