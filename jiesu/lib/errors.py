"""Errors the service layer raises. Each carries a message for the user, in the user's language."""

from django.utils.translation import gettext_lazy as _


class ServiceError(Exception):
    """A refused action. `message` is shown to the user; nothing was changed."""

    default_message = _("The action could not be carried out.")
    code = "error"

    def __init__(self, message: object = None, *, on: str | None = None, **params: object) -> None:
        self.message = message if message is not None else self.default_message
        self.on = on  # the input field at fault, when there is one (forms show the message next to it)
        self.params = params
        super().__init__(str(self))

    def __str__(self) -> str:
        text = str(self.message)
        return text % self.params if self.params else text


class InvalidInput(ServiceError):
    default_message = _("The input is not valid.")
    code = "invalid"


class IllegalTransition(ServiceError):
    default_message = _("This action is not allowed in the ticket's current state.")
    code = "illegal_transition"


class ConcurrentEdit(ServiceError):
    default_message = _("Someone else changed this ticket at the same time. Reload it and try again.")
    code = "conflict"


class NotFound(ServiceError):
    """Also raised for objects the user may not see: forbidden answers like missing."""

    default_message = _("The ticket does not exist or you may not see it.")
    code = "not_found"


class Forbidden(ServiceError):
    default_message = _("Your role or unit may not do this.")
    code = "forbidden"
