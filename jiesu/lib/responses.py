"""How a page answers a refused change: a missing (or hidden) object is a 404; anything else goes back where the
user came from with the message in their language, nothing having changed."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from .errors import NotFound, ServiceError


def refused(request: HttpRequest, error: ServiceError, back: str) -> HttpResponse:
    if isinstance(error, NotFound):
        raise Http404
    messages.error(request, str(error))
    return redirect(back)
