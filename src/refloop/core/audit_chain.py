"""The audit log's hash chain: each entry carries a keyed hash of its columns and of the
entry before it, so a changed, removed or reordered entry is found by `refloop audit verify`.

Partitions. The log is many short chains rather than one: a chain per day (the writer's
clock) and shard, `2026-07-01/03`. The shard comes from the writing process and thread, so
the web server's workers and the background worker mostly write to different chains.
Appending locks the chain's row in `AuditChainHead` (SELECT … FOR UPDATE on PostgreSQL)
until the transaction commits: two writers of one chain queue instead of both linking to
the same predecessor (a fork), and writers of different chains never wait on each other.
A transaction takes chain heads in clock order (one day's before the next), so chain
locks cannot deadlock with each other; services write their audit record last, after
locking the rows they change, so a head is held only from then until commit.
SQLite runs one write transaction at a time anyway (BEGIN IMMEDIATE), so there the lock
costs nothing and the shards only keep the chains short.

The hash. HMAC-SHA256 under AUDIT_KEY (or a key derived from SECRET_KEY) over the
previous entry's hash and the canonical JSON of every column but the row id (the entry's
place is its chain and sequence number, which are covered). A bare hash would let anyone
who can write to the database rewrite an entry and recompute every hash after it; with a
key kept off the database they cannot. Removing the newest entries of a chain is caught
by the head row, whose `seal` is keyed too. What a chain cannot catch is someone with
the key, or one who deletes a whole chain together with its head: export the log to a
SIEM (`refloop audit export`) for a copy out of their reach.
"""

import hashlib
import hmac
import ipaddress
import json
import os
import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from refloop.core.models import AuditChainHead, AuditEntry

# Every column of an entry that its hash covers, in the order of the canonical JSON's keys
# (sorted anyway). All of AuditEntry's columns but `id` and `hash`.
HASHED_FIELDS = (
    "at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "patient_id",
    "referral_id",
    "ip_address",
    "channel",
    "detail",
    "chain",
    "seq",
)


def key() -> bytes:
    if settings.AUDIT_KEY:
        return settings.AUDIT_KEY.encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"refloop.audit-chain", hashlib.sha256).digest()


def _at(value: datetime) -> str:
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(values: dict) -> bytes:
    """The JSON the hash is taken over: the same text for an entry as written and as read
    back from either database (UTC times to the microsecond, addresses in their short
    form, `detail` as it round-trips through JSON)."""
    row = {name: values[name] for name in HASHED_FIELDS}
    row["at"] = _at(row["at"])
    if row["ip_address"]:
        row["ip_address"] = str(ipaddress.ip_address(row["ip_address"]))
    row["detail"] = json.loads(json.dumps(row["detail"]))
    return json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def link(previous_hash: str, values: dict, *, secret: bytes) -> str:
    message = previous_hash.encode() + b"\n" + canonical(values)
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def seal(head: AuditChainHead, *, secret: bytes) -> str:
    message = f"head\n{head.chain}\n{head.seq}\n{head.hash}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def chain_name(now: datetime | None = None) -> str:
    day = (now or timezone.now()).astimezone(UTC).date()
    writer = f"{os.getpid()}:{threading.get_ident()}".encode()
    shard = zlib.crc32(writer) % max(settings.AUDIT_CHAIN_SHARDS, 1)
    return f"{day.isoformat()}/{shard:02d}"


def _locked_head(chain: str) -> AuditChainHead:
    """The chain's head, created if new, locked until commit: one statement on both
    databases (an upsert's update takes the row lock, as SELECT … FOR UPDATE would)."""
    table = AuditChainHead._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (chain, seq, hash, seal) VALUES (%s, 0, '', '') "  # noqa: S608
            f"ON CONFLICT (chain) DO UPDATE SET seq = {table}.seq RETURNING seq, hash",
            [chain],
        )
        seq, last_hash = cursor.fetchone()
    head = AuditChainHead(chain=chain, seq=seq, hash=last_hash)
    head._state.adding = False
    return head


def append(entries: Sequence[AuditEntry]) -> list[AuditEntry]:
    """Link `entries` to the end of this writer's chain and insert them."""
    if not entries:
        return []
    secret = key()
    # Inside a caller's transaction (every service's write), no savepoint of its own: an
    # error here fails the whole write anyway, and two statements an entry were a sixth of
    # an intake's.
    with transaction.atomic(savepoint=False):
        head = _locked_head(chain_name())
        for entry in entries:
            head.seq += 1
            entry.chain, entry.seq = head.chain, head.seq
            entry.hash = link(head.hash, _values(entry), secret=secret)
            head.hash = entry.hash
        created = AuditEntry.objects.bulk_create(entries)
        head.seal = seal(head, secret=secret)
        _move_head(head)
    return created


def _move_head(head: AuditChainHead) -> None:
    """The head's new seq, hash and seal: one statement written once (the ORM's save built
    it anew on every append)."""
    table = AuditChainHead._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET seq = %s, hash = %s, seal = %s WHERE chain = %s",  # noqa: S608 (our table; values are parameters)
            [head.seq, head.hash, head.seal, head.chain],
        )


def _values(entry: AuditEntry) -> dict:
    return {name: getattr(entry, name) for name in HASHED_FIELDS}


# --- verifying ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Break:
    """The first broken link of one chain."""

    chain: str
    seq: int | None
    entry_id: int | None
    reason: str

    def __str__(self) -> str:
        where = self.chain or "(no chain)"
        at = f" at entry #{self.seq}" if self.seq is not None else ""
        row = f" (row id {self.entry_id})" if self.entry_id is not None else ""
        return f"{where}{at}{row}: {self.reason}"


@dataclass(frozen=True)
class Verification:
    chains: int
    entries: int
    breaks: list[Break]

    @property
    def intact(self) -> bool:
        return not self.breaks


class _ChainCheck:
    def __init__(self, chain: str, secret: bytes):
        self.chain, self.secret = chain, secret
        self.expected, self.previous = 1, ""
        self.broken: Break | None = None

    def feed(self, entry_id: int, values: dict, stored_hash: str) -> None:
        if self.broken:
            return
        seq = values["seq"]
        if seq != self.expected:
            if seq > self.expected:
                missing = (
                    f"#{self.expected}"
                    if seq == self.expected + 1
                    else f"#{self.expected} to #{seq - 1}"
                )
                reason = f"entries {missing} are missing (deleted)"
            else:
                reason = f"entry #{seq} appears twice (inserted or renumbered)"
            self.broken = Break(self.chain, seq, entry_id, reason)
            return
        if not hmac.compare_digest(link(self.previous, values, secret=self.secret), stored_hash):
            self.broken = Break(
                self.chain,
                seq,
                entry_id,
                "the entry was changed, or moved, or the entry before it was replaced",
            )
            return
        self.previous, self.expected = stored_hash, seq + 1

    def finish(self, head: AuditChainHead | None) -> Break | None:
        if self.broken:
            return self.broken
        last = self.expected - 1
        if head is None:
            return Break(self.chain, None, None, "the chain's head row is missing")
        if not hmac.compare_digest(seal(head, secret=self.secret), head.seal):
            return Break(self.chain, None, None, "the chain's head row was altered")
        if head.seq != last or head.hash != self.previous:
            return Break(
                self.chain,
                last + 1,
                None,
                f"entries #{last + 1} to #{head.seq} at the end of the chain are missing (deleted)",
            )
        return None


def verify(*, progress: Callable[[int, int], None] | None = None, every: int = 10_000):
    """Recompute every chain; the first broken link of each chain is reported.

    `progress(done, total)` is called every `every` entries and at the end.
    """
    secret = key()
    total = AuditEntry.objects.count()
    heads = {head.chain: head for head in AuditChainHead.objects.all()}
    columns = ("id", "hash", *HASHED_FIELDS)
    rows = AuditEntry.objects.order_by("chain", "seq", "pk").values_list(*columns)
    breaks: list[Break] = []
    unchained: list[int] = []
    seen_chains: set[str] = set()
    check: _ChainCheck | None = None
    done = 0
    for row in rows.iterator(chunk_size=2000):
        entry_id, stored_hash, *rest = row
        values = dict(zip(HASHED_FIELDS, rest, strict=True))
        chain = values["chain"]
        if not chain or values["seq"] is None:
            unchained.append(entry_id)
        else:
            if check is None or check.chain != chain:
                if check is not None and (found := check.finish(heads.get(check.chain))):
                    breaks.append(found)
                check = _ChainCheck(chain, secret)
                seen_chains.add(chain)
            check.feed(entry_id, values, stored_hash)
        done += 1
        if progress and done % every == 0:
            progress(done, total)
    if check is not None and (found := check.finish(heads.get(check.chain))):
        breaks.append(found)
    for chain in sorted(set(heads) - seen_chains):
        if heads[chain].seq:
            breaks.append(Break(chain, 1, None, "every entry of the chain is missing (deleted)"))
    if unchained:
        breaks.insert(
            0,
            Break(
                "",
                None,
                unchained[0],
                f"{len(unchained)} entries belong to no chain (written around the audit log)",
            ),
        )
    if progress:
        progress(done, total)
    return Verification(chains=len(seen_chains), entries=done, breaks=breaks)


# --- exporting ----------------------------------------------------------------------------

EXPORTED_FIELDS = ("id", *HASHED_FIELDS, "hash")


def export_lines(since: datetime) -> Iterator[str]:
    """One JSON object per entry from `since` on, oldest first, with its chain and hash."""
    rows = (
        AuditEntry.objects.filter(at__gte=since)
        .order_by("at", "pk")
        .values_list(*EXPORTED_FIELDS)
        .iterator(chunk_size=2000)
    )
    for row in rows:
        values = dict(zip(EXPORTED_FIELDS, row, strict=True))
        values["at"] = _at(values["at"])
        if values["ip_address"]:
            values["ip_address"] = str(ipaddress.ip_address(values["ip_address"]))
        yield json.dumps(values, sort_keys=True, separators=(",", ":")) + "\n"
