"""A client for the ClamAV daemon (clamd): its VERSION and INSTREAM commands, as clamd(8)
describes them, over a unix socket or TCP.

Written here rather than taken from PyPI: `clamd` was last released in 2014, and its
maintained fork (clamav-client) writes chunks with socket.send without checking how much
was written, and connects without a timeout. The exchange itself is a few lines.
"""

import socket
import struct

CHUNK_BYTES = 64 * 1024


class ScannerError(Exception):
    """clamd could not be reached, or did not answer as clamd answers."""


def _connect(address: str, timeout: float) -> socket.socket:
    if address.startswith("/"):
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.settimeout(timeout)
        try:
            connection.connect(address)
        except OSError:
            connection.close()
            raise
        return connection
    host, _, port = address.rpartition(":")
    return socket.create_connection((host, int(port)), timeout=timeout)


def _reply(connection: socket.socket) -> str:
    """One NUL-terminated reply (commands sent with the z prefix are answered so)."""
    received = bytearray()
    while not received.endswith(b"\0"):
        chunk = connection.recv(4096)
        if not chunk:
            break
        received += chunk
    return received.rstrip(b"\0").decode("utf-8", "replace").strip()


def version(address: str, *, timeout: float) -> str:
    """The daemon's version line, e.g. "ClamAV 1.4.2/27510/Tue Jan  6 09:00:00 2026"."""
    try:
        with _connect(address, timeout) as connection:
            connection.sendall(b"zVERSION\0")
            line = _reply(connection)
    except OSError as exc:
        raise ScannerError(f"clamd at {address} is not answering ({exc})") from exc
    if not line.startswith("ClamAV"):
        raise ScannerError(f"clamd at {address} answered VERSION with {line[:80]!r}")
    return line


def scan(data: bytes, *, address: str, timeout: float) -> str | None:
    """Stream `data` to clamd; None when it finds nothing, else the signature's name."""
    try:
        with _connect(address, timeout) as connection:
            connection.sendall(b"zINSTREAM\0")
            view = memoryview(data)
            for start in range(0, len(view), CHUNK_BYTES):
                chunk = view[start : start + CHUNK_BYTES]
                connection.sendall(struct.pack("!L", len(chunk)) + chunk)
            connection.sendall(struct.pack("!L", 0))
            line = _reply(connection)
    except OSError as exc:
        raise ScannerError(f"clamd at {address} is not answering ({exc})") from exc
    if line == "stream: OK":
        return None
    if line.startswith("stream: ") and line.endswith(" FOUND"):
        return line.removeprefix("stream: ").removesuffix(" FOUND")
    # "INSTREAM size limit exceeded. ERROR" (StreamMaxLength below the upload limit), or
    # anything else: the file was not scanned.
    raise ScannerError(f"clamd at {address} answered INSTREAM with {line[:120]!r}")
