"""Chinese first: the language is the one the user chose (the language cookie), else zh-Hans.

Unlike Django's LocaleMiddleware, the browser's Accept-Language is not consulted: a government PC or a phone
set to English still opens in Chinese, and the switch in the header changes it. Machine clients of the APIs
(`/api/`, `/open311/`) have no cookie and no switch, so there Accept-Language chooses, Chinese by default.
"""

from django.conf import settings
from django.http import HttpRequest
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        if not chosen and request.path.startswith(("/api/", "/open311/")):
            chosen = translation.get_language_from_request(request)
        supported = {code for code, _ in settings.LANGUAGES}
        translation.activate(chosen if chosen in supported else settings.LANGUAGE_CODE)
        request.LANGUAGE_CODE = translation.get_language()
