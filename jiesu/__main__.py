"""The `jiesu` console command: Django's command line with jiesu's settings.

`jiesu migrate`, `jiesu runserver`, `jiesu worker`, `jiesu demo`, ... are all Django management commands.
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiesu.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["jiesu", *sys.argv[1:]])


if __name__ == "__main__":
    main()
