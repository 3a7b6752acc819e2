"""The audit log's hash chain: tampering in raw SQL (as someone owning the tables could) is
found by `refloop audit verify`, and the log streams out as JSON lines.

These tests commit (transaction=True): on PostgreSQL the tampering connects as the tables'
owner, which a test transaction held by the runtime role could not share.
"""

import datetime as dt
import hashlib
import io
import json
import threading
from contextlib import contextmanager

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, close_old_connections, connection, transaction

from refloop.core import audit, audit_chain, db_roles
from refloop.core.append_only import suspended
from refloop.core.models import AuditChainHead, AuditEntry

pytestmark = pytest.mark.django_db(transaction=True)

DAY_ONE = dt.datetime(2026, 7, 1, 9, 0, tzinfo=dt.UTC)
DAY_TWO = dt.datetime(2026, 7, 2, 9, 0, tzinfo=dt.UTC)


def write(count: int, *, on: dt.datetime) -> list[AuditEntry]:
    with time_machine.travel(on, tick=False):
        return append(count)


def append(count: int) -> list[AuditEntry]:
    return [
        audit.record(
            "referral.read",
            audit.Touch("referral", 100 + n, patient_id=200 + n, referral_id=100 + n),
            actor=None,
            detail={"n": n, "note": "ünïcode"},
        )
        for n in range(count)
    ]


@pytest.fixture
def log():
    """Five entries written on one day and four on the next: two chains."""
    return {"one": write(5, on=DAY_ONE), "two": write(4, on=DAY_TWO)}


@contextmanager
def tampering():
    """A raw cursor with what someone holding the tables' owner role has: the append-only
    trigger lifted, no ORM in the way."""
    table = AuditEntry._meta.db_table
    with db_roles.as_owner(), transaction.atomic(), suspended(connection, table):
        with connection.cursor() as cursor:
            yield cursor


def breaks() -> list[audit_chain.Break]:
    return audit_chain.verify().breaks


def test_an_untouched_log_verifies_clean(log):
    result = audit_chain.verify()
    assert result.intact
    assert (result.chains, result.entries) == (2, 9)
    assert {e.chain for e in log["one"]} != {e.chain for e in log["two"]}


def test_an_entry_edited_in_raw_sql_is_found(log):
    victim = log["one"][2]
    with tampering() as cursor:
        cursor.execute("UPDATE core_auditentry SET action = %s WHERE id = %s", ["x", victim.pk])
    [found] = breaks()
    assert (found.chain, found.seq, found.entry_id) == (victim.chain, 3, victim.pk)
    assert "changed" in found.reason


def test_an_entry_deleted_in_raw_sql_is_found(log):
    victim = log["two"][1]
    with tampering() as cursor:
        cursor.execute("DELETE FROM core_auditentry WHERE id = %s", [victim.pk])
    [found] = breaks()
    assert (found.chain, found.seq) == (victim.chain, 3)
    assert "#2 are missing" in found.reason


def test_entries_reordered_in_raw_sql_are_found(log):
    first, second = log["one"][1], log["one"][3]
    with tampering() as cursor:
        for entry, seq in ((first, 0), (second, first.seq), (first, second.seq)):
            cursor.execute("UPDATE core_auditentry SET seq = %s WHERE id = %s", [seq, entry.pk])
    [found] = breaks()
    assert (found.chain, found.seq, found.entry_id) == (first.chain, 2, second.pk)


def test_times_swapped_between_entries_are_found(log):
    early, late = log["one"][0], log["two"][0]
    with tampering() as cursor:
        cursor.execute("UPDATE core_auditentry SET at = %s WHERE id = %s", [late.at, early.pk])
        cursor.execute("UPDATE core_auditentry SET at = %s WHERE id = %s", [early.at, late.pk])
    assert {(b.chain, b.seq) for b in breaks()} == {(early.chain, 1), (late.chain, 1)}


def test_the_newest_entries_of_a_chain_deleted_are_found(log):
    last_two = [e.pk for e in log["one"][-2:]]
    with tampering() as cursor:
        cursor.execute("DELETE FROM core_auditentry WHERE id IN (%s, %s)", last_two)
    [found] = breaks()
    assert found.chain == log["one"][0].chain
    assert "#4 to #5 at the end of the chain are missing" in found.reason


def test_a_chain_head_rolled_back_to_hide_a_deleted_tail_is_found(log):
    kept, dropped = log["one"][-2], log["one"][-1]
    with tampering() as cursor:
        cursor.execute("DELETE FROM core_auditentry WHERE id = %s", [dropped.pk])
        cursor.execute(
            "UPDATE core_auditchainhead SET seq = %s, hash = %s WHERE chain = %s",
            [kept.seq, kept.hash, kept.chain],
        )
    [found] = breaks()
    assert found.chain == kept.chain and "head row was altered" in found.reason


def test_a_whole_chain_deleted_is_found_by_its_head(log):
    chain = log["two"][0].chain
    with tampering() as cursor:
        cursor.execute("DELETE FROM core_auditentry WHERE chain = %s", [chain])
    [found] = breaks()
    assert found.chain == chain and "every entry" in found.reason


def test_an_entry_inserted_around_the_chain_is_found(log):
    forged = log["one"][0]
    with tampering() as cursor:
        cursor.execute(
            "INSERT INTO core_auditentry (at, actor_label, action, object_type, object_id,"
            " channel, detail, chain, hash) VALUES (%s, 'ada', 'referral.read', 'referral',"
            " '1', 'web', '{}', '', '')",
            [forged.at],
        )
    [found] = breaks()
    assert found.chain == "" and "1 entries belong to no chain" in found.reason


def test_an_edit_with_hashes_recomputed_without_the_key_is_found(log):
    """With a bare hash the attacker could rewrite the rest of the chain to match; with
    HMAC they need the key, which is not in the database."""
    chain = log["two"]
    with tampering() as cursor:
        previous = chain[0].hash
        for entry in chain[1:]:
            entry.refresh_from_db()
            if entry is chain[1]:
                entry.actor_label = "someone-else"
            values = {name: getattr(entry, name) for name in audit_chain.HASHED_FIELDS}
            forged = hashlib.sha256(previous.encode() + audit_chain.canonical(values)).hexdigest()
            cursor.execute(
                "UPDATE core_auditentry SET actor_label = %s, hash = %s WHERE id = %s",
                [entry.actor_label, forged, entry.pk],
            )
            previous = forged
    [found] = breaks()
    assert (found.chain, found.seq) == (chain[1].chain, 2)


def test_each_chain_reports_its_own_first_break(log):
    with tampering() as cursor:
        cursor.execute("DELETE FROM core_auditentry WHERE id = %s", [log["one"][1].pk])
        cursor.execute(
            "UPDATE core_auditentry SET object_id = '9' WHERE id IN (%s, %s)",
            [log["two"][1].pk, log["two"][3].pk],
        )
    assert [(b.chain, b.seq) for b in breaks()] == [
        (log["one"][0].chain, 3),
        (log["two"][0].chain, 2),
    ]


def test_the_hash_covers_every_column_but_the_row_id():
    columns = {f.attname for f in AuditEntry._meta.concrete_fields}
    assert set(audit_chain.HASHED_FIELDS) == columns - {"id", "hash"}


def test_writers_of_one_chain_queue_instead_of_forking(settings, log):
    """Every thread lands in the same chain (one shard); each appends after the other
    rather than two linking to the same predecessor."""
    settings.AUDIT_CHAIN_SHARDS = 1
    # The log fixture's own day-two entries may already sit on shard 00 (its shard follows
    # the process and thread ids): count from where that chain stands.
    chain = AuditChainHead.objects.filter(chain="2026-07-02/00")
    before = chain.values_list("seq", flat=True).first() or 0
    start = threading.Barrier(4)
    failures = []

    def writer():
        try:
            start.wait()
            for _ in range(5):
                append(2)
        except Exception as error:  # reported below: a thread's exception is otherwise lost
            failures.append(error)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=writer) for _ in range(4)]
    # One clock for every thread: travelling is process-wide, so no thread may end it early.
    with time_machine.travel(DAY_TWO, tick=False):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []
    result = audit_chain.verify()
    assert result.intact and result.entries == 9 + 4 * 5 * 2
    assert chain.get().seq == before + 40


# ---- the commands --------------------------------------------------------------------


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_audit_verify_says_an_untouched_log_is_intact_with_progress(log):
    out, err = run("audit", "verify")
    assert "intact: 9 entries in 2 chains" in out
    assert "checked 9 of 9 entries" in err
    assert AuditEntry.objects.filter(action="audit.verified", channel="cli").exists()


def test_audit_verify_fails_and_names_the_first_broken_link(log):
    victim = log["one"][3]
    with tampering() as cursor:
        cursor.execute("UPDATE core_auditentry SET detail = '{}' WHERE id = %s", [victim.pk])
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 of the audit log's chains are broken"):
        call_command("audit", "verify", stdout=out, stderr=io.StringIO())
    assert f"BROKEN {victim.chain} at entry #4 (row id {victim.pk})" in out.getvalue()


def test_audit_export_writes_json_lines_since_a_time_with_chain_and_hash(log):
    out, err = run("audit", "export", "--since", "2026-07-02")
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["id"] for line in lines] == [e.pk for e in log["two"]]
    first = lines[0]
    assert first["chain"] == log["two"][0].chain and first["seq"] == 1
    assert first["hash"] == log["two"][0].hash
    assert first["at"] == "2026-07-02T09:00:00.000000+00:00"
    assert first["detail"] == {"n": 0, "note": "ünïcode"} and first["patient_id"] == 200
    assert "Exported 4 audit entries" in err
    exported = AuditEntry.objects.get(action="audit.exported")
    assert exported.detail == {"since": "2026-07-02T00:00:00+00:00", "entries": 4}


def test_audit_export_to_a_file_with_an_offset(log, tmp_path):
    target = tmp_path / "audit.jsonl"
    run("audit", "export", "--since", "2026-07-01T10:30:00+02:00", "--out", str(target))
    lines = target.read_text().splitlines()
    assert len(lines) == 9  # 08:30 UTC: both days' entries
    assert all(json.loads(line)["hash"] for line in lines)


def test_audit_export_refuses_a_since_that_is_not_a_date(log):
    with pytest.raises(CommandError, match="--since takes an ISO date"):
        run("audit", "export", "--since", "last tuesday")


# ---- an existing log ---------------------------------------------------------------------


def test_the_migration_chains_the_entries_an_existing_log_already_has():
    from django.db.migrations.executor import MigrationExecutor

    before = [("core", "0003_audit_append_only")]
    with db_roles.as_owner():
        executor = MigrationExecutor(connection)
        executor.migrate(before)
        with connection.cursor() as cursor:
            for n in range(3):
                cursor.execute(
                    "INSERT INTO core_auditentry (at, actor_label, action, object_type,"
                    " object_id, channel, detail) VALUES (%s, 'cora', 'referral.read',"
                    " 'referral', %s, 'web', %s)",
                    [DAY_ONE + dt.timedelta(minutes=n), str(n), json.dumps({"n": n})],
                )
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    legacy = list(AuditEntry.objects.order_by("seq"))
    assert [(e.chain, e.seq, e.object_id) for e in legacy] == [
        ("legacy", 1, "0"),
        ("legacy", 2, "1"),
        ("legacy", 3, "2"),
    ]
    write(2, on=DAY_TWO)
    assert audit_chain.verify().intact
    with pytest.raises(DatabaseError, match="append-only|permission denied"), transaction.atomic():
        with connection.cursor() as cursor:  # the trigger is back after the rebuild
            cursor.execute("UPDATE core_auditentry SET action = 'x'")
