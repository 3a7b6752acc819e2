"""Input rules that don't need a referral: NPI check digits, ICD-10 codes, file content, settings."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from refloop import settings as refloop_settings
from refloop.core.errors import InvalidInput
from refloop.demo.factories import npi_from
from refloop.network.npi import is_valid_npi, npi_problem
from refloop.referrals.documents import sniff_content_type
from refloop.referrals.services import normalize_icd10


def test_npi_check_digit_follows_the_cms_example():
    assert is_valid_npi("1234567893")  # the worked example in the NPI check-digit spec
    assert "check digit" in npi_problem("1234567890")


@pytest.mark.parametrize("value", ["123456789", "12345678901", "12345678a3", ""])
def test_npi_must_be_ten_digits(value):
    assert npi_problem(value) == "An NPI is exactly 10 digits."


def test_generated_demo_npis_are_valid():
    assert all(is_valid_npi(npi_from(n)) for n in range(0, 5000, 7))


def test_icd10_codes_are_normalized_and_deduplicated():
    assert normalize_icd10(["m5416", "M54.16", " s83.511a ", "G56"]) == [
        "M54.16",
        "S83.511A",
        "G56",
    ]


@pytest.mark.parametrize("code", ["M5", "U07.1", "12.3", "M54.16789", "back pain"])
def test_malformed_icd10_codes_are_refused_naming_the_field(code):
    with pytest.raises(InvalidInput) as refused:
        normalize_icd10([code])
    assert refused.value.field == "icd10_codes"


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"%PDF-1.7\n", "application/pdf"),
        (b"II*\x00\x08\x00", "image/tiff"),
        (b"MM\x00*\x00\x00", "image/tiff"),
        (b"\x89PNG\r\n\x1a\n\x00", "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"GIF89a", None),
        (b"PK\x03\x04", None),  # a .docx, whatever its name says
        (b"Dear Dr. Smith", None),
    ],
)
def test_attachments_are_judged_by_content(head, expected):
    assert sniff_content_type(head) == expected


def test_bad_boolean_settings_fail_loudly(monkeypatch):
    monkeypatch.setenv("REFLOOP_DEBUG", "perhaps")
    with pytest.raises(ImproperlyConfigured, match="REFLOOP_DEBUG must be true or false"):
        refloop_settings.env_bool("DEBUG", False)


def test_secrets_can_come_from_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "key"
    secret.write_text("s3cret-from-file\n")
    monkeypatch.setenv("REFLOOP_SECRET_KEY_FILE", str(secret))
    assert refloop_settings.env("SECRET_KEY") == "s3cret-from-file"


def test_database_urls():
    pg = refloop_settings.database_from_url("postgres://refloop:p%40ss@db.internal:6432/refloop")
    assert (pg["ENGINE"], pg["NAME"], pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"]) == (
        "django.db.backends.postgresql",
        "refloop",
        "refloop",
        "p@ss",
        "db.internal",
        "6432",
    )
    lite = refloop_settings.database_from_url("sqlite:////var/lib/refloop/db.sqlite3")
    assert lite["NAME"] == "/var/lib/refloop/db.sqlite3"
    assert lite["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    with pytest.raises(ImproperlyConfigured, match="must start with postgres"):
        refloop_settings.database_from_url("mysql://x/y")
