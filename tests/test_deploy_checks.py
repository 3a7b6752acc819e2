"""`refloop check --deploy` with production settings comes out clean, and catches a demo's."""

import os
import secrets
import subprocess
import sys

from refloop.core.keys import generate_key

PRODUCTION = {
    "REFLOOP_SECRET_KEY": secrets.token_urlsafe(50),
    "REFLOOP_ALLOWED_HOSTS": "refloop.example.org",
    "REFLOOP_SECURE_COOKIES": "1",
    "REFLOOP_HSTS_SECONDS": "31536000",
    "REFLOOP_SSL_REDIRECT": "1",
    "REFLOOP_BEHIND_TLS_PROXY": "1",
    "REFLOOP_SMTP_HOST": "smtp.example.org",
    "REFLOOP_BASE_URL": "https://refloop.example.org",
    # Keys from outside the data folder (a copy of the folder must not carry its keys).
    "REFLOOP_ENCRYPTION_KEYS": generate_key(),
    "REFLOOP_BLIND_INDEX_KEY": generate_key(),
}


def check_deploy(tmp_path, **environment) -> subprocess.CompletedProcess:
    env = {
        # Not the suite's own switches (REFLOOP_*, and the async override the browser
        # tests set): a deployment has neither.
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith("REFLOOP_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
        },
        "REFLOOP_DATA_DIR": str(tmp_path),
        **environment,
    }
    return subprocess.run(  # noqa: S603 - our own interpreter and command
        [sys.executable, "-m", "refloop.cli", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy(tmp_path):
    result = check_deploy(tmp_path, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout + result.stderr


def test_check_deploy_refuses_demo_shortcuts(tmp_path):
    demo = {**PRODUCTION, "REFLOOP_SECURE_COOKIES": "0", "REFLOOP_MFA_ENFORCED": "false"}
    result = check_deploy(tmp_path, **demo)
    assert result.returncode != 0
    assert "SESSION_COOKIE_SECURE" in result.stderr or "security.W012" in result.stderr
    assert "refloop.mfa.W001" in result.stderr


def test_check_deploy_warns_of_keys_kept_in_the_data_folder(tmp_path):
    demo = {k: v for k, v in PRODUCTION.items() if k != "REFLOOP_ENCRYPTION_KEYS"}
    result = check_deploy(tmp_path, **demo)
    assert result.returncode != 0 and "refloop.keys.W001" in result.stderr


def test_check_deploy_warns_of_links_that_point_at_the_server_itself(tmp_path):
    demo = {k: v for k, v in PRODUCTION.items() if k != "REFLOOP_BASE_URL"}
    result = check_deploy(tmp_path, **demo)
    assert result.returncode != 0 and "refloop.links.W001" in result.stderr
