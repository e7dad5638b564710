"""The header's links: each role's own pages first (a context processor)."""

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from jiesu.cadres.nav import links as cadre_links
from jiesu.orgs import access
from jiesu.orgs.models import COMMUNITY_KINDS, STREET_TOWNSHIP_KINDS, UNIT_ROLES, Role
from jiesu.tickets import access as tickets_access

LINKS: dict[str, list[tuple[str, object]]] = {
    Role.HOTLINE_OPERATOR: [
        ("intake-console", _("Intake console")),
        ("missed-calls", _("Missed calls")),
        ("call-ratings", _("My call ratings")),
        ("knowledge", _("Knowledge base")),
    ],
    Role.DISPATCHER: [
        ("dispatch-desk", _("Dispatch desk")),
        ("intake-console", _("Intake console")),
        ("missed-calls", _("Missed calls")),
        ("call-ratings", _("Call ratings")),
        ("knowledge", _("Knowledge base")),
    ],
    Role.CALLBACK_AGENT: [("callback-worklist", _("Callbacks"))],
    Role.UNIT_HANDLER: [
        ("unit-inbox", _("Inbox")),
        ("assessment-report", _("Assessment")),
        ("proposal-list", _("Proactive tasks")),
    ],
    Role.UNIT_LEADER: [
        ("unit-inbox", _("Inbox")),
        ("assessment-report", _("Assessment")),
        ("proposal-list", _("Proactive tasks")),
    ],
    Role.SUPERVISOR: [
        ("supervision", _("Supervision")),
        ("overview", _("Overview")),
        ("dashboard", _("City dashboard")),
        ("hotspot-list", _("Hotspots")),
        ("topic-list", _("Monthly topics")),
        ("proposal-list", _("Proactive tasks")),
        ("assessment-report", _("Assessment")),
    ],
    Role.ADMINISTRATOR: [
        ("assessment-report", _("Assessment")),
        ("dashboard", _("City dashboard")),
        ("topic-list", _("Monthly topics")),
        ("knowledge", _("Knowledge base")),
        ("assistant-settings", _("Assistant")),
    ],
}


def nav(request: HttpRequest) -> dict[str, object]:
    m = access.membership(request.user)
    if m is None:
        return {"nav_links": []}
    path = request.path
    links: list[tuple[str, object]] = [(reverse(name), label) for name, label in LINKS.get(m.role, [])]
    if m.role in UNIT_ROLES and (m.unit.kind in COMMUNITY_KINDS or m.unit.kind in STREET_TOWNSHIP_KINDS):
        links.insert(
            0 if m.unit.kind in COMMUNITY_KINDS else len(links), (reverse("community-home"), _("Community service"))
        )
    if m.role == Role.SUPERVISOR:
        links.append((reverse("community-home"), _("Community service")))
    if m.role in {Role.SUPERVISOR, Role.ADMINISTRATOR} and tickets_access.call_ratings_scope(request.user) == "all":
        links.append((reverse("call-ratings"), _("Call ratings")))
    if m.role == Role.UNIT_LEADER:
        links.append((reverse("work-unit-report"), _("Members' community service")))
    # issue 21: training (能力提升) and care (人文关怀) are for every member of staff
    links += [(reverse("training-home"), _("Training")), (reverse("care-home"), _("Care"))]
    links.append((reverse("ticket-list"), _("All tickets")))
    links.extend(cadre_links(request.user))
    matches = [url for url, _ in links if path.startswith(url)]
    active = max(matches, key=len) if matches else None  # the most specific link is the current one
    return {"nav_links": [(url, label, url == active) for url, label in links]}
