"""Building the fact tables from referrals, their timelines and their appointments.

`rebuild(ids)` is the one writer. It runs after every committed change to a referral
(`event_recorded`, the reaction to every timeline event in refloop.referrals.reactions), in
bulk after imports and the demo seed, and from the worker's catch-up job for rows left behind.
"""

import functools
import hashlib
import hmac
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F

from refloop.analytics.models import (
    DWELL_STATES,
    REACHED_BIT,
    AppointmentFact,
    ReferralFact,
)
from refloop.network.models import Provider
from refloop.patients.models import Patient
from refloop.practice.models import Organization
from refloop.referrals.lifecycle import LOST as LOST_STATES
from refloop.referrals.models import Appointment, Direction, Referral, ReferralEvent

log = logging.getLogger(__name__)

CHUNK = 2000
# A full rebuild's chunk: read by id range, so not bound by how many parameters a
# statement may take; fewer, larger statements.
FULL_CHUNK = 10_000
HOUR = 3600.0


def patient_key(name_key: str, birth_key: str) -> str:
    """A keyed hash of the identity docs/design.md gives lifetime value (normalized name and
    birth date, from the patient's blind indexes), so the fact table holds no name and
    no birth date, and building facts decrypts nothing."""
    message = f"{name_key}|{birth_key}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def _pending() -> set[int]:
    # Per connection, so per thread: a web server thread's ids never leak into another's.
    # The thread's own connection object: `django.db.connection` is one proxy for every
    # thread, and a set kept on it let one thread's commit rebuild another's referral
    # before that one committed (reading no referral, then deleting its new fact).
    return transaction.get_connection().__dict__.setdefault("refloop_stale_facts", set())


def mark_stale(referral_id: int) -> None:
    """Rebuild this referral's facts once the current transaction commits. However many
    events a transaction appends, the first callback to run rebuilds them all and the
    rest find nothing left. (Ids of a rolled-back transaction are rebuilt with the next
    one's, which reads what is committed and so changes nothing.) `robust`: a failed
    rebuild is logged and left to the catch-up job; the change itself has committed."""
    _pending().add(referral_id)
    transaction.on_commit(_flush, robust=True)


def event_recorded(event: ReferralEvent) -> None:
    """The reaction to every timeline event, run inside the transaction that recorded it."""
    mark_stale(event.referral_id)


def _flush() -> None:
    pending = _pending()
    ids = list(pending)
    pending.clear()
    rebuild(ids)


def referral_created(referral: Referral, events: list[ReferralEvent]) -> None:
    """The fact of an inbound referral created in the current transaction, from the values in
    hand, written by one statement there (the rebuild after commit read it back through nine).

    Call only where it was just created with `events` (refloop.referrals.services): it has
    no appointments and no other events yet, so its fact is what `rebuild` would write. Its
    patient-level columns come from the patient's other facts in the same statement: not
    the patient's first inbound referral (an earlier fact exists), or the first and only
    one (value 0: no visits yet). Otherwise, a referral backdated before the patient's
    first, the older first would have to give up its mark and value: nothing is written
    and the rebuild after commit (queued by the events) does it. Any event recorded later
    in the transaction queues the rebuild again.

    Two intakes of one patient in flight at once on PostgreSQL would each see no earlier
    fact and both be marked first: there the patient key's advisory lock is taken first and
    held to commit, so the second waits and its statement, with a snapshot taken after, sees
    the first's fact. (SQLite runs one write transaction at a time.)"""
    if referral.direction != Direction.INBOUND or not connection.in_atomic_block:
        return
    patient = referral.patient
    provider = referral.referring_provider if referral.referring_provider_id else None
    row = {name: getattr(referral, name) for name in REFERRAL_FIELDS if "__" not in name}
    row["referring_provider__npi"] = provider.npi if provider is not None else None
    row["patient__name_key"] = patient.name_key
    row["patient__birth_key"] = patient.birth_key
    moves = sorted(
        ((e.from_state, e.to_state, e.at) for e in events if e.to_state),
        key=lambda move: move[2],
    )
    fact = _referral_fact(row, moves, [], Organization.current().zone)

    sql, adapters, defaults = _in_hand_statement(connection.vendor)
    filled = defaults | fact
    key = fact["patient_key"]
    params = [
        key if name in _PATIENT_COLUMNS else adapt(filled[name]) if adapt else filled[name]
        for name, adapt in adapters
    ]
    at = (
        _sqlite_datetime(fact["received_at"])
        if connection.vendor == "sqlite"
        else fact["received_at"]
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_lock_id(key)])
        cursor.execute(sql, [*params, key, key, at, at, referral.pk])
        written = cursor.rowcount == 1
    if written:
        _pending().discard(referral.pk)


def _lock_id(key: str) -> int:
    """The patient key's advisory lock number: its first 64 bits, as PostgreSQL's signed bigint
    (the key is a keyed hash: collisions between patients are as rare as they come)."""
    return int(key[:16], 16) - (1 << 63)


# Computed from the patient's other facts by the in-hand statement, each from the patient key.
_PATIENT_COLUMNS = ("first_of_patient", "patient_value")


@functools.cache
def _in_hand_statement(vendor: str) -> tuple[str, list, dict[str, Any]]:
    """`referral_created`'s INSERT, each column's adapter and the fields' defaults, built once
    per database kind (quoting and adapting forty-odd columns was a third of its time).
    Its parameters: each column's value (the patient key for _PATIENT_COLUMNS), then the
    patient key twice, the received time twice and the referral's id."""
    table = ReferralFact._meta.db_table
    same = f"SELECT 1 FROM {table} o WHERE o.patient_key = %s AND o.direction = 'inbound'"  # noqa: S608 (our table; values are parameters)
    earlier = f"{same} AND (o.received_at < %s OR (o.received_at = %s AND o.referral_id < %s))"
    computed = {
        "first_of_patient": f"NOT EXISTS ({same})",
        "patient_value": f"CASE WHEN EXISTS ({same}) THEN NULL ELSE 0 END",
    }
    adapters = _adapters(ReferralFact)
    selected = ", ".join(computed.get(name, "%s") for name, _ in adapters)
    sql = (
        f"INSERT INTO {table} ({_columns(ReferralFact)}) SELECT {selected}"  # noqa: S608
        f" WHERE NOT EXISTS ({same}) OR EXISTS ({earlier})"
    )
    defaults = {f.attname: f.get_default() for f in ReferralFact._meta.concrete_fields}
    return sql, adapters, defaults


def _hours(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds() / HOUR


def _month(at: datetime, zone) -> int:
    local = at.astimezone(zone)
    return local.year * 100 + local.month


def _walk(received_at: datetime, moves: list[tuple[str, str, datetime]]) -> dict:
    """Reached states, completed time per open state, no-shows and the stage before a
    loss, from the transitions in time order."""
    reached = REACHED_BIT["received"]
    dwell: dict[str, float] = {}
    current, since = "received", received_at
    no_shows = 0
    lost_stage = ""
    for from_state, to_state, at in moves:
        if to_state == "received":
            continue
        state_from = from_state or current
        if state_from in DWELL_STATES:
            dwell[state_from] = dwell.get(state_from, 0.0) + (at - since).total_seconds() / HOUR
        reached |= REACHED_BIT.get(to_state, 0)
        if to_state == "no_show":
            no_shows += 1
        if to_state in LOST_STATES:
            lost_stage = state_from
        current, since = to_state, at
    return {"reached": reached, "dwell": dwell, "no_shows": no_shows, "lost_stage": lost_stage}


def _referral_fact(row: dict, moves, appointments: list[dict], zone) -> dict:
    """The fact row's values by attribute name (plain dicts: building model instances
    was a third of a rebuild's time)."""
    received = row["received_at"]
    walked = _walk(received, moves) if row["direction"] == Direction.INBOUND else None
    first_appointment = min(appointments, key=lambda a: (a["starts_at"], a["id"]), default=None)
    loop_closed_at = row["closed_at"] if row["state"] == "loop_closed" else None
    fact = dict(
        referral_id=row["id"],
        version=row["version"],
        direction=row["direction"],
        received_at=received,
        received_month=_month(received, zone),
        state=row["state"],
        state_since=row["state_changed_at"],
        department_id=row["department_id"],
        location_id=first_appointment["location_id"] if first_appointment else None,
        source_type=row["source_type"],
        channel=row["channel"],
        urgency=row["urgency"],
        practice_id=row["referring_practice_id"],
        provider_id=row["referring_provider_id"],
        provider_npi=row["referring_provider__npi"] or "",
        assignee_id=row["assignee_id"],
        receiving_practice_id=row["receiving_practice_id"],
        receiving_in_network=row["receiving_in_network"],
        sent_at=row["sent_at"],
        first_contact_hours=_hours(received, row["first_contact_at"]),
        schedule_hours=_hours(received, row["first_scheduled_at"]),
        appointment_hours=_hours(received, first_appointment["starts_at"])
        if first_appointment
        else None,
        seen_at=row["seen_at"],
        loop_closed_at=loop_closed_at,
        report_hours=_hours(row["seen_at"], loop_closed_at),
        lost_reason=row["end_reason"] if row["state"] in LOST_STATES else "",
        patient_key=patient_key(row["patient__name_key"], row["patient__birth_key"]),
    )
    if walked is not None:
        fact["reached"] = walked["reached"]
        fact["no_shows"] = walked["no_shows"]
        fact["lost_stage"] = walked["lost_stage"] if row["state"] in LOST_STATES else ""
        for state, hours in walked["dwell"].items():
            fact[f"dwell_{state}"] = hours
    return fact


REFERRAL_FIELDS = (
    "id",
    "version",
    "direction",
    "state",
    "state_changed_at",
    "received_at",
    "department_id",
    "source_type",
    "channel",
    "urgency",
    "referring_practice_id",
    "referring_provider_id",
    "referring_provider__npi",
    "assignee_id",
    "receiving_practice_id",
    "receiving_in_network",
    "sent_at",
    "first_contact_at",
    "first_scheduled_at",
    "seen_at",
    "closed_at",
    "end_reason",
    "patient__name_key",
    "patient__birth_key",
)
_REFERRAL_TIMES = (
    "state_changed_at",
    "received_at",
    "sent_at",
    "first_contact_at",
    "first_scheduled_at",
    "seen_at",
    "closed_at",
)
APPOINTMENT_FIELDS = (
    "id",
    "referral_id",
    "starts_at",
    "outcome",
    "visit_value",
    "department_id",
    "location_id",
)


def _by_ids(sql: str, ids: list[int], *, span: bool = False) -> list[tuple]:
    """Run `sql`, whose `{ids}` stands for `column IN (the ids)`; its rows, if any. Plain
    SQL, not the ORM: a 2,000-id `__in` lookup and the ORM's per-value datetime conversion
    were over half of a rebuild's time. `span`: `{ids}` is `column BETWEEN` the first and
    the last id instead (a full rebuild's sorted chunk of every referral: one index range
    read, not a look-up per id); the caller keeps only the rows of its ids."""
    if span:
        where, params = "BETWEEN %s AND %s", [ids[0], ids[-1]]
    else:
        where, params = f"IN ({', '.join(['%s'] * len(ids))})", ids
    with connection.cursor() as cursor:
        cursor.execute(sql.format(ids=where), params)
        return cursor.fetchall() if cursor.description else []


def _utc(value: datetime | None) -> datetime | None:
    """A datetime column's value, aware: SQLite's driver gives naive UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _amount(value) -> Decimal | None:
    """A decimal column's value: SQLite's driver gives a number, PostgreSQL's a Decimal."""
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(str(value))


def _read(
    ids: list[int], *, span: bool = False
) -> tuple[list[dict], dict[int, list], dict[int, list[dict]]]:
    """The referrals (merged duplicates left out), their transitions in time order and
    their appointments, of a chunk of ids (sorted; `span`: see `_by_ids`)."""
    wanted = set(ids)
    referral = Referral._meta.db_table
    patient = Patient._meta.db_table
    provider = Provider._meta.db_table
    own = [f"r.{name}" for name in REFERRAL_FIELDS if "__" not in name]
    columns = own[:12] + ["v.npi"] + own[12:] + ["p.name_key", "p.birth_key"]
    rows = []
    for values in _by_ids(
        f"SELECT {', '.join(columns)} FROM {referral} r"  # noqa: S608 (our names; ids are parameters)
        f" JOIN {patient} p ON p.id = r.patient_id"
        f" LEFT JOIN {provider} v ON v.id = r.referring_provider_id"
        f" WHERE r.id {{ids}} AND r.merged_into_id IS NULL",
        ids,
        span=span,
    ):
        if values[0] not in wanted:
            continue  # a referral that committed after the full rebuild listed them
        row = dict(zip(REFERRAL_FIELDS, values, strict=True))
        for name in _REFERRAL_TIMES:
            row[name] = _utc(row[name])
        rows.append(row)
    moves: dict[int, list] = defaultdict(list)
    for referral_id, from_state, to_state, at in _by_ids(
        f"SELECT referral_id, from_state, to_state, at FROM {ReferralEvent._meta.db_table}"  # noqa: S608
        f" WHERE referral_id {{ids}} AND to_state <> '' ORDER BY referral_id, at, id",
        ids,
        span=span,
    ):
        if referral_id in wanted:
            moves[referral_id].append((from_state, to_state, _utc(at)))
    appointments: dict[int, list[dict]] = defaultdict(list)
    for values in _by_ids(
        f"SELECT {', '.join(APPOINTMENT_FIELDS)} FROM {Appointment._meta.db_table}"  # noqa: S608
        f" WHERE referral_id {{ids}}",
        ids,
        span=span,
    ):
        if values[1] not in wanted:
            continue
        appointment = dict(zip(APPOINTMENT_FIELDS, values, strict=True))
        appointment["starts_at"] = _utc(appointment["starts_at"])
        appointment["visit_value"] = _amount(appointment["visit_value"])
        appointments[appointment["referral_id"]].append(appointment)
    return rows, moves, appointments


def _rebuild_chunk(ids: list[int], zone, *, fresh: bool = False) -> set[str]:
    """`fresh`: the fact tables were emptied in this transaction and `ids` is a sorted chunk
    of every referral (a full rebuild): nothing to delete first, and read by id range."""
    rows, moves, appointments = _read(ids, span=fresh)
    return _write_chunk(ids, rows, moves, appointments, zone, fresh=fresh)


def _write_chunk(
    ids: list[int],
    rows: list[dict],
    moves: dict[int, list],
    appointments: dict[int, list[dict]],
    zone,
    *,
    fresh: bool,
) -> set[str]:
    """The facts of `ids` from their values (`_read`'s three parts), in place of any they
    had; the patient keys of the inbound ones."""
    facts = [
        _referral_fact(row, moves.get(row["id"], []), appointments.get(row["id"], []), zone)
        for row in rows
    ]
    appointment_facts = [
        {
            "appointment_id": a["id"],
            "referral_id": a["referral_id"],
            "starts_at": a["starts_at"],
            "outcome": a["outcome"],
            "visit_value": a["visit_value"],
            "department_id": a["department_id"] or fact["department_id"],
            "location_id": a["location_id"],
            "source_type": fact["source_type"],
            "channel": fact["channel"],
            "urgency": fact["urgency"],
            "practice_id": fact["practice_id"],
        }
        for fact in facts
        for a in appointments.get(fact["referral_id"], [])
    ]
    if not fresh:
        for model in (AppointmentFact, ReferralFact):
            _by_ids(f"DELETE FROM {model._meta.db_table} WHERE referral_id {{ids}}", ids)  # noqa: S608
    _insert(ReferralFact, facts)
    _insert(AppointmentFact, appointment_facts)
    return {fact["patient_key"] for fact in facts if fact["direction"] == Direction.INBOUND}


def _refresh_patients(keys: list[str] | None) -> None:
    """Mark each patient's first inbound referral and give it the patient's value to
    date (the attended visits of all their referrals); for these patients, or (None)
    for all, after a full rebuild has just written every row unmarked.

    Set-based SQL (UPDATE … FROM, SQLite 3.33+ and PostgreSQL): a full rebuild touches
    every patient, and row-by-row updates of a million facts would take minutes. Each
    first row is updated once: on PostgreSQL every update leaves a dead row behind, and
    two passes doubled the table a dashboard scans."""
    facts = ReferralFact._meta.db_table
    appointments = AppointmentFact._meta.db_table
    batches = [None] if keys is None else [keys[i : i + CHUNK] for i in range(0, len(keys), CHUNK)]
    with connection.cursor() as cursor:
        for batch in batches:
            where, params = "", []
            if batch is not None:
                where = f" AND patient_key IN ({', '.join(['%s'] * len(batch))})"
                params = list(batch)
                cursor.execute(
                    f"UPDATE {facts} SET first_of_patient = %s, patient_value = NULL "  # noqa: S608 (our table names; values are parameters)
                    f"WHERE direction = 'inbound' AND (first_of_patient OR patient_value IS NOT NULL)"
                    f"{where}",
                    [False, *params],
                )
            if batch is None:
                cursor.execute(
                    f"UPDATE {facts} SET first_of_patient = %s, patient_value = COALESCE(firsts.value, 0)"  # noqa: S608
                    f" FROM (SELECT ranked.referral_id AS referral_id, totals.value AS value FROM ("
                    f"  SELECT referral_id, patient_key, ROW_NUMBER() OVER ("
                    f"   PARTITION BY patient_key ORDER BY received_at, referral_id) AS nth"
                    f"  FROM {facts} WHERE direction = 'inbound') ranked"
                    f" LEFT JOIN (SELECT r.patient_key AS patient_key, SUM(a.visit_value) AS value"
                    f"  FROM {appointments} a JOIN {facts} r ON r.referral_id = a.referral_id"
                    f"  WHERE r.direction = 'inbound' AND a.outcome = 'attended'"
                    f"  AND a.visit_value IS NOT NULL"
                    f"  GROUP BY r.patient_key) totals ON totals.patient_key = ranked.patient_key"
                    f" WHERE ranked.nth = 1) firsts"
                    f" WHERE {facts}.referral_id = firsts.referral_id",
                    [True],
                )
                continue
            # A few patients (after a change or an import): their rows by the key index.
            cursor.execute(
                f"UPDATE {facts} SET first_of_patient = %s, patient_value = 0 WHERE referral_id IN ("  # noqa: S608
                f" SELECT referral_id FROM (SELECT referral_id, ROW_NUMBER() OVER ("
                f"  PARTITION BY patient_key ORDER BY received_at, referral_id) AS nth"
                f"  FROM {facts} WHERE direction = 'inbound'{where}) ranked"
                f" WHERE nth = 1)",
                [True, *params],
            )
            cursor.execute(
                f"UPDATE {facts} SET patient_value = totals.value FROM ("  # noqa: S608
                f" SELECT r.patient_key AS patient_key, SUM(a.visit_value) AS value"
                f" FROM {appointments} a JOIN {facts} r ON r.referral_id = a.referral_id"
                f" WHERE r.direction = 'inbound' AND a.outcome = 'attended'"
                f" AND a.visit_value IS NOT NULL{where.replace('patient_key', 'r.patient_key')}"
                f" GROUP BY r.patient_key) totals"
                f" WHERE {facts}.patient_key = totals.patient_key AND {facts}.first_of_patient",
                params,
            )


def _compact() -> None:
    """After a full rebuild on PostgreSQL: rewrite the fact table in received order and
    refresh the planner's statistics, so a period's rows sit together (a dashboard at a
    million referrals read a table half as large again without it)."""
    if connection.vendor != "postgresql":
        return
    by_received = ReferralFact._meta.indexes[0].name  # (direction, received_at)
    with connection.cursor() as cursor:
        # Only the table's owner may CLUSTER it; an app running as a runtime role that
        # does not own the tables (refloop.core.db_roles) leaves that to autovacuum.
        cursor.execute(
            "SELECT pg_has_role(relowner, 'USAGE') FROM pg_class WHERE oid = %s::regclass",
            [ReferralFact._meta.db_table],
        )
        if not cursor.fetchone()[0]:
            return
        # The facts' foreign-key checks are deferred to commit; CLUSTER wants none pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"CLUSTER {ReferralFact._meta.db_table} USING {by_received}")
        cursor.execute(f"ANALYZE {ReferralFact._meta.db_table}")
        cursor.execute(f"ANALYZE {AppointmentFact._meta.db_table}")


def _sqlite_datetime(value: datetime | None) -> str | None:
    """What Django's SQLite backend stores for an aware datetime (naive UTC text), without
    its per-value settings checks; PostgreSQL's driver takes the datetime as it is."""
    if value is None:
        return None
    return str(value.astimezone(UTC).replace(tzinfo=None))


def _decimal_adapter(ops, field) -> Callable[[Any], Any]:
    return lambda value: ops.adapt_decimalfield_value(value, field.max_digits, field.decimal_places)


def _adapters(model) -> list[tuple[str, Callable[[Any], Any] | None]]:
    """Each concrete field's attribute name and how its value goes to the driver (None: as
    it is), in the table's column order."""
    ops = connection.ops
    adapters: list[tuple[str, Callable[[Any], Any] | None]] = []
    for f in model._meta.concrete_fields:
        if f.get_internal_type() == "DateTimeField":
            adapters.append(
                (f.attname, _sqlite_datetime if connection.vendor == "sqlite" else None)
            )
        elif f.get_internal_type() == "DecimalField":
            adapters.append((f.attname, _decimal_adapter(ops, f)))
        else:
            adapters.append((f.attname, None))
    return adapters


def _columns(model) -> str:
    """The concrete fields' columns, quoted, in the order `_adapters` gives their values."""
    return ", ".join(connection.ops.quote_name(f.column) for f in model._meta.concrete_fields)


def _insert(model, rows: list[dict]) -> None:
    """Write the rows (values by attribute name; a missing one takes the field's default)
    with executemany, or COPY on PostgreSQL: bulk_create compiles SQL per object, which
    made it most of a rebuild's time."""
    if not rows:
        return
    fields = model._meta.concrete_fields
    defaults = {f.attname: f.get_default() for f in fields}
    adapters = _adapters(model)
    columns = _columns(model)
    sql = (
        f"INSERT INTO {model._meta.db_table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"  # noqa: S608
    )
    values = []
    for row in rows:
        filled = defaults | row
        values.append([adapt(filled[name]) if adapt else filled[name] for name, adapt in adapters])
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.executemany(sql, values)
            return
        # COPY: a full rebuild's million rows go in a fraction of the INSERTs' time.
        with cursor.cursor.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy:
            for line in values:
                copy.write_row(line)


def rebuild(
    referral_ids: Iterable[int],
    *,
    progress: Callable[[int, int], None] | None = None,
    everything: bool = False,
) -> int:
    """Write the facts of these referrals (and of their patients' other referrals'
    first-referral marks). Merged duplicates get none. Returns how many were written.
    `everything`: these are all the referrals and the fact tables were emptied in the
    enclosing transaction (`rebuild_all`)."""
    ids = sorted(set(referral_ids))
    if not ids:
        return 0
    zone = Organization.current().zone
    keys: set[str] = set()
    chunk = FULL_CHUNK if everything else CHUNK
    with transaction.atomic():
        for start in range(0, len(ids), chunk):
            keys |= _rebuild_chunk(ids[start : start + chunk], zone, fresh=everything)
            if progress is not None:
                progress(min(start + chunk, len(ids)), len(ids))
        if everything:
            _analyze()
        _refresh_patients(None if everything else sorted(keys))
    return len(ids)


def rebuild_in_hand(
    referrals: list[dict], moves: dict[int, list], appointments: dict[int, list[dict]]
) -> int:
    """What `rebuild` of these referrals writes, from the values a loader has just written
    (the history import) instead of reading them back, which was a third of an import.

    `referrals`: each one's values by REFERRAL_FIELDS name, times aware; `moves`: by id,
    its transitions (from_state, to_state, at), in the order `rebuild` reads them (by time,
    then as written); `appointments`: by id, each by APPOINTMENT_FIELDS name. Returns how
    many were written."""
    if not referrals:
        return 0
    ids = sorted(row["id"] for row in referrals)
    with transaction.atomic():
        keys = _write_chunk(
            ids, referrals, moves, appointments, Organization.current().zone, fresh=False
        )
        _refresh_patients(sorted(keys))
    return len(referrals)


def _analyze() -> None:
    """PostgreSQL's planner statistics for the facts just written (ANALYZE counts this
    transaction's own rows). After a restore they described empty tables, the set-based
    update in `_refresh_patients` was planned as nested loops over them, and it ran for
    over six minutes at 50,000 referrals."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {ReferralFact._meta.db_table}, {AppointmentFact._meta.db_table}")


def rebuild_all(*, progress: Callable[[int, int], None] | None = None) -> int:
    """Every referral's facts, from scratch (after a restore, or by `refloop analytics
    rebuild`)."""
    with transaction.atomic():
        AppointmentFact.objects.all().delete()
        ReferralFact.objects.all().delete()
        ids = list(Referral.objects.order_by("pk").values_list("pk", flat=True))
        written = rebuild(ids, progress=progress, everything=True)
        _compact()
    return written


def stale_ids(limit: int = 10_000) -> list[int]:
    """Referrals whose facts are missing or older than the referral (a change that
    committed while its rebuild failed, or data loaded around the services)."""
    missing = Referral.objects.filter(fact__isnull=True, merged_into__isnull=True)
    behind = Referral.objects.filter(fact__isnull=False).exclude(fact__version=F("version"))
    merged = Referral.objects.filter(fact__isnull=False, merged_into__isnull=False)
    ids: list[int] = []
    for qs in (missing, behind, merged):
        ids.extend(qs.values_list("pk", flat=True)[: limit - len(ids)])
        if len(ids) >= limit:
            break
    return ids


def catch_up() -> int:
    """The worker's repair job: rebuild whatever `stale_ids` finds."""
    ids = stale_ids()
    if ids:
        log.info("analytics: rebuilding %d stale referral facts", len(ids))
    return rebuild(ids)
