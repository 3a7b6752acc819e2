"""A real IMAP server for the mail intake tests: Debian's Dovecot (dovecot-imapd, which
`./run test` installs) on free loopback ports, with its own configuration and mail store in a
temporary folder, speaking TLS (IMAPS, and STARTTLS on the plain port)
with a certificate authority made for the run.

Dovecot runs unprivileged ("rootless"): every process as one user, which is the current
one, or `nobody` when the tests run as root (Dovecot refuses mail access as root). Mail is
put in with imaplib's APPEND, as another mail client would. `CuttingProxy` sits between
refloop and the server and cuts the connection after a number of bytes, as a dropped
network does.
"""

import datetime as dt
import grp
import imaplib
import ipaddress
import os
import pwd
import secrets
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# REFLOOP_DOVECOT: where the dovecot binary is, when not on PATH or in /usr/sbin.
DOVECOT = (
    os.environ.get("REFLOOP_DOVECOT")
    or shutil.which("dovecot")
    or shutil.which("dovecot", path="/usr/sbin:/sbin")
)
START_SECONDS = 20

CONFIG = """\
instance_name = refloop-test-{instance}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
ssl = required
ssl_cert = <{root}/server.pem
ssl_key = <{root}/server.key
disable_plaintext_auth = yes
auth_mechanisms = plain
auth_failure_delay = 0
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={root}/mail/%u
}}
mail_location = maildir:~/Maildir
mail_fsync = never
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
"""


@dataclass(frozen=True)
class Account:
    user: str
    password: str


class Dovecot:
    def __init__(self):
        if DOVECOT is None:
            raise RuntimeError(
                "Dovecot is not installed: `./run test` installs it (dovecot-imapd), or "
                "run apt-get install -y dovecot-imapd; REFLOOP_DOVECOT may name the binary."
            )
        version = subprocess.run(  # noqa: S603 - Debian's dovecot
            [DOVECOT, "--version"], capture_output=True, text=True, check=True
        ).stdout.strip()
        if not version.startswith("2.3."):
            # 2.4 (Debian 13) renamed most settings and wants dovecot_config_version first.
            raise RuntimeError(
                f"tests/dovecot.py writes a Dovecot 2.3 configuration (Debian 12's); this is "
                f"Dovecot {version}. Its CONFIG needs the 2.4 setting names."
            )
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Dovecot":
        # Short: Dovecot's unix sockets live under it, and a socket path has ~100 bytes.
        self.root = Path(tempfile.mkdtemp(prefix="rf-dovecot-"))
        self.ca_file = self.root / "ca.pem"
        as_root = os.geteuid() == 0
        self.user = "nobody" if as_root else pwd.getpwuid(os.geteuid()).pw_name
        self.group = (
            grp.getgrgid(pwd.getpwnam("nobody").pw_gid).gr_name
            if as_root
            else grp.getgrgid(os.getegid()).gr_name
        )
        for sub in ("run", "state", "mail"):
            (self.root / sub).mkdir()
        _write_certificates(self.root)
        self.password = f"pw-{secrets.token_hex(8)}"
        try:
            self._start(as_root)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _start(self, as_root: bool) -> None:
        self.imaps_port, self.imap_port = _free_port(), _free_port()
        (self.root / "dovecot.conf").write_text(
            CONFIG.format(
                instance=secrets.token_hex(3),
                root=self.root,
                user=self.user,
                group=self.group,
                imap_port=self.imap_port,
                imaps_port=self.imaps_port,
                password=self.password,
            )
        )
        if as_root:
            uid, gid = pwd.getpwnam(self.user).pw_uid, grp.getgrnam(self.group).gr_gid
            for path in [self.root, *self.root.rglob("*")]:
                os.chown(path, uid, gid)
        self.process = subprocess.Popen(  # noqa: S603 - Debian's dovecot, our own config
            [DOVECOT, "-F", "-c", str(self.root / "dovecot.conf")],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            user=self.user if as_root else None,
            group=self.group if as_root else None,
            extra_groups=[] if as_root else None,
        )
        deadline = time.monotonic() + START_SECONDS
        while not self._listening():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Dovecot did not start:\n{self.log()}")
            time.sleep(0.05)

    def _listening(self) -> bool:
        for port in (self.imaps_port, self.imap_port):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) != 0:
                    return False
        return True

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=START_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        output = self.process.stdout.read().decode() if self.process and self.process.poll() else ""
        return (path.read_text() if path.exists() else "") + output

    def account(self) -> Account:
        """A new mail user with an empty mailbox. Every user has the server's one password (a
        static passdb: a passwd-file is read again at most once a second, too slow here)."""
        return Account(f"clinic-{secrets.token_hex(4)}", self.password)

    def tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file)

    def connect(self, account: Account) -> imaplib.IMAP4_SSL:
        client = imaplib.IMAP4_SSL("127.0.0.1", self.imaps_port, ssl_context=self.tls_context())
        client.login(account.user, account.password)
        return client

    def append(self, account: Account, message: bytes, folder: str = "INBOX") -> None:
        client = self.connect(account)
        try:
            status, _ = client.append(folder, None, None, message)
            assert status == "OK"
        finally:
            client.logout()

    def messages(self, account: Account, folder: str) -> list[bytes]:
        """The messages in `folder` (none if it does not exist), as stored."""
        client = self.connect(account)
        try:
            status, _ = client.select(f'"{folder}"', readonly=True)
            if status != "OK":
                return []
            _, found = client.uid("SEARCH", "ALL")
            found_uids = found[0].split()
            messages = []
            for uid in found_uids:
                _, data = client.uid("FETCH", uid, "(BODY.PEEK[])")
                messages.append(data[0][1])
            return messages
        finally:
            client.logout()


class CuttingProxy:
    """A TCP relay from a loopback port to `target_port`, which cuts the connection (closes
    both sides, as a dropped network does) once the server has sent `cut_after` bytes, or
    just before the client's `cut_before_record`-th encrypted TLS record (about one IMAP
    command each: so a cut can fall between any two commands). It counts what passes."""

    def __init__(
        self,
        target_port: int,
        *,
        cut_after: int | None = None,
        cut_before_record: int | None = None,
    ):
        self.target_port = target_port
        self.cut_after = cut_after
        self.cut_before_record = cut_before_record
        self.from_server = 0
        self.client_records = 0
        self.cut = False
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.threads: list[threading.Thread] = []

    def __enter__(self) -> "CuttingProxy":
        self._start(self._accept)
        return self

    def __exit__(self, *exc) -> None:
        self.listener.close()
        for thread in self.threads:
            thread.join(timeout=START_SECONDS)

    def _start(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self.threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        try:
            client, _ = self.listener.accept()
        except OSError:
            return  # closed before refloop connected
        server = socket.create_connection(("127.0.0.1", self.target_port))
        self._start(self._relay, self._client_records(client), server, client)
        self._start(self._relay, self._server_chunks(server), client, server)

    def _server_chunks(self, server: socket.socket):
        while chunk := server.recv(4096):
            if self.cut_after is not None and self.from_server + len(chunk) >= self.cut_after:
                yield chunk[: self.cut_after - self.from_server]
                self.from_server, self.cut = self.cut_after, True
                return
            self.from_server += len(chunk)
            yield chunk

    def _client_records(self, client: socket.socket):
        pending = b""
        while chunk := client.recv(4096):
            pending += chunk
            # A TLS record: type (23 is encrypted data), version, 2-byte length, body.
            while len(pending) >= 5 and len(pending) >= 5 + int.from_bytes(pending[3:5]):
                size = 5 + int.from_bytes(pending[3:5])
                record, pending = pending[:size], pending[size:]
                if record[0] == 23:
                    self.client_records += 1
                    if self.client_records == self.cut_before_record:
                        self.cut = True
                        return
                yield record

    def _relay(self, chunks, sink: socket.socket, source: socket.socket) -> None:
        # Either side may close first; then the other direction's calls fail, and that
        # relay ends too.
        with suppress(OSError):
            for chunk in chunks:
                sink.sendall(chunk)
        for end in (source, sink):
            with suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _write_certificates(root: Path) -> None:
    """A certificate authority (ca.pem, given to refloop as its CA file) and the server's
    certificate for 127.0.0.1 signed by it, with the extensions a strict verifier asks for."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "refloop test mail CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (root / "ca.pem").write_bytes(ca.public_bytes(pem))
    (root / "server.pem").write_bytes(server.public_bytes(pem))
    (root / "server.key").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (root / "server.key").chmod(0o600)
