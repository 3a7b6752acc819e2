"""`refloop serve` keeps an HTTP access log that is safe to keep: no query strings, no
link tokens, nothing typed into a path, and the client's address behind a trusted proxy."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from refloop.core.logging import redact_path

CANARY = "Zqxcanary Vwpmarker"
TOKEN = "Tk9tYWdpY2xpbmt0b2tlbg"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, what: str, timeout: float = 120) -> None:
    # A deadline for a busy machine, not a measurement: the test asserts no duration.
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.1)


def fetch(url: str, **headers) -> int:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - loopback only
    opener = urllib.request.build_opener(NoRedirects)
    try:
        with opener.open(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture
def server(tmp_path):
    """`refloop serve` on a loopback port, behind a pretend proxy (127.0.0.1 is trusted)."""
    env = {
        **{k: v for k, v in os.environ.items() if k != "REFLOOP_DATABASE_URL"},
        "REFLOOP_DATA_DIR": str(tmp_path / "data"),
        "REFLOOP_TRUSTED_PROXIES": "127.0.0.1",
        "PYTHONUNBUFFERED": "1",
    }
    refloop = [sys.executable, "-m", "refloop.cli"]
    subprocess.run([*refloop, "migrate", "--verbosity", "0"], env=env, check=True)  # noqa: S603
    log = tmp_path / "access.log"
    # The port is chosen free, then handed to gunicorn: another process (a test running in
    # parallel) may take it in between. Then this gunicorn cannot bind and exits: try another.
    # Ready means gunicorn itself says it listens there, not merely that something answers.
    for attempt in range(5):
        port = free_port()
        messages = tmp_path / f"serve-{attempt}.log"
        with messages.open("w") as stderr:
            process = subprocess.Popen(  # noqa: S603
                [
                    *refloop,
                    "serve",
                    "--port",
                    str(port),
                    "--workers",
                    "1",
                    "--threads",
                    "2",
                    "--skip-collectstatic",
                    "--access-log",
                    str(log),
                ],
                env=env,
                stderr=stderr,
                start_new_session=True,
            )
        # serve execs gunicorn, whose master keeps the pid.
        listening = f"Listening at: http://127.0.0.1:{port} ({process.pid})"
        wait_for(
            lambda: listening in messages.read_text() or process.poll() is not None,  # noqa: B023
            "the server",
        )
        if process.poll() is None:
            break
        assert "Connection in use" in messages.read_text(), messages.read_text()
    else:
        pytest.fail("no free port for refloop serve in five tries")
    try:
        yield f"http://127.0.0.1:{port}", log
    finally:
        process.terminate()
        process.wait(timeout=60)


def test_the_access_log_keeps_no_query_string_token_or_typed_path(server):
    base, log = server
    quoted_canary = urllib.request.quote(CANARY)
    statuses = [
        fetch(f"{base}/p/{TOKEN}/?utm_source=sms&name={quoted_canary}"),
        fetch(f"{base}/referrals/{quoted_canary}/", **{"X-Forwarded-For": "203.0.113.7"}),
        fetch(f"{base}/api/v1/openapi.json?secret=s3cr3t"),
    ]
    wait_for(lambda: log.exists() and len(log.read_text().splitlines()) >= 3, "three log lines")
    lines = log.read_text().splitlines()

    text = "\n".join(lines)
    for secret in (TOKEN, "Zqxcanary", "Vwpmarker", "s3cr3t", "utm_source", "?"):
        assert secret not in text
    magic, not_found, openapi = lines
    assert statuses == [303, 404, 200]
    assert magic.startswith("127.0.0.1 ") and '"GET /p/[token]/" 303 ' in magic
    # Behind the trusted proxy the line names the client it forwarded for.
    assert not_found.startswith("203.0.113.7 ") and '"GET /referrals/[...]" 404 ' in not_found
    assert '"GET /api/v1/openapi.json" 200 ' in openapi
    # Bytes sent and the duration close each line.
    size, duration = openapi.rsplit(" ", 2)[1:]
    assert int(size) > 1000 and duration.endswith("ms") and duration[:-2].isdigit()


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/referrals/12/", "/referrals/12/"),
        ("/referrals/Zqx Canary/", "/referrals/[...]"),
        (f"/p/{TOKEN}/", "/p/[token]/"),
        ("/portal/invite/abc/", "/portal/invite/[token]/"),
        ("/password-reset/MQ/c5k-0123abcd/", "/password-reset/[token]/[token]/"),
        ("/api/v1/referrals/5/notes", "/api/v1/referrals/5/notes"),
        ("/api/v1/referrals/Zqx", "/api/v1/referrals/[token]"),
        ("/analytics/report/2026-01.pdf", "/analytics/report/[token].pdf"),
        ("/admin/core/user/5/change/", "/admin/core/user/5/change/"),
        ("/Zqx Canary", "/[...]"),
        ("/", "/"),
    ],
)
def test_a_logged_path_keeps_routes_and_ids_and_hides_what_was_typed(path, logged):
    assert redact_path(path) == logged
