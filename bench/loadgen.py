"""HTTP load generator for the benchmarks, run as its own process so it never shares the
server's GIL: reads a JSON job on stdin, prints a JSON result on stdout.

Two modes, both on keep-alive HTTP/1.1 connections to 127.0.0.1 only:
- closed: `concurrency` clients each send their next request when the last one answered;
  gives the maximum sustainable requests per second.
- open: requests start at a fixed rate whether or not earlier ones have answered; latency
  is measured from the moment a request was *due*, so a stalled server or a busy client
  cannot hide its delay (no coordinated omission).

Every loop is bounded in time and count and stops by itself. Request bodies are synthetic
and never printed.
"""

import asyncio
import datetime as dt
import json
import math
import socket
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

REQUEST_TIMEOUT_SECONDS = 10.0
DRAIN_SECONDS = REQUEST_TIMEOUT_SECONDS + 2
OPEN_LOOP_MAX_CONNECTIONS = 256
FIRST_NAMES = ("Avery", "Jordan", "Morgan", "Riley", "Casey", "Quinn", "Rowan", "Emerson")
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def synthetic_surname(n: int) -> str:
    """Letters only (names are folded to letters for duplicate matching), unique per n."""
    word = ""
    while True:
        n, digit = divmod(n, 26)
        word = LETTERS[digit] + word
        if n == 0:
            return "Bench" + word


class RequestMaker:
    """Builds raw HTTP requests: a new patient and a new Idempotency-Key every time."""

    def __init__(self, job: dict) -> None:
        self.path = job["path"]
        self.host = f"127.0.0.1:{job['port']}"
        self.token = job.get("token")
        self.department_id = job["department_id"]
        self.provider_id = job["provider_id"]
        self.run_id = uuid.uuid4().hex[:12]
        self.count = 0

    def body(self, n: int) -> dict:
        return {
            "patient": {
                "first_name": FIRST_NAMES[n % len(FIRST_NAMES)],
                "last_name": synthetic_surname(n),
                "date_of_birth": (dt.date(1940, 1, 1) + dt.timedelta(days=n % 25_000)).isoformat(),
                "phone": f"(217) 555-{n % 10_000:04d}",
                "contact_consent": True,
            },
            "source_type": "provider",
            "referring_provider_id": self.provider_id,
            "channel": "api",
            "urgency": "routine",
            "reason": "Low back pain radiating to the left leg for six weeks",
            "icd10_codes": ["M54.16"],
            "department_id": self.department_id,
        }

    def next(self) -> bytes:
        n = self.count
        self.count += 1
        body = json.dumps(self.body(n)).encode()
        headers = [
            f"POST {self.path} HTTP/1.1",
            f"Host: {self.host}",
            "Content-Type: application/json",
            "Accept: application/json",
            f"Content-Length: {len(body)}",
            f"Idempotency-Key: bench-{self.run_id}-{n}",
        ]
        if self.token:
            headers.append(f"Authorization: Bearer {self.token}")
        return ("\r\n".join(headers) + "\r\n\r\n").encode() + body


class Connection:
    """One keep-alive HTTP/1.1 connection; enough of the protocol for these responses."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            await self.open()
        self.writer.write(raw)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionResetError("server closed the connection")
        status = int(status_line.split()[1])
        length, chunked, close = 0, False, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value:
                chunked = True
            elif name == b"connection" and value == b"close":
                close = True
        if chunked:
            body = b""
            while size := int((await self.reader.readline()).split(b";")[0], 16):
                body += await self.reader.readexactly(size + 2)
            await self.reader.readline()
        else:
            body = await self.reader.readexactly(length) if length else b""
        if close:
            self.close()
        return status, body


@dataclass
class Tally:
    """Outcomes of the requests that finished inside the measured window."""

    latencies: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)

    def ok(self, latency: float) -> None:
        self.latencies.append(latency)

    def error(self, kind: str, sample: str = "") -> None:
        self.errors[kind] += 1
        if sample and len(self.error_samples) < 3:
            self.error_samples.append(sample[:300])


async def send(conn: Connection, raw: bytes, expect_status: int) -> tuple[bool, str, str]:
    """(ok, error kind, sample); reconnects once if a kept-alive connection went stale."""
    for attempt in (1, 2):
        try:
            status, body = await asyncio.wait_for(conn.request(raw), REQUEST_TIMEOUT_SECONDS)
        except TimeoutError:
            conn.close()
            return False, "timeout", ""
        except (ConnectionError, asyncio.IncompleteReadError, OSError) as error:
            conn.close()
            if attempt == 2:
                return False, "connection", type(error).__name__
            continue
        if status != expect_status:
            return False, f"HTTP {status}", f"HTTP {status}: {body.decode(errors='replace')}"
        if b'"id"' not in body:
            return False, "no id in body", f"HTTP {status} without an id"
        return True, "", ""
    raise AssertionError("unreachable")


async def closed_loop(job: dict, maker: RequestMaker) -> dict:
    tally = Tally()
    start = time.perf_counter()
    measure_from = start + job["warmup"]
    measure_until = measure_from + job["duration"]

    async def client() -> None:
        conn = Connection(job["port"])
        try:
            while time.perf_counter() < measure_until:
                raw = maker.next()
                sent = time.perf_counter()
                ok, kind, sample = await send(conn, raw, job["expect_status"])
                done = time.perf_counter()
                if measure_from <= done <= measure_until:
                    tally.ok(done - sent) if ok else tally.error(kind, sample)
                elif not ok and done < measure_from:
                    tally.error(f"{kind} (warm-up)", sample)
        finally:
            conn.close()

    tasks = [asyncio.create_task(client()) for _ in range(job["concurrency"])]
    await asyncio.wait(tasks, timeout=job["warmup"] + job["duration"] + DRAIN_SECONDS)
    for task in tasks:
        task.cancel()
    return summary(job, tally, sent=maker.count)


async def open_loop(job: dict, maker: RequestMaker) -> dict:
    tally = Tally()
    rate = job["rate"]
    total = int(rate * (job["warmup"] + job["duration"]))
    idle: list[Connection] = []
    slots = asyncio.Semaphore(OPEN_LOOP_MAX_CONNECTIONS)
    start = time.perf_counter()
    measure_from = start + job["warmup"]
    max_lag = 0.0
    last_answer = measure_from

    async def one(raw: bytes, due: float) -> None:
        nonlocal last_answer
        async with slots:
            conn = idle.pop() if idle else Connection(job["port"])
            ok, kind, sample = await send(conn, raw, job["expect_status"])
            answered = time.perf_counter()
            idle.append(conn)
        if due >= measure_from:
            last_answer = max(last_answer, answered)
            tally.ok(answered - due) if ok else tally.error(kind, sample)
        elif not ok:
            tally.error(f"{kind} (warm-up)", sample)

    tasks = set()
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        max_lag = max(max_lag, time.perf_counter() - due)
        task = asyncio.create_task(one(maker.next(), due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.wait(tasks, timeout=DRAIN_SECONDS)
    for task in tasks:
        task.cancel()
    for conn in idle:
        conn.close()
    result = summary(job, tally, sent=maker.count)
    result["offered_rps"] = rate
    # Requests due in the window, over the time until the last of them was answered:
    # below the offered rate when the server falls behind.
    answering_s = max(last_answer - measure_from, job["duration"])
    result["rps"] = round(len(tally.latencies) / answering_s, 1)
    result["max_dispatch_lag_ms"] = round(max_lag * 1000, 2)
    return result


def percentile(ordered: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of an ascending list, in milliseconds."""
    if not ordered:
        return None
    rank = min(len(ordered), max(1, math.ceil(fraction * len(ordered))))
    return round(ordered[rank - 1] * 1000, 2)


def summary(job: dict, tally: Tally, *, sent: int) -> dict:
    ordered = sorted(tally.latencies)
    measured_errors = sum(n for kind, n in tally.errors.items() if "(warm-up)" not in kind)
    return {
        "mode": job["mode"],
        "path": job["path"],
        "concurrency": job.get("concurrency"),
        "duration_s": job["duration"],
        "requests_sent": sent,
        "ok": len(ordered),
        "errors": measured_errors,
        "error_kinds": dict(tally.errors),
        "error_samples": tally.error_samples,
        "rps": round(len(ordered) / job["duration"], 1),
        "latency_ms": {
            "p50": percentile(ordered, 0.50),
            "p95": percentile(ordered, 0.95),
            "p99": percentile(ordered, 0.99),
            "max": percentile(ordered, 1.0),
            "mean": round(sum(ordered) / len(ordered) * 1000, 2) if ordered else None,
        },
        "client_cpu_s": round(time.process_time(), 2),
    }


def main() -> None:
    job = json.load(sys.stdin)
    maker = RequestMaker(job)
    run = closed_loop if job["mode"] == "closed" else open_loop
    print(json.dumps(asyncio.run(run(job, maker))))


if __name__ == "__main__":
    main()
