"""The `refloop` command: Django's management commands under one name (demo, serve, worker, token…)."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "refloop.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["refloop", *sys.argv[1:]])


if __name__ == "__main__":
    main()
