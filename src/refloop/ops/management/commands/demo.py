"""`refloop demo`: the whole product on this machine, with a demo practice to explore.

Prepares the database (and the demo data on first start), then runs the web server
and the background worker as child processes until Ctrl-C or SIGTERM.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from refloop.demo.seed import FULL_SIZE, logins_path, read_logins, seed_demo
from refloop.practice.models import Organization

STOP_TIMEOUT = 15  # seconds a child gets to finish before it is killed
READY_TIMEOUT = 60


class Command(BaseCommand):
    help = (
        "Run the demo: database, demo practice, web server and background worker. "
        "Everything is kept in REFLOOP_DATA_DIR (default ./.refloop)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on.")
        parser.add_argument("--port", type=int, default=8000, help="Port to listen on.")
        # A smaller demo practice, for tests (also REFLOOP_DEMO_REFERRALS).
        parser.add_argument("--referrals", type=int, default=None, help=argparse.SUPPRESS)

    def say(self, text: str = "") -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def handle(self, *, host: str, port: int, referrals: int | None, **options):
        if not 0 < port < 65536:
            raise CommandError("--port must be between 1 and 65535.")
        referrals = referrals or int(os.environ.get("REFLOOP_DEMO_REFERRALS") or FULL_SIZE)
        if port_in_use(host, port):
            raise CommandError(
                f"Port {port} on {host} is already in use (another refloop demo?). "
                "Stop that program or pick another port with --port."
            )
        # Links the demo hands out (its texts, emails, invitations), made here while seeding
        # and in the children, point at the port it serves on.
        settings.BASE_URL = demo_base_url(host, port)
        self.say(f"Data folder: {settings.DATA_DIR}")
        call_command("migrate", interactive=False, verbosity=0)
        if not Organization.objects.exists():
            self.say(
                f"Creating the demo practice ({referrals} referrals over 18 months); "
                "this takes about a minute the first time…"
            )
            result = seed_demo(referrals=referrals, progress=self.show_progress)
            self.say(f"Demo practice ready ({result.seconds:.0f}s).")
        call_command("collectstatic", interactive=False, verbosity=0)
        connections.close_all()  # the children open their own
        self.run_children(host, port)

    def show_progress(self, done: int, total: int) -> None:
        """One line per tenth on a log, one rewritten line on a terminal."""
        percent = 100 * done // total
        if self.stdout.isatty():
            self.stdout.write(f"\r  {percent:3d}% of the history replayed", ending="")
            if done == total:
                self.stdout.write("")
            self.stdout.flush()
        elif percent // 10 != getattr(self, "_last_tenth", -1):
            self._last_tenth = percent // 10
            self.say(f"  {percent}% of the history replayed")

    def run_children(self, host: str, port: int) -> None:
        stop_requests: list[int] = []
        previous = {
            sig: signal.signal(sig, lambda signum, frame: stop_requests.append(signum))
            for sig in (signal.SIGINT, signal.SIGTERM)
        }
        env = {
            **os.environ,
            "REFLOOP_DATA_DIR": str(settings.DATA_DIR),
            "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "refloop.settings"),
            # The demo's users sign in with the printed passwords alone; a second factor is
            # there to try, not required (production requires it of admins).
            "REFLOOP_MFA_ENFORCED": mfa_enforced_in_demo(),
            "REFLOOP_BASE_URL": settings.BASE_URL,
        }
        refloop = [sys.executable, "-m", "refloop.cli"]
        children = {
            "web server": subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                [
                    *refloop,
                    "serve",
                    "--host",
                    host,
                    "--port",
                    str(port),
                    "--skip-collectstatic",
                    "--log-level",
                    "warning",
                    # The terminal is for the logins; requests go to a file.
                    "--access-log",
                    str(settings.DATA_DIR / "access.log"),
                ],
                env=env,
            ),
            "worker": subprocess.Popen([*refloop, "worker"], env=env),  # noqa: S603
        }
        try:
            self.wait_until_ready(host, port, children, stop_requests)
            if not stop_requests:
                self.announce(host, port)
            while not stop_requests:
                self.check_alive(children, stop_requests)
                time.sleep(0.2)
            self.say("Stopping the web server and the worker…")
        finally:
            stop(children)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.say("Stopped.")

    def wait_until_ready(self, host, port, children, stop_requests) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while not stop_requests and not port_in_use(host, port):
            self.check_alive(children, stop_requests)
            if time.monotonic() > deadline:
                raise CommandError(
                    f"The web server did not start listening on port {port} "
                    f"within {READY_TIMEOUT}s; see the messages above."
                )
            time.sleep(0.1)

    def check_alive(self, children: dict, stop_requests: list[int]) -> None:
        for name, child in children.items():
            code = child.poll()
            if code is None:
                continue
            time.sleep(0.5)  # a Ctrl-C reaches the children too; give ours time to arrive
            if stop_requests:
                return
            others = " and ".join(n for n in children if n != name)
            how = (
                f"was killed by {signal.Signals(-code).name}"
                if code < 0
                else f"exited with code {code}"
            )
            raise CommandError(
                f"The {name} stopped unexpectedly ({how}); stopping the {others} too. "
                "The messages above say why."
            )

    def announce(self, host: str, port: int) -> None:
        base = settings.BASE_URL
        self.say()
        self.say(f"refloop is running at {base}/")
        self.say(f"  API docs:  {base}/api/v1/docs")
        self.say(f"  Admin:     {base}/admin/")
        logins = read_logins()
        if logins:
            self.say()
            self.say(f"Demo logins (kept in {logins_path()}):")
            for line in logins:
                self.say(f"  {line}")
        else:
            self.say(
                f"No demo logins file at {logins_path()}. If the first start was "
                "interrupted, delete the data folder and run refloop demo again."
            )
        self.say()
        if mfa_enforced_in_demo() == "false":
            self.say(
                "Two-step sign-in (MFA) is optional in this demo, so the passwords above are "
                "enough; a real installation requires it of admins. To try it, sign in and "
                "open your name > Sign-in security. Passkeys need a secure address: use "
                f"http://localhost:{port}/ rather than an IP address."
            )
            self.say()
        self.say("Press Ctrl-C to stop.")


def mfa_enforced_in_demo() -> str:
    """MFA is optional in the demo unless REFLOOP_MFA_ENFORCED says otherwise."""
    return os.environ.get("REFLOOP_MFA_ENFORCED", "false")


def demo_base_url(host: str, port: int, environ: Mapping[str, str] = os.environ) -> str:
    """REFLOOP_BASE_URL when it is set; otherwise this machine's address on `port`.

    Listening on every address (0.0.0.0, ::) gives the loopback address: it is the one
    that surely works on this machine. Others reach the demo at an address only they
    know, so whoever shares it sets REFLOOP_BASE_URL to it.
    """
    if explicit := (environ.get("REFLOOP_BASE_URL") or "").strip():
        return explicit.rstrip("/")
    target = reachable(host)
    shown = f"[{target}]" if ":" in target else target
    return f"http://{shown}:{port}"


def reachable(host: str) -> str:
    """The address to reach a server listening on `host` from this machine."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)  # noqa: S104


def port_in_use(host: str, port: int) -> bool:
    target = reachable(host)
    family = socket.AF_INET6 if ":" in target else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((target, port)) == 0


def stop(children: dict[str, subprocess.Popen]) -> None:
    """SIGTERM to every child still running, then wait; kill what outlives the timeout."""
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
