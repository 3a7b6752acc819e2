"""Settings for refloop, driven by environment variables (REFLOOP_*).

Safe defaults run the demo on an embedded SQLite database under REFLOOP_DATA_DIR;
production sets REFLOOP_DATABASE_URL, REFLOOP_SECRET_KEY(_FILE) and REFLOOP_ALLOWED_HOSTS.
"""

import os
import secrets
from ipaddress import ip_network
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

PACKAGE_DIR = Path(__file__).resolve().parent


def env(name: str, default: str | None = None) -> str | None:
    """A setting from REFLOOP_<NAME>, or from the file named by REFLOOP_<NAME>_FILE."""
    file_name = os.environ.get(f"REFLOOP_{name}_FILE")
    if file_name:
        return Path(file_name).read_text().strip()
    return os.environ.get(f"REFLOOP_{name}", default)


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None:
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"REFLOOP_{name} must be true or false, not {value!r}")


def env_int(name: str, default: int) -> int:
    value = env(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"REFLOOP_{name} must be a whole number, not {value!r}"
        ) from None


def env_networks(name: str) -> list:
    """REFLOOP_<NAME>: IP addresses or networks (CIDR) separated by commas; empty if unset."""
    networks = []
    for entry in (e.strip() for e in (env(name, "") or "").split(",")):
        if not entry:
            continue
        try:
            networks.append(ip_network(entry, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"REFLOOP_{name} takes IP addresses or networks separated by commas; "
                f"{entry!r} is neither"
            ) from None
    return networks


def database_from_url(url: str) -> dict:
    """Turn postgres://user:pass@host:port/name or sqlite:///path into a DATABASES entry."""
    parts = urlsplit(url)
    if parts.scheme in {"postgres", "postgresql"}:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            # JIT compiles each expensive query anew; for the analytics queries (0.1-1 s)
            # the compiling cost more than it saved: 29 s against 11 s for the dashboard
            # at a million referrals (bench/analytics.py).
            "OPTIONS": {"options": "-c jit=off"},
        }
    if parts.scheme == "sqlite":
        # sqlite:///relative/path and sqlite:////absolute/path, as SQLAlchemy spells them
        return sqlite_database(Path(unquote(parts.path[1:])).resolve())
    raise ImproperlyConfigured(
        f"REFLOOP_DATABASE_URL must start with postgres:// or sqlite:///, not {parts.scheme}://"
    )


SQLITE_ENGINE = "refloop.core.sqlite"  # Django's, with a process's writers queued in-process


def sqlite_database(path: Path) -> dict:
    return {
        "ENGINE": SQLITE_ENGINE,
        "NAME": str(path),
        "OPTIONS": {
            # IMMEDIATE takes the write lock at BEGIN, so two writers queue on
            # busy_timeout instead of failing when a reader upgrades to a writer.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA foreign_keys=ON;",
        },
        "TEST": {"NAME": str(path.with_name("test-" + path.name))},
    }


DATA_DIR = Path(env("DATA_DIR", "./.refloop")).resolve()
DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)


def created_once(path: Path, content) -> str:
    """The text of `path`, which the first process to get there writes as `content()`.

    The file appears whole (written aside, then linked into place; a link never replaces a
    file): two processes starting on a fresh data folder at once (the test suite's parallel
    workers, say) neither read it half-written nor each keep a key of their own.
    """
    if not path.exists():
        aside = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(descriptor, "w") as file:
                file.write(content())
            os.link(aside, path)
        except FileExistsError:
            pass  # another process was first: use its key
        finally:
            aside.unlink(missing_ok=True)
    return path.read_text()


def demo_secret_key() -> str:
    """A per-installation key kept in the data folder, so a laptop demo needs no setup."""
    return created_once(DATA_DIR / "secret_key", lambda: secrets.token_urlsafe(50)).strip()


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env("SECRET_KEY") or demo_secret_key()
ALLOWED_HOSTS = [h.strip() for h in (env("ALLOWED_HOSTS", "127.0.0.1,localhost") or "").split(",")]
# Reverse proxies whose X-Forwarded-For is believed (refloop.core.addresses); with none,
# the connecting peer is the client.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")
# A refused form gets a page saying what to do (reload, allow cookies), in the shell's look.
CSRF_FAILURE_VIEW = "refloop.web.edges.csrf_failure"
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in (env("CSRF_TRUSTED_ORIGINS", "") or "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "refloop.core.admin_site.SupportAdminConfig",  # django.contrib.admin, for support staff
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",  # the form renderer finds the built-in widget templates here
    "django_tasks_db",
    "ninja",  # serves the API docs' assets from the package, not from a CDN
    # Second factors: authenticator apps (TOTP), recovery codes (static), passkeys (WebAuthn).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "refloop.core",
    "refloop.practice",
    "refloop.network",
    "refloop.patients",
    "refloop.referrals",
    "refloop.web",
    "refloop.workspace",
    "refloop.intake",
    "refloop.portal",
    "refloop.public",
    "refloop.messaging",
    "refloop.analytics",
    "refloop.history",
    "refloop.outreach",
    "refloop.advocacy",
    "refloop.ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Every answer a view builds is no-store unless the view says otherwise (static files
    # are served above it and stay cacheable).
    "refloop.core.no_store.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Text holding a NUL character is refused before any view (PostgreSQL cannot hold it).
    "refloop.web.edges.RefuseNulMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "refloop.core.sessions.AutomaticLogoffMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "refloop.core.middleware.RequestContextMiddleware",
    "refloop.workspace.mfa.gate.MfaGateMiddleware",
    "refloop.core.admin_audit.AdminReadAuditMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "refloop.workspace.middleware.DomainErrorPageMiddleware",
]

ROOT_URLCONF = "refloop.urls"
WSGI_APPLICATION = "refloop.wsgi.application"
AUTH_USER_MODEL = "core.User"
FORM_RENDERER = "refloop.web.forms.FormRenderer"
LOGIN_URL = "login"
# Every sign-in passes the throttle's gate first (refloop.core.throttle), which counts
# failures in the audit log over the window: a username's from one address, a
# username's from everywhere, and an address's of any kind (sign-in, reset, API token).
AUTHENTICATION_BACKENDS = [
    "refloop.core.throttle.GateBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_FAILURE_WINDOW_MINUTES = env_int("LOGIN_FAILURE_WINDOW_MINUTES", 15)
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10)
LOGIN_USERNAME_FAILURE_LIMIT = env_int("LOGIN_USERNAME_FAILURE_LIMIT", 50)
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 30)
# The audit log's hash chain (refloop.core.audit_chain): the HMAC key (keep it out of
# the database and its backups; without it the chain is derived from SECRET_KEY), and
# how many chains each day has, so concurrent writers rarely wait on one another.
AUDIT_KEY = env("AUDIT_KEY", "") or ""
AUDIT_CHAIN_SHARDS = env_int("AUDIT_CHAIN_SHARDS", 8)
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Multi-factor authentication (refloop.workspace.mfa). Admins always need a second factor;
# an admin picks the other roles that do in the back office (Organization). A user with a
# second factor always uses it. MFA_ENFORCED=false leaves enrolment optional for everyone:
# the demo only (`refloop demo` sets it; `check --deploy` warns).
MFA_ENFORCED = env_bool("MFA_ENFORCED", True)
# How long a fresh password or second factor allows security changes (MFA devices,
# recovery codes, user roles) before it is asked for again.
REAUTH_MINUTES = env_int("REAUTH_MINUTES", 5)
OTP_TOTP_ISSUER = env("MFA_ISSUER", "refloop")
# The back office never shows a user's TOTP key or recovery codes, not even to an admin.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Passkeys are a second factor after the password, never a way in by themselves, so every
# sign-in goes through the one sign-in page (and its throttle).
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
OTP_WEBAUTHN_HELPER_CLASS = "refloop.workspace.mfa.webauthn.RefloopWebAuthnHelper"
OTP_WEBAUTHN_RP_ID_CALLABLE = "refloop.workspace.mfa.webauthn.relying_party_id"
OTP_WEBAUTHN_RP_NAME_CALLABLE = "refloop.workspace.mfa.webauthn.relying_party_name"
# The relying party is the host the browser asked for (ALLOWED_HOSTS vets it), unless set:
# a passkey is bound to it, so set REFLOOP_WEBAUTHN_RP_ID when the site has several names.
WEBAUTHN_RP_ID = env("WEBAUTHN_RP_ID", "") or ""
OTP_WEBAUTHN_ALLOWED_ORIGINS = [
    o.strip() for o in (env("WEBAUTHN_ORIGINS", "") or "").split(",") if o.strip()
]
# Without a list, the allowed origin is the request's own (scheme and a host ALLOWED_HOSTS
# accepts), which the library's check cannot see.
SILENCED_SYSTEM_CHECKS = [] if OTP_WEBAUTHN_ALLOWED_ORIGINS else ["otp_webauthn.E030"]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "refloop.workspace.shell.shell_context",
                "django.template.context_processors.csp",
            ],
        },
    },
]

# Content Security Policy, and no caching of what a view answers.
# Every page may run scripts, and load styles, fonts and images, only from refloop's own
# static files; an inline <script> or <style> runs only with the request's nonce
# ({{ csp_nonce }}, put in the header only when a template used it). Style attributes
# stay allowed (style-src-attr): ECharts writes them into its tooltips, and a style
# attribute cannot run code. Views that need another policy set it themselves (stored
# documents: "sandbox"; the embeddable public form: frame-ancestors from EMBED_ORIGINS).
# NoStoreMiddleware sits after WhiteNoise, so static files stay cacheable and every answer
# a view builds (pages, fragments, API, downloads) says Cache-Control: no-store unless the
# view chose its own (the practice's logo).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "style-src-attr": [CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    # The visit log's service worker (refloop.outreach.log_views.worker).
    "worker-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

_database_url = env("DATABASE_URL")
DATABASES = {
    "default": database_from_url(_database_url)
    if _database_url
    else sqlite_database(DATA_DIR / "refloop.sqlite3")
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# PostgreSQL: the role that owns the tables, when the app runs as another one
# (refloop.core.db_roles). `refloop migrate` and `flush` connect with its credentials,
# then grant the runtime role (REFLOOP_DATABASE_URL's user) what it may do.
_owner_url = env("MIGRATE_DATABASE_URL")
DATABASE_OWNER = database_from_url(_owner_url) if _owner_url else None

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# Stored times are UTC; the practice's own time zone (Organization.time_zone)
# is used for display and for every period boundary.
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Backups (refloop.core.backup): the archive's AES-256-GCM key, 32 bytes in base64.
# Keep it away from the data folder and the backups themselves.
BACKUP_KEY = env("BACKUP_KEY")

# Encryption at rest (refloop.core.encryption, refloop.core.storage). Patient demographics,
# clinical free text and stored documents are encrypted with AES-256-GCM.
# REFLOOP_ENCRYPTION_KEYS (or _FILE): keys separated by commas or line breaks, the first
# encrypts, all decrypt (`refloop keys generate` prints one; `refloop keys rotate`
# re-encrypts everything under the first). REFLOOP_BLIND_INDEX_KEY (or _FILE): the HMAC
# key of the equality lookups on encrypted values (patient name and birth date); it does
# not rotate with the others. The demo writes both into the data folder, mode 0600;
# production keeps them outside it (a backup of the data folder must not carry its keys).
from refloop.core.keys import generate_key, parse_keys  # noqa: E402


def demo_key_file(name: str) -> str:
    return created_once(DATA_DIR / name, lambda: generate_key() + "\n")


ENCRYPTION_KEYS = parse_keys(
    env("ENCRYPTION_KEYS") or demo_key_file("encryption_keys"),
    setting="REFLOOP_ENCRYPTION_KEYS",
)
BLIND_INDEX_KEY = (env("BLIND_INDEX_KEY") or demo_key_file("blind_index_key")).strip()


def key_in_data_dir(name: str) -> bool:
    """Whether REFLOOP_<name> comes from the data folder (the demo's key files, or a
    _FILE under it): `check --deploy` warns, since a copy of the folder then opens itself."""
    if os.environ.get(f"REFLOOP_{name}"):
        return False
    file_name = os.environ.get(f"REFLOOP_{name}_FILE")
    return not file_name or Path(file_name).resolve().is_relative_to(DATA_DIR)


KEYS_IN_DATA_DIR = [
    f"REFLOOP_{name}" for name in ("ENCRYPTION_KEYS", "BLIND_INDEX_KEY") if key_in_data_dir(name)
]
ENCRYPTION_ROTATE_BATCH = env_int("ENCRYPTION_ROTATE_BATCH", 500)
STORAGES["documents"] = {"BACKEND": "refloop.core.storage.EncryptedFileSystemStorage"}
# Uploaded documents and their folders: readable by the service's own user only.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
MEDIA_ROOT.mkdir(mode=0o700, exist_ok=True)
if DATABASES["default"]["ENGINE"] == SQLITE_ENGINE:
    # SQLite gives its -wal and -shm files the database file's mode.
    Path(DATABASES["default"]["NAME"]).touch(mode=0o600, exist_ok=True)

# Attachments: the API checks the size itself and answers 413; Django's own
# limit sits above it so the check is reached with a clear message.
ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Every uploaded document is opened with its real decoder (refloop.core.uploads): an
# image may hold at most this many pixels (a legal-size page scanned at 600 dpi is 43
# million), a PDF or multi-page TIFF at most this many pages.
UPLOAD_MAX_PIXELS = env_int("UPLOAD_MAX_PIXELS", 50_000_000)
UPLOAD_MAX_PAGES = env_int("UPLOAD_MAX_PAGES", 200)


def clamd_address(value: str) -> str:
    """A ClamAV daemon's socket: an absolute unix socket path, or host:port for TCP."""
    host, _, port = value.rpartition(":")
    if value and not value.startswith("/") and not (host and port.isdigit()):
        raise ImproperlyConfigured(
            f"REFLOOP_CLAMD_SOCKET must be a unix socket path (/run/clamav/clamd.ctl) or "
            f"host:port (127.0.0.1:3310), not {value!r}"
        )
    return value


# With a ClamAV daemon named here, every upload is scanned before it is stored, and an
# upload is refused (never stored unscanned) while the daemon does not answer. Without
# one, documents are stored and shown as "not scanned".
CLAMD_SOCKET = clamd_address(env("CLAMD_SOCKET", "") or "")
CLAMD_TIMEOUT_SECONDS = env_int("CLAMD_TIMEOUT_SECONDS", 30)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_SECONDS", 8 * 3600)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG and bool(env("SECRET_KEY")))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", True)
SECURE_SSL_REDIRECT = env_bool("SSL_REDIRECT", False)
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
ADMINS: list[tuple[str, str]] = []  # error mails would carry request data: never send them

# Logs go to stderr. Exception messages may quote stored values (a database
# error names the duplicate key), so the redaction filter drops them and keeps
# the exception type and the traceback's code locations.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact": {"()": "refloop.core.logging.RedactExceptionMessages"},
        "link_tokens": {"()": "refloop.core.logging.RedactLinkTokens"},
        "paths": {"()": "refloop.core.logging.RedactPaths"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact", "link_tokens"],
        },
    },
    "root": {"handlers": ["stderr"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Request paths may carry anything typed into a URL, a patient's name included.
        # (The handler hides link tokens in every other line; redact_path does it here.)
        "django.server": {"level": "WARNING", "filters": ["paths"]},
        "django.request": {"filters": ["paths"]},
        "django.security.csrf": {"filters": ["paths"]},
        # fpdf2's font subsetting logs every glyph table at INFO.
        "fontTools": {"level": "WARNING"},
        # IMAPClient logs the IMAP conversation at DEBUG: fetched mails, patient data.
        "imapclient": {"level": "WARNING"},
    },
}

# Email (portal invitations, "you have a new message" notices). With no SMTP host the
# messages are written as files under the data folder, so the demo sends nothing.
if env("SMTP_HOST"):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": env("SMTP_HOST"),
                "port": env_int("SMTP_PORT", 587),
                "username": env("SMTP_USER", ""),
                "password": env("SMTP_PASSWORD", ""),
                "use_tls": env_bool("SMTP_STARTTLS", True),
                "timeout": 20,
            },
        }
    }
else:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(DATA_DIR / "outbox")},
        }
    }
DEFAULT_FROM_EMAIL = env("FROM_EMAIL", "refloop@localhost")
# How long a portal invitation link stays good.
PORTAL_INVITE_DAYS = env_int("PORTAL_INVITE_DAYS", 7)

# Document intake: how often the worker looks for packets a crash left unread, and how
# long a packet may sit queued or half-read before it is queued again.
INTAKE_SWEEP_SECONDS = env_int("INTAKE_SWEEP_SECONDS", 300)
INTAKE_STALE_MINUTES = env_int("INTAKE_STALE_MINUTES", 15)
# Faxes by email (`refloop intake mail`, refloop.intake.mailbox): an IMAP mailbox read over
# TLS, either IMAPS (SECURITY=tls, port 993) or STARTTLS (SECURITY=starttls, port 143); never
# in the clear. The password may come from a file (REFLOOP_INTAKE_MAIL_PASSWORD_FILE); CA_FILE
# names the authority that signed the server's certificate when it is not a public one.
# A mail larger than MAX_BYTES is not fetched: it is recorded and moved to the problem folder.
INTAKE_MAIL_HOST = env("INTAKE_MAIL_HOST", "") or ""
INTAKE_MAIL_SECURITY = (env("INTAKE_MAIL_SECURITY", "tls") or "").lower()
if INTAKE_MAIL_SECURITY not in {"tls", "starttls"}:
    raise ImproperlyConfigured(
        f"REFLOOP_INTAKE_MAIL_SECURITY must be tls (IMAPS) or starttls, not {INTAKE_MAIL_SECURITY!r}"
    )
INTAKE_MAIL_PORT = env_int("INTAKE_MAIL_PORT", 993 if INTAKE_MAIL_SECURITY == "tls" else 143)
INTAKE_MAIL_USER = env("INTAKE_MAIL_USER", "") or ""
INTAKE_MAIL_PASSWORD = env("INTAKE_MAIL_PASSWORD", "") or ""
INTAKE_MAIL_CA_FILE = env("INTAKE_MAIL_CA_FILE", "") or ""
INTAKE_MAIL_FOLDER = env("INTAKE_MAIL_FOLDER", "INBOX") or "INBOX"
INTAKE_MAIL_PROCESSED_FOLDER = env("INTAKE_MAIL_PROCESSED_FOLDER", "refloop-processed") or ""
INTAKE_MAIL_PROBLEM_FOLDER = env("INTAKE_MAIL_PROBLEM_FOLDER", "refloop-problem") or ""
# Room for one attachment at ATTACHMENT_MAX_BYTES in base64 (a third larger) and the text.
INTAKE_MAIL_MAX_BYTES = env_int("INTAKE_MAIL_MAX_BYTES", ATTACHMENT_MAX_BYTES * 3 // 2)
INTAKE_MAIL_TIMEOUT_SECONDS = env_int("INTAKE_MAIL_TIMEOUT_SECONDS", 60)
# What the mailbox is: a referral address offices write to ("email", the referrals' channel)
# or an e-fax service's inbox, where each mail carries a fax ("fax").
INTAKE_MAIL_ARRIVAL = (env("INTAKE_MAIL_ARRIVAL", "email") or "").lower()
if INTAKE_MAIL_ARRIVAL not in {"email", "fax"}:
    raise ImproperlyConfigured(
        f"REFLOOP_INTAKE_MAIL_ARRIVAL must be email (a referral address) or fax (an e-fax "
        f"service's inbox), not {INTAKE_MAIL_ARRIVAL!r}"
    )

# The public referral form: which websites may frame it (empty: any), and how many
# submissions one address may send per window before a polite 429.
EMBED_ORIGINS = [o.strip() for o in (env("EMBED_ORIGINS", "") or "").split(",") if o.strip()]
PUBLIC_FORM_RATE_LIMIT = env_int("PUBLIC_FORM_RATE_LIMIT", 10)
PUBLIC_FORM_RATE_WINDOW_MINUTES = env_int("PUBLIC_FORM_RATE_WINDOW_MINUTES", 60)

# Every link that leaves the server (magic links, portal invitations, password resets, the
# public page's addresses) starts with BASE_URL, through refloop.core.links.absolute_url;
# `refloop demo` sets it from its --host and --port. Messaging (refloop.messaging): each
# channel's transport is chosen here; the demo's write files.
BASE_URL = (env("BASE_URL", "http://127.0.0.1:8000") or "").rstrip("/")
MESSAGING_TRANSPORTS = {
    "email": "refloop.messaging.transports.email.EmailTransport",
    "in_app": "refloop.messaging.transports.in_app.InAppTransport",
    "sms": env("SMS_TRANSPORT", "refloop.messaging.transports.sms.FileSmsTransport"),
    "fax": env("FAX_TRANSPORT", "refloop.messaging.transports.fax.FileFaxTransport"),
    "letter": "refloop.messaging.transports.letter.LetterTransport",
}
# Where the demo transports put what they "send", and where printable letters wait for staff.
SMS_OUTBOX_FILE = Path(env("SMS_OUTBOX_FILE", str(DATA_DIR / "sms-outbox.jsonl")))
FAX_OUTBOX_DIR = Path(env("FAX_OUTBOX_DIR", str(DATA_DIR / "fax-out")))
LETTER_DIR = Path(env("LETTER_DIR", str(DATA_DIR / "letters")))
# SMS through Twilio (REFLOOP_SMS_TRANSPORT=refloop.messaging.transports.sms.TwilioSmsTransport).
# TWILIO_FROM is a phone number (+1...) or a Messaging Service SID (MG...). The auth token
# may come from a file (REFLOOP_TWILIO_AUTH_TOKEN_FILE); it also signs inbound STOP webhooks.
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID", "") or ""
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN", "") or ""
TWILIO_FROM = env("TWILIO_FROM", "") or ""
TWILIO_API_BASE = (env("TWILIO_API_BASE", "https://api.twilio.com") or "").rstrip("/")
# A worker's claim on a batch of due messages lasts this long; a claim left by a worker
# that died is taken back after it, and its messages sent again with the same identity.
MESSAGE_LEASE_SECONDS = env_int("MESSAGE_LEASE_SECONDS", 120)
MESSAGE_BATCH = env_int("MESSAGE_BATCH", 100)
# Transient failures are retried after 1, 5, 30 and 120 minutes, then the message fails.
MESSAGE_RETRY_MINUTES = [1, 5, 30, 120]
MESSAGING_SWEEP_SECONDS = env_int("MESSAGING_SWEEP_SECONDS", 600)
# How often the worker repairs analytics facts left behind by a failed rebuild.
ANALYTICS_CATCH_UP_SECONDS = env_int("ANALYTICS_CATCH_UP_SECONDS", 600)
# PostgreSQL's work_mem while a dashboard is read (its percentiles sort a period's durations).
ANALYTICS_WORK_MEM = env("ANALYTICS_WORK_MEM", "64MB")
# Magic links for patients: how long a link to an instruction sheet or document lasts.
MAGIC_LINK_DAYS = env_int("MAGIC_LINK_DAYS", 14)

# Sessions and tokens. A signed-in session ends after this many minutes without activity
# (background polling does not count) and this many hours after sign-in whatever happens;
# an API token expires this many days after it is issued (`token create --days` overrides).
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 15)
SESSION_MAX_HOURS = env_int("SESSION_MAX_HOURS", 12)
API_TOKEN_DAYS = env_int("API_TOKEN_DAYS", 90)
for _name, _value in [
    ("SESSION_IDLE_MINUTES", SESSION_IDLE_MINUTES),
    ("SESSION_MAX_HOURS", SESSION_MAX_HOURS),
    ("API_TOKEN_DAYS", API_TOKEN_DAYS),
]:
    if _value < 1:
        raise ImproperlyConfigured(f"REFLOOP_{_name} must be 1 or more, not {_value}")

# Worker: how often the worker looks for due tasks and periodic jobs (seconds).
WORKER_INTERVAL_SECONDS = env_int("WORKER_INTERVAL", 2)
SLA_SWEEP_SECONDS = env_int("SLA_SWEEP_SECONDS", 300)
# How often the outreach signals (declining referrers, overdue visits...) raise liaison tasks.
OUTREACH_SWEEP_SECONDS = env_int("OUTREACH_SWEEP_SECONDS", 3600)
# How often the service-recovery cases' clocks are checked (advocacy.tasks.case_sweep).
ADVOCACY_SWEEP_SECONDS = env_int("ADVOCACY_SWEEP_SECONDS", 900)
# How often the worker refreshes SQLite's query-planner statistics (refloop.core.maintenance).
DB_OPTIMIZE_SECONDS = env_int("DB_OPTIMIZE_SECONDS", 3600)
# How often the worker recomputes every referring practice's outreach tier (once a day).
OUTREACH_TIERS_SECONDS = env_int("OUTREACH_TIERS_SECONDS", 86400)
