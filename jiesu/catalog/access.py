"""Who reads the catalogues' knowledge base (智识库)."""

from jiesu.orgs.access import AnyUser, membership


def reads_knowledge(user: AnyUser) -> bool:
    """The knowledge base is for every member of staff (operators above all, during calls)."""
    return membership(user) is not None or bool(getattr(user, "is_superuser", False))
