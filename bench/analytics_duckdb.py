"""The analytics benchmark's reference: docs/design.md's metrics written again in DuckDB SQL over
the same fact rows (exported to CSV, loaded into an in-memory DuckDB), so the benchmark can
say how far refloop is from what a columnar engine does with the same data, and check that
both give the same answers.

Nothing here calls refloop's metric code: the SQL is written from the definitions, over the
fact columns. Only the SLA hours (a setting) and names for the Sankey come from refloop's
tables. Sentences and notes are wording and are not compared, their figures are; the one
exception is the bottleneck finder's changes (its rank tests over every day, group and
measure), which are not recomputed: a run that finds any says so (`unchecked`).
"""

import csv
import datetime as dt
import math
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

FUNNEL_STATES = (
    "received",
    "in_review",
    "pending_info",
    "accepted",
    "contacting",
    "scheduled",
    "no_show",
    "seen",
    "loop_closed",
    "declined",
    "unreachable",
    "cancelled",
)
DWELL_STATES = FUNNEL_STATES[:8]
# The funnel's milestones (every referral on its way to a closed loop passes them, in this
# order) and the optional states taken between one and the next, by the one before.
MILESTONES = ("received", "accepted", "scheduled", "seen", "loop_closed")
DETOURS = {
    "in_review": "received",
    "pending_info": "received",
    "contacting": "accepted",
    "no_show": "scheduled",
}
LOST_STATES = ("declined", "unreachable", "cancelled")
REFERRED = ("provider", "patient")
SOURCE_ORDER = ("provider", "patient", "self", "marketing", "other")
CLOCKS = {
    "time_to_first_contact": "first_contact_hours",
    "time_to_schedule": "schedule_hours",
    "time_to_appointment": "appointment_hours",
}
STAGE_COLUMNS = (
    ("first_contact", "first_contact_hours"),
    ("in_review", "dwell_in_review"),
    ("pending_info", "dwell_pending_info"),
    ("accepted", "dwell_accepted"),
    ("contacting", "dwell_contacting"),
    ("scheduled", "dwell_scheduled"),
    ("seen", "dwell_seen"),
)
SANKEY_PRACTICES = 12
SEGMENTS = ("loyal", "semi_loyal", "new", "non_referring", "receiver")

# The fact columns the reference reads, with their DuckDB types. Booleans travel as 0/1
# and instants as naive UTC text, the same from both databases.
REFERRAL_FACT = (
    ("referral_id", "BIGINT"),
    ("direction", "VARCHAR"),
    ("received_at", "TIMESTAMP"),
    ("received_month", "INTEGER"),
    ("state", "VARCHAR"),
    ("department_id", "BIGINT"),
    ("location_id", "BIGINT"),
    ("source_type", "VARCHAR"),
    ("channel", "VARCHAR"),
    ("urgency", "VARCHAR"),
    ("practice_id", "BIGINT"),
    ("provider_npi", "VARCHAR"),
    ("assignee_id", "BIGINT"),
    ("receiving_practice_id", "BIGINT"),
    ("receiving_in_network", "INTEGER"),
    ("sent_at", "TIMESTAMP"),
    ("first_contact_hours", "DOUBLE"),
    ("schedule_hours", "DOUBLE"),
    ("appointment_hours", "DOUBLE"),
    ("seen_at", "TIMESTAMP"),
    ("loop_closed_at", "TIMESTAMP"),
    ("report_hours", "DOUBLE"),
    ("reached", "BIGINT"),
    ("no_shows", "INTEGER"),
    ("lost_stage", "VARCHAR"),
    ("lost_reason", "VARCHAR"),
    *((f"dwell_{state}", "DOUBLE") for state in DWELL_STATES),
    ("patient_key", "VARCHAR"),
    ("first_of_patient", "INTEGER"),
    ("patient_value", "DECIMAL(12,2)"),
)
APPOINTMENT_FACT = (
    ("appointment_id", "BIGINT"),
    ("referral_id", "BIGINT"),
    ("starts_at", "TIMESTAMP"),
    ("outcome", "VARCHAR"),
    ("visit_value", "DECIMAL(10,2)"),
    ("department_id", "BIGINT"),
    ("location_id", "BIGINT"),
    ("source_type", "VARCHAR"),
    ("channel", "VARCHAR"),
    ("urgency", "VARCHAR"),
    ("practice_id", "BIGINT"),
)
PRACTICE = (("id", "BIGINT"), ("name", "VARCHAR"), ("in_network", "INTEGER"))
# Text columns that are never null in refloop: a CSV cannot tell '' from NULL.
NOT_NULL_TEXT = {
    "direction",
    "state",
    "source_type",
    "channel",
    "urgency",
    "provider_npi",
    "lost_stage",
    "lost_reason",
    "patient_key",
    "outcome",
    "name",
}


# --- export ---------------------------------------------------------------------------


def _select(columns, table: str, postgres: bool, renames: dict[str, str] | None = None) -> str:
    parts = []
    for name, kind in columns:
        column = (renames or {}).get(name, name)
        if kind == "TIMESTAMP" and postgres:
            parts.append(f"({column} AT TIME ZONE 'UTC') AS {name}")
        elif (
            kind == "INTEGER"
            and postgres
            and name in ("receiving_in_network", "first_of_patient", "in_network")
        ):
            parts.append(f"{column}::int AS {name}")
        else:
            parts.append(f"{column} AS {name}")
    return f"SELECT {', '.join(parts)} FROM {table}"  # noqa: S608


def export(folder: Path) -> dict:
    """Write the two fact tables and the practice directory to CSV files with Django's
    connection (PostgreSQL: COPY … TO STDOUT, streamed; SQLite: Python's csv)."""
    from django.db import connection

    from refloop.analytics.models import AppointmentFact, ReferralFact
    from refloop.network.models import Practice

    postgres = connection.vendor == "postgresql"
    started = time.perf_counter()
    jobs = {
        "referral_fact": (
            REFERRAL_FACT,
            ReferralFact._meta.db_table,
            {"department_id": "department_id"},
        ),
        "appointment_fact": (APPOINTMENT_FACT, AppointmentFact._meta.db_table, None),
        "practice": (PRACTICE, Practice._meta.db_table, None),
    }
    sizes = {}
    for name, (columns, table, renames) in jobs.items():
        path = folder / f"{name}.csv"
        query = _select(columns, table, postgres, renames)
        with connection.cursor() as cursor:
            if postgres:
                with open(path, "wb") as out:
                    with cursor.cursor.copy(f"COPY ({query}) TO STDOUT WITH CSV HEADER") as copy:
                        for block in copy:
                            out.write(block)
            else:
                cursor.execute(query)
                # SQLite hands back booleans as True/False (Django's converters) and
                # decimals as floats: write them as PostgreSQL's COPY would.
                fix = {
                    i: _decimal if kind.startswith("DECIMAL") else int
                    for i, (_, kind) in enumerate(columns)
                    if kind.startswith("DECIMAL") or kind == "INTEGER"
                }
                with open(path, "w", newline="") as out:
                    writer = csv.writer(out)
                    writer.writerow([c for c, _ in columns])
                    while rows := cursor.fetchmany(20_000):
                        for row in rows:
                            row = list(row)
                            for i, convert in fix.items():
                                if row[i] is not None:
                                    row[i] = convert(row[i])
                            writer.writerow(row)
        sizes[name] = path.stat().st_size
    return {"seconds": time.perf_counter() - started, "bytes": sizes}


def _decimal(value) -> str:
    return str(Decimal(str(value)).quantize(Decimal("0.01")))


class Reference:
    """An in-memory DuckDB holding the exported facts, and the dashboard's figures in SQL."""

    def __init__(self, folder: Path) -> None:
        import duckdb

        started = time.perf_counter()
        self.db = duckdb.connect(":memory:")
        for name, columns in (
            ("referral_fact", REFERRAL_FACT),
            ("appointment_fact", APPOINTMENT_FACT),
            ("practice", PRACTICE),
        ):
            spec = ", ".join(f"'{c}': '{t}'" for c, t in columns)
            select = ", ".join(
                f"coalesce({c}, '') AS {c}" if c in NOT_NULL_TEXT else c for c, _ in columns
            )
            self.db.execute(
                f"CREATE TABLE {name} AS SELECT {select} FROM read_csv("  # noqa: S608
                f"'{folder / (name + '.csv')}', header = true, columns = {{{spec}}})"
            )
        self.rows = {
            name: self.db.execute(f"SELECT count(*) FROM {name}").fetchone()[0]  # noqa: S608
            for name in ("referral_fact", "appointment_fact", "practice")
        }
        self.load_seconds = time.perf_counter() - started

    def all(self, sql: str, params: list | None = None) -> list[tuple]:
        return self.db.execute(sql, params or []).fetchall()


# --- periods -------------------------------------------------------------------------


def shift_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` calendar months earlier, or that month's last day."""
    import calendar

    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def utc(day: dt.date, zone, minus_days: int = 0) -> dt.datetime:
    """Local midnight of `day` (less some local days) as a naive UTC instant."""
    local = dt.datetime.combine(day, dt.time(), tzinfo=zone) - dt.timedelta(days=minus_days)
    return local.astimezone(dt.UTC).replace(tzinfo=None)


class Window:
    """One scope: [start, end) local dates, an optional department, the practice's zone,
    and the instant the figures are as of (`now`: what the data covers ends today)."""

    def __init__(
        self,
        start: dt.date,
        end: dt.date,
        zone,
        department: int | None,
        now: dt.datetime | None = None,
    ) -> None:
        self.start_day, self.end_day, self.zone, self.department = start, end, zone, department
        self.start, self.end = utc(start, zone), utc(end, zone)
        self.now = now or dt.datetime.now(dt.UTC)

    def previous(self) -> "Window":
        days = (self.end_day - self.start_day).days
        return Window(
            self.start_day - dt.timedelta(days=days),
            self.start_day,
            self.zone,
            self.department,
            self.now,
        )

    def months(self) -> list[int]:
        months, cursor = [], self.start_day.replace(day=1)
        last = self.end_day - dt.timedelta(days=1)
        while (cursor.year, cursor.month) <= (last.year, last.month):
            months.append(cursor.year * 100 + cursor.month)
            cursor = (cursor + dt.timedelta(days=32)).replace(day=1)
        return months

    def cohort(self, alias: str = "") -> tuple[str, list]:
        """WHERE clause of inbound referrals received in the window (and department)."""
        a = f"{alias}." if alias else ""
        sql = f"{a}direction = 'inbound' AND {a}received_at >= ? AND {a}received_at < ?"
        params: list = [self.start, self.end]
        if self.department:
            sql += f" AND {a}department_id = ?"
            params.append(self.department)
        return sql, params


# --- what the data covers (the comparison rule, the volume series' month labels) ----------

MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def data_span(ref: "Reference", w: Window) -> tuple[dt.date | None, dt.date]:
    """[first local day with a referral on record, in or out; tomorrow): the days the data
    covers, today counting to date."""
    first = ref.all("SELECT min(received_at) FROM referral_fact")[0][0]
    start = first.replace(tzinfo=dt.UTC).astimezone(w.zone).date() if first else None
    return start, w.now.astimezone(w.zone).date() + dt.timedelta(days=1)


def comparison(ref: "Reference", w: Window) -> dict:
    """A period is compared with the one before only when the data covers both whole."""
    start, end = data_span(ref, w)
    before = w.previous()
    return {
        "compared": start is not None and start <= before.start_day and w.end_day <= end,
        "data_from": start,
        "previous_start": before.start_day,
        "previous_end": before.end_day,
    }


def month_periods(ref: "Reference", w: Window) -> list[dict]:
    """Per month the window touches: the days both the window and the data cover, whether
    that is less than the month, and its label ("Nov 2025 (from 21 Nov)")."""
    data_start, data_end = data_span(ref, w)
    rows = []
    for yyyymm in w.months():
        year, month = divmod(yyyymm, 100)
        first = dt.date(year, month, 1)
        after = dt.date(year + 1, 1, 1) if month == 12 else dt.date(year, month + 1, 1)
        name = f"{MONTH_NAMES[month - 1]} {year}"
        lo = max(first, w.start_day, data_start) if data_start else None
        hi = min(after, w.end_day, data_end)
        if lo is None or lo >= hi:
            rows.append(
                {
                    "month": yyyymm,
                    "label": f"{name} (no data)",
                    "partial": True,
                    "counted_from": None,
                    "counted_to": None,
                }
            )
            continue
        last = hi - dt.timedelta(days=1)
        if (lo, hi) == (first, after):
            label = name
        elif lo == first:
            label = f"{name} (to {last.day} {MONTH_NAMES[last.month - 1]})"
        elif hi == after:
            label = f"{name} (from {lo.day} {MONTH_NAMES[lo.month - 1]})"
        else:
            label = f"{name} ({lo.day}\u2013{last.day} {MONTH_NAMES[last.month - 1]})"
        rows.append(
            {
                "month": yyyymm,
                "label": label,
                "partial": (lo, hi) != (first, after),
                "counted_from": lo,
                "counted_to": hi,
            }
        )
    return rows


def _rate(part, whole):
    return part / whole if whole else None


def _f(value):
    """DuckDB decimals and numbers as refloop reports them."""
    if isinstance(value, Decimal):
        return float(value)
    return value


# --- the metrics (metrics.compute and metrics.funnel) --------------------------------


def overall(ref: Reference, w: Window) -> dict:
    """One pass over the cohort: volume, reached per state, the clocks, the dwell medians."""
    where, params = w.cohort()
    parts = ["count(*) AS volume"]
    for i, state in enumerate(FUNNEL_STATES):
        parts.append(f"sum((reached >> {i}) & 1) AS reached_{state}")
    for column in CLOCKS.values():
        parts.append(f"count({column}), quantile_cont({column}, [0.5, 0.9])")
    for state in DWELL_STATES:
        parts.append(f"count(dwell_{state}), quantile_cont(dwell_{state}, 0.5)")
    row = ref.all(f"SELECT {', '.join(parts)} FROM referral_fact WHERE {where}", params)[0]  # noqa: S608
    result = {"volume": row[0]}
    for i, state in enumerate(FUNNEL_STATES):
        result[f"reached_{state}"] = int(row[1 + i] or 0)
    at = 1 + len(FUNNEL_STATES)
    for column in CLOCKS.values():
        count, qs = row[at], row[at + 1]
        result[column] = {
            "count": count,
            "p50": qs[0] if qs else None,
            "p90": qs[1] if qs else None,
        }
        at += 2
    for state in DWELL_STATES:
        result[f"dwell_{state}"] = {"count": row[at], "p50": row[at + 1]}
        at += 2
    return result


def show_rate(ref: Reference, w: Window) -> dict:
    sql = (
        "SELECT source_type IN ('provider', 'patient') AS referred, outcome, count(*) "
        "FROM appointment_fact WHERE starts_at >= ? AND starts_at < ? "
        "AND outcome IN ('attended', 'no_show')"
    )
    params: list = [w.start, w.end]
    if w.department:
        sql += " AND department_id = ?"
        params.append(w.department)
    groups = {
        "referred": {"attended": 0, "no_show": 0},
        "non_referred": {"attended": 0, "no_show": 0},
    }
    for referred, outcome, n in ref.all(sql + " GROUP BY ALL", params):
        groups["referred" if referred else "non_referred"][outcome] += n
    for counts in groups.values():
        counts["rate"] = _rate(counts["attended"], counts["attended"] + counts["no_show"])
    return groups


def loop_closure(ref: Reference, w: Window) -> dict:
    sql = (
        "SELECT count(*), count_if(report_hours <= 168) FROM referral_fact "
        "WHERE direction = 'inbound' AND seen_at >= ? AND seen_at < ?"
    )
    params: list = [w.start, w.end]
    if w.department:
        sql += " AND department_id = ?"
        params.append(w.department)
    seen, closed = ref.all(sql, params)[0]
    return {"seen": seen, "closed_within_7_days": closed, "rate": _rate(closed, seen)}


def leakage(ref: Reference, w: Window) -> dict:
    sql = (
        "SELECT f.receiving_practice_id, p.name, f.receiving_in_network, count(*) AS n "
        "FROM referral_fact f LEFT JOIN practice p ON p.id = f.receiving_practice_id "
        "WHERE f.direction = 'outbound' AND f.sent_at >= ? AND f.sent_at < ?"
    )
    params: list = [w.start, w.end]
    if w.department:
        sql += " AND f.department_id = ?"
        params.append(w.department)
    rows = ref.all(sql + " GROUP BY ALL ORDER BY n DESC, p.name", params)
    total = sum(r[3] for r in rows)
    out = sum(r[3] for r in rows if r[2] == 0)
    return {
        "sent": total,
        "out_of_network": out,
        "rate": _rate(out, total),
        "by_receiving_practice": [
            {
                "practice_id": pk,
                "practice": name or "(no practice)",
                "in_network": None if flag is None else bool(flag),
                "sent": n,
            }
            for pk, name, flag, n in rows
        ],
    }


def lost(ref: Reference, w: Window) -> dict:
    where, params = w.cohort()
    rows = ref.all(
        f"SELECT state, lost_reason, lost_stage, count(*) FROM referral_fact WHERE {where} "  # noqa: S608
        "AND state IN ('declined', 'unreachable', 'cancelled') GROUP BY ALL",
        params,
    )
    by_outcome = dict.fromkeys(LOST_STATES, 0)
    by_reason: dict[str, int] = defaultdict(int)
    by_stage: dict[str, int] = defaultdict(int)
    for state, reason, stage, n in rows:
        by_outcome[state] += n
        by_reason[reason or "not recorded"] += n
        by_stage[stage] += n
    return {
        "count": sum(by_outcome.values()),
        "by_outcome": by_outcome,
        "by_reason": dict(sorted(by_reason.items(), key=lambda item: -item[1])),
        "by_stage": {s: by_stage[s] for s in FUNNEL_STATES if s in by_stage},
    }


def concentration(ref: Reference, w: Window) -> dict:
    where, params = w.cohort()
    row = ref.all(
        f"""
        WITH per AS (
            SELECT provider_npi, count(*) AS n FROM referral_fact
            WHERE {where} AND provider_npi <> '' GROUP BY provider_npi
        ), ranked AS (
            SELECT n, row_number() OVER (ORDER BY n DESC, provider_npi) AS rank,
                   count(*) OVER () AS providers
            FROM per
        )
        SELECT count(*), ceil(0.2 * count(*))::BIGINT, coalesce(sum(n), 0),
               coalesce(sum(n) FILTER (WHERE rank <= ceil(0.2 * providers)), 0),
               list(n ORDER BY n DESC)
        FROM ranked
        """,  # noqa: S608
        params,
    )[0]
    providers, top, total, top_sum, ranked = row
    return {
        "providers": providers,
        "top_providers": int(top or 0),
        "referrals": int(total),
        "top_referrals": int(top_sum),
        "top_share": _rate(int(top_sum), int(total)),
        "ranked": list(ranked or []),
    }


def lifetime_value(ref: Reference, w: Window) -> dict:
    where, params = w.cohort()
    rows = ref.all(
        f"SELECT source_type, count(*), sum(patient_value) FROM referral_fact "  # noqa: S608
        f"WHERE {where} AND first_of_patient = 1 GROUP BY source_type",
        params,
    )
    by_source = {}
    for source, patients, value in sorted(rows, key=lambda r: SOURCE_ORDER.index(r[0])):
        value = value or Decimal("0")
        by_source[source] = {
            "patients": patients,
            "value": float(value),
            "value_per_patient": float(value) / patients if patients else None,
        }
    return {"by_source": by_source}


def metrics(ref: Reference, w: Window, found: dict | None = None) -> dict:
    found = found or overall(ref, w)
    result = {
        "volume": {"count": found["volume"]},
        "conversion": {
            "referrals": found["volume"],
            "seen": found["reached_seen"],
            "rate": _rate(found["reached_seen"], found["volume"]),
        },
    }
    for name, column in CLOCKS.items():
        result[name] = {
            "count": found[column]["count"],
            "median_hours": found[column]["p50"],
            "p90_hours": found[column]["p90"],
        }
    result["show_rate"] = show_rate(ref, w)
    result["loop_closure"] = loop_closure(ref, w)
    result["leakage"] = leakage(ref, w)
    result["lost"] = lost(ref, w)
    result["concentration"] = concentration(ref, w)
    result["lifetime_value"] = lifetime_value(ref, w)
    return result


def funnel(ref: Reference, w: Window, found: dict, lost_figures: dict) -> dict:
    where, params = w.cohort()
    now_in = dict(
        ref.all(f"SELECT state, count(*) FROM referral_fact WHERE {where} GROUP BY state", params)  # noqa: S608
    )
    rows = []
    for state in FUNNEL_STATES:
        entry = {
            "state": state,
            "reached": found[f"reached_{state}"],
            "lost_here": lost_figures["by_stage"].get(state, 0),
            "now_here": now_in.get(state, 0),
        }
        if state in DWELL_STATES:
            entry["median_dwell_hours"] = found[f"dwell_{state}"]["p50"]
            entry["left"] = found[f"dwell_{state}"]["count"]
        rows.append(entry)
    # The funnel proper, on the milestones every referral passes on its way to a closed
    # loop: a referral has passed every milestone up to the latest one it was ever in (a
    # history may skip one), and is lost after, or still on its way from, that latest one.
    latest = " ".join(
        f"WHEN (reached >> {FUNNEL_STATES.index(m)}) & 1 = 1 THEN {i}"
        for i, m in reversed(list(enumerate(MILESTONES)))
    )
    by_latest = ref.all(
        f"SELECT CASE {latest} ELSE 0 END AS latest, "  # noqa: S608
        f"state IN ('declined', 'unreachable', 'cancelled') AS gone, count(*) "
        f"FROM referral_fact WHERE {where} GROUP BY ALL",
        params,
    )
    milestones = []
    for i, milestone in enumerate(MILESTONES):
        entry = {
            "state": milestone,
            "reached": sum(n for at, _, n in by_latest if at >= i),
            "lost_here": sum(n for at, gone, n in by_latest if at == i and gone),
            "now_here": sum(n for at, gone, n in by_latest if at == i and not gone),
        }
        if milestone in DWELL_STATES:
            entry["median_dwell_hours"] = found[f"dwell_{milestone}"]["p50"]
            entry["left"] = found[f"dwell_{milestone}"]["count"]
        milestones.append(entry)
    passed = {entry["state"]: entry["reached"] for entry in milestones}
    state_rows = {entry["state"]: entry for entry in rows}
    detours = [
        {
            **state_rows[state],
            "after": after,
            "share": _rate(state_rows[state]["reached"], passed[after]),
        }
        for state, after in DETOURS.items()
    ]
    return {
        "referrals": found["volume"],
        "states": rows,
        "milestones": milestones,
        "detours": detours,
    }


# --- the rest of the dashboard --------------------------------------------------------


def volume_series(ref: Reference, w: Window, by: str) -> dict:
    where, params = w.cohort()
    months = w.months()
    index = {m: i for i, m in enumerate(months)}
    series: dict[str, list[int]] = defaultdict(lambda: [0] * len(months))
    for month, key, n in ref.all(
        f"SELECT received_month, {by}, count(*) FROM referral_fact WHERE {where} GROUP BY ALL",  # noqa: S608
        params,
    ):
        if month in index:
            series[key][index[month]] = n
    periods = month_periods(ref, w)
    return {
        "months": months,
        "labels": [p["label"] for p in periods],
        "periods": periods,
        "series": dict(sorted(series.items())),
    }


def sla(ref: Reference, w: Window, sla_hours: dict[str, float]) -> dict:
    where, params = w.cohort()
    found = {
        row[0]: row[1:]
        for row in ref.all(
            f"""
            SELECT urgency, count(first_contact_hours),
                   quantile_cont(first_contact_hours, [0.5, 0.9]),
                   quantile_cont(appointment_hours, [0.5, 0.9]), count(appointment_hours),
                   count_if(first_contact_hours <= CASE urgency WHEN 'stat' THEN ?
                            WHEN 'urgent' THEN ? WHEN 'routine' THEN ? END)
            FROM referral_fact WHERE {where} GROUP BY urgency
            """,  # noqa: S608
            [sla_hours["stat"], sla_hours["urgent"], sla_hours["routine"], *params],
        )
    }
    rows = []
    for urgency, target in sla_hours.items():
        contacted, contact, visit, appointments, within = found.get(urgency, (0, None, None, 0, 0))
        rows.append(
            {
                "urgency": urgency,
                "sla_hours": target,
                "contacted": contacted,
                "appointments": appointments,
                "within_sla": within if contacted else 0,
                "median_hours_to_first_contact": contact[0] if contact else None,
                "p90_hours_to_first_contact": contact[1] if contact else None,
                "median_hours_to_appointment": visit[0] if visit else None,
                "p90_hours_to_appointment": visit[1] if visit else None,
            }
        )
    return {"by_urgency": rows}


def lost_by_stage(ref: Reference, w: Window) -> dict[str, int]:
    where, params = w.cohort()
    return dict(
        ref.all(
            f"SELECT lost_stage, count(*) FROM referral_fact WHERE {where} "  # noqa: S608
            "AND lost_stage <> '' GROUP BY lost_stage",
            params,
        )
    )


def bottlenecks(ref: Reference, w: Window, now_found: dict, compared: bool) -> dict:
    """The bottleneck finder's figures: each stage's median wait in the period and, when
    the data covers both periods, in the one before; the longest; losses by stage, now and
    before. Its changes (rank tests over every day, group and measure) are not recomputed
    here: see `unchecked`."""
    before_found = overall(ref, w.previous()) if compared else None
    stages = []
    for key, column in STAGE_COLUMNS:
        now = now_found[column]
        before = before_found[column] if before_found else {"count": 0, "p50": None}
        stages.append(
            {
                "stage": key,
                "count": now["count"],
                "median_hours": now["p50"],
                "previous_count": before["count"],
                "previous_median_hours": before["p50"],
            }
        )
    measured = [stage for stage in stages if stage["median_hours"] is not None]
    longest = max(measured, key=lambda stage: stage["median_hours"], default=None)
    return {
        # With no change to say, the finder names the stage with the longest median wait.
        "longest_wait": longest["stage"] if longest else None,
        "stages": stages,
        "lost_by_stage": lost_by_stage(ref, w),
        "previous_lost_by_stage": lost_by_stage(ref, w.previous()) if compared else {},
    }


def referrers(ref: Reference, w: Window, practices: list[tuple], compared: bool) -> list[dict]:
    """Every practice: period volume and conversion, the previous period's volume (None
    unless the data covers both periods), the monthly trend, median hours to first
    contact, segment and drift as of the end."""
    where, params = w.cohort()
    period = {
        pk: (n, seen, contacted, median)
        for pk, n, seen, contacted, median in ref.all(
            f"SELECT practice_id, count(*), sum((reached >> 7) & 1), count(first_contact_hours), "  # noqa: S608
            f"quantile_cont(first_contact_hours, 0.5) FROM referral_fact "
            f"WHERE {where} AND practice_id IS NOT NULL GROUP BY practice_id",
            params,
        )
    }
    previous_where, previous_params = w.previous().cohort()
    before = dict(
        ref.all(
            f"SELECT practice_id, count(*) FROM referral_fact "  # noqa: S608
            f"WHERE {previous_where} AND practice_id IS NOT NULL GROUP BY practice_id",
            previous_params,
        )
    )
    months = w.months()
    trend: dict[int, dict[int, int]] = defaultdict(dict)
    for pk, month, n in ref.all(
        f"SELECT practice_id, received_month, count(*) FROM referral_fact "  # noqa: S608
        f"WHERE {where} AND practice_id IS NOT NULL GROUP BY ALL",
        params,
    ):
        trend[pk][month] = n

    # Segments as of the period's end: four 3-month blocks, and "new" for a first
    # referral ever in the last 90 days; a practice that never sent us one before the end
    # but was sent ours is a receiver, not a lapsed referrer.
    edges = [utc(shift_months(w.end_day, 3 * i), w.zone) for i in range(4, -1, -1)]
    new_since = utc(w.end_day, w.zone, minus_days=90)
    recent_start = new_since
    prior_start = utc(w.end_day, w.zone, minus_days=90 + 365)
    segment_rows = ref.all(
        """
        WITH window_rows AS (
            SELECT practice_id, received_at FROM referral_fact
            WHERE direction = 'inbound' AND practice_id IS NOT NULL AND received_at < ?
        ), firsts AS (
            SELECT practice_id, min(received_at) AS first FROM window_rows GROUP BY practice_id
        ), blocks AS (
            SELECT practice_id, count(DISTINCT CASE
                WHEN received_at < ? THEN 0 WHEN received_at < ? THEN 1
                WHEN received_at < ? THEN 2 ELSE 3 END) AS active
            FROM window_rows WHERE received_at >= ? GROUP BY practice_id
        ), sent_to AS (
            SELECT DISTINCT receiving_practice_id AS practice_id FROM referral_fact
            WHERE direction = 'outbound' AND sent_at < ? AND receiving_practice_id IS NOT NULL
        )
        SELECT p.id, CASE
            WHEN f.first >= ? THEN 'new'
            WHEN coalesce(b.active, 0) >= 3 THEN 'loyal'
            WHEN coalesce(b.active, 0) >= 1 THEN 'semi_loyal'
            WHEN f.first IS NULL AND s.practice_id IS NOT NULL THEN 'receiver'
            ELSE 'non_referring' END
        FROM practice p LEFT JOIN firsts f ON f.practice_id = p.id
        LEFT JOIN blocks b ON b.practice_id = p.id
        LEFT JOIN sent_to s ON s.practice_id = p.id
        """,
        [edges[4], edges[1], edges[2], edges[3], edges[0], edges[4], new_since],
    )
    segment = dict(segment_rows)
    # Declining: recent 90 days against the 365 before; P(X <= recent) for Poisson, the
    # exact tail for every practice (1 when nothing was expected); the flag needs prior >= 6.
    drift = {
        pk: (recent, prior, p)
        for pk, recent, prior, p in ref.all(
            """
            WITH counts AS (
                SELECT practice_id, count_if(received_at >= ?)::BIGINT AS recent,
                       count_if(received_at < ?)::BIGINT AS prior
                FROM referral_fact
                WHERE direction = 'inbound' AND practice_id IS NOT NULL
                  AND received_at >= ? AND received_at < ?
                GROUP BY practice_id
            ), terms AS (
                SELECT practice_id, prior * 90 / 365.0 AS expected,
                       unnest(range(0, recent + 1)) AS i
                FROM counts WHERE prior > 0
            ), cdf AS (
                SELECT practice_id,
                       least(1.0, sum(exp(i * ln(expected) - expected - lgamma(i + 1)))) AS p
                FROM terms GROUP BY practice_id
            )
            SELECT c.practice_id, c.recent, c.prior, coalesce(cdf.p, 1.0)
            FROM counts c LEFT JOIN cdf USING (practice_id)
            """,
            [recent_start, recent_start, prior_start, edges[4]],
        )
    }
    result = []
    for pk, name, in_network in practices:
        n, seen, contacted, median = period.get(pk, (0, 0, 0, None))
        recent, prior, p = drift.get(pk, (0, 0, 1.0))
        expected = prior * 90 / 365
        result.append(
            {
                "practice_id": pk,
                "practice": name,
                "in_network": bool(in_network),
                "volume": n,
                "previous_volume": before.get(pk, 0) if compared else None,
                "trend": [trend[pk].get(m, 0) for m in months],
                "segment": segment[pk],
                "declining": prior >= 6 and p < 0.05,
                "recent_90_days": recent,
                "prior_365_days": prior,
                "expected_90_days": expected,
                "p_value": p,
                "conversion": _rate(int(seen or 0), n),
                "contacted": contacted,
                "median_hours_to_first_contact": median,
            }
        )
    result.sort(key=lambda r: (not r["declining"], -r["volume"], r["practice"]))
    return result


def flows(ref: Reference, w: Window, names: dict, departments: dict) -> dict:
    where, params = w.cohort()
    rows = ref.all(
        f"SELECT practice_id, source_type, department_id, count(*) FROM referral_fact "  # noqa: S608
        f"WHERE {where} GROUP BY ALL",
        params,
    )
    totals: dict[int, int] = defaultdict(int)
    for practice_id, _, _, n in rows:
        if practice_id:
            totals[practice_id] += n
    # The busiest dozen by count, ties by name and then id.
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1], names.get(kv[0], ""), kv[0]))
    busiest = {pk for pk, _ in ranked[:SANKEY_PRACTICES]}
    links: dict[tuple, int] = defaultdict(int)
    for practice_id, source_type, department_id, n in rows:
        if practice_id in busiest:
            source = ("practice", practice_id, names[practice_id])
        elif practice_id:
            source = ("others", None, "Other practices")
        else:
            source = ("source", source_type, f"{source_type.capitalize()} (no practice)")
        target = ("department", department_id, departments.get(department_id, "No department"))
        links[(source, target)] += n
    return {
        "links": [
            {
                "source": s[2],
                "source_kind": s[0],
                "source_id": s[1],
                "target": t[2],
                "department_id": t[1],
                "referrals": n,
            }
            for (s, t), n in sorted(links.items(), key=lambda item: -item[1])
        ],
    }


class Context:
    """What the reference takes from the directory and settings (names, SLA hours)."""

    def __init__(self, ref: Reference) -> None:
        from refloop.practice.models import Department, Organization

        org = Organization.current()
        self.sla_hours = {
            u: org.first_contact_sla(u).total_seconds() / 3600
            for u in ("stat", "urgent", "routine")
        }
        self.departments = dict(Department.objects.values_list("pk", "name"))
        self.practices = ref.all("SELECT id, name, in_network FROM practice ORDER BY id")
        self.practice_names = {pk: name for pk, name, _ in self.practices}


def compute(ref: Reference, w: Window) -> dict:
    """metrics.compute's figures."""
    return metrics(ref, w)


def dashboard(ref: Reference, w: Window, ctx: Context) -> dict:
    """dashboard.build's figures."""
    found = overall(ref, w)
    figures = metrics(ref, w, found)
    compared = comparison(ref, w)
    network = referrers(ref, w, ctx.practices, compared["compared"])
    by_segment: dict[str, list[dict]] = {s: [] for s in SEGMENTS}
    for row in network:
        by_segment[row["segment"]].append(
            {"practice_id": row["practice_id"], "practice": row["practice"]}
        )
    return {
        "metrics": figures,
        "comparison": compared,
        "previous_metrics": metrics(ref, w.previous()) if compared["compared"] else None,
        "funnel": funnel(ref, w, found, figures["lost"]),
        "by_source_type": volume_series(ref, w, "source_type"),
        "by_channel": volume_series(ref, w, "channel"),
        "sla": sla(ref, w, ctx.sla_hours),
        "bottlenecks": bottlenecks(ref, w, found, compared["compared"]),
        "referrers": network,
        "declining": [row for row in network if row["declining"]],
        "segments": by_segment,
        "flows": flows(ref, w, ctx.practice_names, ctx.departments),
    }


# --- comparing ------------------------------------------------------------------------


def differences(ours, theirs, path: str = "", rel: float = 1e-6) -> list[str]:
    """Where refloop's figures (ours) and DuckDB's (theirs) disagree: counts must be
    equal, floats within `rel` relative."""
    out: list[str] = []
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for key in sorted(set(ours) | set(theirs), key=str):
            if key not in ours:
                out.append(f"{path}.{key}: missing in refloop (DuckDB {_short(theirs[key])})")
            elif key not in theirs:
                out.append(f"{path}.{key}: missing in DuckDB (refloop {_short(ours[key])})")
            else:
                out += differences(ours[key], theirs[key], f"{path}.{key}", rel)
        return out
    if isinstance(ours, list | tuple) and isinstance(theirs, list | tuple):
        if len(ours) != len(theirs):
            out.append(f"{path}: {len(ours)} items in refloop, {len(theirs)} in DuckDB")
        for i, (a, b) in enumerate(zip(ours, theirs, strict=False)):
            out += differences(a, b, f"{path}[{i}]", rel)
        return out
    a, b = _f(ours), _f(theirs)
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        if a != b:
            out.append(f"{path}: refloop {a!r}, DuckDB {b!r}")
        return out
    if isinstance(a, int) and isinstance(b, int):
        if a != b:
            out.append(f"{path}: refloop {a}, DuckDB {b}")
        return out
    if isinstance(a, int | float) and isinstance(b, int | float):
        if not math.isclose(a, b, rel_tol=rel, abs_tol=1e-9):
            out.append(f"{path}: refloop {a!r}, DuckDB {b!r}")
        return out
    if a != b:
        out.append(f"{path}: refloop {_short(a)}, DuckDB {_short(b)}")
    return out


def _short(value) -> str:
    text = repr(value)
    return text if len(text) < 120 else text[:117] + "..."


def comparable_metrics(figures: dict) -> dict:
    """Leakage rows with the same count and practice name (one practice sent to both in and
    out of network) have no defined order: compare them as a mapping."""
    result = dict(figures)
    leakage = dict(result["leakage"])
    leakage["by_receiving_practice"] = {
        (row["practice_id"], row["in_network"]): (row["practice"], row["sent"])
        for row in leakage["by_receiving_practice"]
    }
    result["leakage"] = leakage
    return result


def comparable(built: dict) -> dict:
    """refloop's dashboard reduced to what the reference computes (no period echo, the
    referrer rows keyed by practice, the flows as a mapping)."""
    result = {
        key: built[key] for key in ("metrics", "funnel", "by_source_type", "by_channel", "sla")
    }
    # The comparison's figures (its note is wording), and the period before's metrics.
    result["comparison"] = {k: v for k, v in built["comparison"].items() if k != "note"}
    previous = built["previous_metrics"]
    result["previous_metrics"] = comparable_metrics(previous) if previous else None
    result["bottlenecks"] = {
        key: built["bottlenecks"][key]
        for key in ("stages", "lost_by_stage", "previous_lost_by_stage")
    }
    result["metrics"] = comparable_metrics(result["metrics"])
    result["referrers"] = {
        row["practice_id"]: {k: v for k, v in row.items() if k != "city"}
        for row in built["referrers"]
    }
    result["referrer_order"] = [row["practice_id"] for row in built["referrers"]]
    result["declining"] = sorted(row["practice_id"] for row in built["declining"])
    result["segments"] = {
        k: sorted(r["practice_id"] for r in v) for k, v in built["segments"].items()
    }
    result["flows"] = {
        (link["source_kind"], link["source_id"], link["target"]): link["referrals"]
        for link in built["flows"]["links"]
    }
    return result


def compare(built: dict, reference: dict) -> list[str]:
    ours, theirs = comparable(built), comparable(reference)
    found = differences(ours, theirs, "dashboard")
    if not built["bottlenecks"]["findings"]:
        found += differences(
            built["bottlenecks"]["stage"],
            reference["bottlenecks"]["longest_wait"],
            "dashboard.bottlenecks.stage (no change said: the longest median wait)",
        )
    return found


def unchecked(built: dict) -> list[str]:
    """What refloop's dashboard reports that the reference does not recompute (said with
    the comparison, not counted as a disagreement)."""
    findings = built["bottlenecks"]["findings"]
    if not findings:
        return []
    return [
        f"dashboard.bottlenecks.findings: {len(findings)} change(s) said by refloop's rank test "
        "(and the stage they name) are not recomputed by the reference:",
        *(f"    {finding['sentence']} (p {finding['p']:.2g})" for finding in findings),
    ]
