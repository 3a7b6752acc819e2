"""A loopback SMTP server that accepts mail and keeps only each message's Message-ID and
recipient: for tests, benchmarks, and watching the demo's mail locally.

Needs aiosmtpd, a development dependency (`pip install -e ".[dev]"`); production never imports
this module.

    python -m refloop.messaging.sink --port 2525     # one line per message, no bodies
"""

import argparse
import asyncio
import json
import re
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

from aiosmtpd.controller import Controller

_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*(.*?)[ \t]*\r?$", re.IGNORECASE | re.MULTILINE)


def message_id_of(content: bytes) -> str:
    """The Message-ID header of a raw message ('' when it has none); only headers are read."""
    headers = re.split(rb"\r?\n\r?\n", content, maxsplit=1)[0]
    found = _MESSAGE_ID.search(headers)
    return found.group(1).decode("ascii", "replace") if found else ""


class _Handler:
    def __init__(self, sink: "SmtpSink"):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.sink.fail_rcpt:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.sink.delay:
            # Keeps a message on the wire long enough for a test to kill its sender mid-batch.
            await asyncio.sleep(self.sink.delay)
        self.sink._record(message_id_of(envelope.content), envelope.rcpt_tos)
        return "250 OK"


class _Controller(Controller):
    def _trigger_server(self):
        # Bound to port 0, the OS picked the port: learn it before the first connection.
        if self.port == 0 and self.server is not None:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpSink:
    """Accepts every message on 127.0.0.1 (port 0: any free port) and counts its Message-ID.

    `fail_rcpt`: addresses answered `550` at RCPT, for bounce tests. `append_to`: a file that
    gets one JSON line per message ({"message_id", "to"}), so another process can read what a
    sink running elsewhere received. `delay`: seconds to hold each DATA before answering.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        fail_rcpt: Iterable[str] = (),
        append_to: str | Path | None = None,
        delay: float = 0.0,
        on_message: Callable[[str, list[str]], None] | None = None,
    ):
        self.fail_rcpt = {address.lower() for address in fail_rcpt}
        self.delay = delay
        self.on_message = on_message
        self.message_ids: Counter[str] = Counter()
        self.recipients: list[tuple[str, str]] = []
        self._received = 0
        self._lock = threading.Lock()
        self._append_to = Path(append_to) if append_to else None
        self._file: TextIO | None = None
        self._controller = _Controller(_Handler(self), hostname=host, port=port)

    @property
    def port(self) -> int:
        return self._controller.port

    @property
    def host(self) -> str:
        return self._controller.hostname

    @property
    def received(self) -> int:
        """Messages accepted at DATA, counting repeats."""
        with self._lock:
            return self._received

    def snapshot(self) -> Counter[str]:
        with self._lock:
            return Counter(self.message_ids)

    def _record(self, message_id: str, recipients: list[str]) -> None:
        with self._lock:
            self._received += 1
            self.message_ids[message_id] += 1
            for to in recipients:
                self.recipients.append((message_id, to))
            if self._file is not None:
                self._file.write(json.dumps({"message_id": message_id, "to": recipients}) + "\n")
                self._file.flush()
        if self.on_message is not None:
            self.on_message(message_id, recipients)

    def start(self) -> "SmtpSink":
        if self._append_to is not None:
            self._file = self._append_to.open("a", encoding="utf-8")
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def __enter__(self) -> "SmtpSink":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def read_appended(path: str | Path) -> Counter[str]:
    """Message-IDs written by a sink's `append_to` file, with how often each arrived."""
    counts: Counter[str] = Counter()
    path = Path(path)
    if not path.exists():
        return counts
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.endswith("\n"):  # a line still being written is not counted yet
                counts[json.loads(line)["message_id"]] += 1
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m refloop.messaging.sink",
        description="Accept mail on loopback and print each message's Message-ID and recipient.",
    )
    parser.add_argument("--port", type=int, default=2525, help="0 picks a free port")
    parser.add_argument("--append-to", metavar="FILE", help="also write JSON lines here")
    parser.add_argument("--fail-rcpt", action="append", default=[], metavar="ADDRESS")
    parser.add_argument("--delay", type=float, default=0.0, metavar="SECONDS")
    parser.add_argument("--quiet", action="store_true", help="print nothing per message")
    args = parser.parse_args(argv)

    def show(message_id: str, recipients: list[str]) -> None:
        print(f"{message_id or '(no Message-ID)'} -> {', '.join(recipients)}", flush=True)

    sink = SmtpSink(
        port=args.port,
        fail_rcpt=args.fail_rcpt,
        append_to=args.append_to,
        delay=args.delay,
        on_message=None if args.quiet else show,
    )
    sink.start()
    print(f"SMTP sink listening on {sink.host}:{sink.port} (Ctrl-C stops)", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sink.stop()
        print(f"{sink.received} messages received.", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
