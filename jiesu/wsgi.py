import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiesu.settings")
application = get_wsgi_application()

from jiesu.operations.checks import refuse_builtin_secret  # noqa: E402  (needs the settings loaded)

refuse_builtin_secret()
