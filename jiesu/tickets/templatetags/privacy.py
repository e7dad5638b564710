"""`{{ text|private:user }}`: free text (titles, order text, addresses, notes, replies) as the user may see it, with
personal data masked (jiesu.lib.masking.mask_text) for every role that may not see requesters."""

from typing import Any

from django import template

from jiesu.lib.masking import mask_for
from jiesu.orgs.access import may_see_requester

register = template.Library()


@register.filter
def private(text: Any, user: Any) -> str:
    return mask_for(str(text or ""), bool(user is not None and may_see_requester(user)))
