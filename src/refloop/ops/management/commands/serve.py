"""`refloop serve`: the web server (gunicorn, threaded workers) for refloop.wsgi."""

import argparse
import os
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Command(BaseCommand):
    help = "Run the web server (gunicorn) after collecting static files."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on.")
        parser.add_argument("--port", type=int, default=8000, help="Port to listen on.")
        parser.add_argument(
            "--workers",
            type=int,
            default=2,
            help="Worker processes (default: %(default)s); each runs several threads.",
        )
        parser.add_argument("--threads", type=int, default=4, help="Threads per worker process.")
        parser.add_argument(
            "--access-log",
            default="-",
            help="Where the access log goes: a file, or - for standard output (the default).",
        )
        parser.add_argument("--log-level", default="info", help=argparse.SUPPRESS)
        parser.add_argument("--skip-collectstatic", action="store_true", help=argparse.SUPPRESS)

    def handle(
        self, *, host, port, workers, threads, access_log, log_level, skip_collectstatic, **options
    ):
        if not 0 < port < 65536:
            raise CommandError("--port must be between 1 and 65535.")
        if workers < 1 or threads < 1:
            raise CommandError("--workers and --threads must be at least 1.")
        if not skip_collectstatic:
            call_command("collectstatic", interactive=False, verbosity=0)
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "refloop.wsgi:application",
            "--bind",
            bind_address(host, port),
            "--workers",
            str(workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
            "--graceful-timeout",
            "10",
            "--log-level",
            log_level,
            # One line a request: method, path (no query string, tokens hidden), status,
            # bytes, duration and the client's address (refloop.core.access_log).
            "--access-logfile",
            access_log,
            "--logger-class",
            "refloop.core.access_log.AccessLogger",
        ]
        connections.close_all()
        sys.stdout.flush()
        sys.stderr.flush()
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "refloop.settings")
        # Replace this process, so a supervisor's signals reach gunicorn directly.
        os.execv(sys.executable, argv)  # noqa: S606 - our own interpreter and arguments
