"""A stand-in ClamAV daemon on a local socket, for tests: it speaks clamd's VERSION and
INSTREAM commands for real (NUL- or newline-terminated, 4-byte big-endian length chunks
ending with a zero-length one) and flags the EICAR test string, as clamd with its
signatures would. The build machines cannot fetch ClamAV's signatures; this can run."""

import os
import socketserver
import struct
import tempfile
import threading

from tests.samples import EICAR

VERSION = "ClamAV 1.4.2/27510/Fake clamd for the refloop tests"


class _Handler(socketserver.BaseRequestHandler):
    def handle(self):
        command, terminator = self._command()
        if command == b"VERSION":
            self._answer(VERSION, terminator)
        elif command == b"PING":
            self._answer("PONG", terminator)
        elif command == b"INSTREAM":
            data = self._stream()
            self.server.scanned.append(data)
            found = EICAR in data
            self._answer("stream: Eicar-Signature FOUND" if found else "stream: OK", terminator)
        else:
            self._answer("UNKNOWN COMMAND", terminator)

    def _command(self) -> tuple[bytes, bytes]:
        prefix = self._exactly(1)  # z: NUL-terminated, n: newline-terminated
        terminator = b"\0" if prefix == b"z" else b"\n"
        command = bytearray()
        while (byte := self._exactly(1)) != terminator:
            command += byte
        return bytes(command), terminator

    def _stream(self) -> bytes:
        data = bytearray()
        while length := struct.unpack("!L", self._exactly(4))[0]:
            data += self._exactly(length)
        return bytes(data)

    def _exactly(self, count: int) -> bytes:
        received = bytearray()
        while len(received) < count:
            chunk = self.request.recv(count - len(received))
            if not chunk:
                raise ConnectionError("the client hung up mid-command")
            received += chunk
        return bytes(received)

    def _answer(self, line: str, terminator: bytes) -> None:
        self.request.sendall(line.encode() + terminator)


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class _TcpServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True


class FakeClamd:
    """Serves until closed; `address` is what REFLOOP_CLAMD_SOCKET would say, `scanned`
    every stream it received."""

    def __init__(self, *, tcp: bool = False):
        self._folder = None
        if tcp:
            self._server = _TcpServer(("127.0.0.1", 0), _Handler)
            host, port = self._server.server_address
            self.address = f"{host}:{port}"
        else:
            # A short path: unix socket paths are limited to about 100 bytes.
            self._folder = tempfile.mkdtemp(prefix="clamd-", dir="/tmp")
            self.address = os.path.join(self._folder, "clamd.ctl")
            self._server = _UnixServer(self.address, _Handler)
        self._server.scanned = []
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def scanned(self) -> list[bytes]:
        return self._server.scanned

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        if self._folder is not None:
            os.unlink(self.address)
            os.rmdir(self._folder)

    def __enter__(self) -> "FakeClamd":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def unreachable_address() -> str:
    """A socket path where no clamd listens (not there); for TCP, the refused_port fixture."""
    return os.path.join(tempfile.gettempdir(), "refloop-no-clamd", "clamd.ctl")
