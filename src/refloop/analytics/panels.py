"""The dashboard's charts, built from one `dashboard.build()` so no chart counts again.

Every point links to the drill-down page with the scope's parameters plus what the point
selects (selection.py reads them back). Labels are in words; the URLs carry only ids,
codes and months.
"""

from datetime import date

from refloop.analytics import charts, metrics
from refloop.analytics.metrics import Scope
from refloop.analytics.selection import drill_url
from refloop.network.models import Provider
from refloop.referrals.models import SourceType

SOURCE_LABELS = dict(SourceType.choices)
CHANNEL_LABELS = {
    "portal": "Portal",
    "web_form": "Web form",
    "phone": "Phone",
    "walk_in": "Walk-in",
    "fax": "Fax",
    "email": "Email",
    "hl7": "HL7",
    "fhir": "FHIR",
    "api": "API",
    "import": "Import",
}
STATE_LABELS = {
    "received": "Received",
    "in_review": "In review",
    "pending_info": "Pending info",
    "accepted": "Accepted",
    "contacting": "Contacting",
    "scheduled": "Scheduled",
    "no_show": "No-show",
    "seen": "Seen",
    "loop_closed": "Loop closed",
    "declined": "Declined",
    "unreachable": "Unreachable",
    "cancelled": "Cancelled",
}
SEGMENT_LABELS = {
    "loyal": "Loyal",
    "semi_loyal": "Semi-loyal",
    "new": "New",
    "non_referring": "Non-referring",
    "receiver": "Receivers only",
}
URGENCY_LABELS = {"stat": "Stat", "urgent": "Urgent", "routine": "Routine"}
LEAKAGE_PRACTICES = 15


def label(code: str | None) -> str:
    if not code:
        return "not recorded"
    return (
        STATE_LABELS.get(code)
        or SOURCE_LABELS.get(code)
        or CHANNEL_LABELS.get(code)
        or code.replace("_", " ").capitalize()
    )


def month_label(month: int) -> str:
    return f"{date(month // 100, month % 100, 1):%b %Y}"


def hours_words(hours: float | None) -> str:
    if hours is None:
        return "–"
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} d"


def build(board: dict, scope: Scope, *, anonymous_providers: bool) -> dict:
    """Chart specs by name for the dashboard template."""
    figures = board["metrics"]
    return {
        "by_source_type": _volume(
            board["by_source_type"], scope, "source_type", SOURCE_LABELS, stacked_bars=True
        ),
        "by_channel": _volume(
            board["by_channel"], scope, "channel", CHANNEL_LABELS, stacked_bars=False
        ),
        "funnel": _funnel(board["funnel"], scope),
        "lost": _lost(figures["lost"], scope),
        "sla": [_sla_one(row, scope) for row in board["sla"]["by_urgency"]],
        "within_sla": _within_sla(board["sla"], scope),
        "to_appointment": _to_appointment(board["sla"], scope),
        "show_rate": _show_rate(figures["show_rate"], scope),
        "loop_closure": _loop_closure(figures["loop_closure"], scope),
        "concentration": _pareto(figures["concentration"], scope, anonymous=anonymous_providers),
        "segments": _segments(board["segments"], scope),
        "leakage": _leakage(figures["leakage"], scope),
        "lifetime_value": _lifetime_value(figures["lifetime_value"], scope),
        "flows": _flows(board["flows"], scope),
    }


def _volume(data: dict, scope: Scope, by: str, labels: dict, *, stacked_bars: bool) -> dict:
    months = data["months"]
    series = {labels.get(key, key): values for key, values in data["series"].items()}
    drill = {
        labels.get(key, key): [drill_url(scope, month=m, **{by: key}) for m in months]
        for key in data["series"]
    }
    x = data["labels"]  # "Dec 2026 (to 6 Dec)" for a partial month
    partial = [i for i, period in enumerate(data["periods"]) if period["partial"]]
    title = "Referrals per month by " + ("source" if by == "source_type" else "channel")
    if stacked_bars:
        return charts.bar(
            title,
            x,
            series,
            y_name="Referrals",
            x_name="Month",
            stacked=True,
            drill=drill,
            partial=partial,
        )
    return charts.line(
        title,
        x,
        series,
        y_name="Referrals",
        x_name="Month",
        stacked=True,
        area=True,
        drill=drill,
        partial=partial,
    )


def _funnel(data: dict, scope: Scope) -> dict:
    """The milestones as the funnel's stages (lost: on the way to the next one), and the
    optional stages as detours."""
    rows = data["milestones"]
    return charts.funnel(
        "Where referrals go, and where they are lost",
        [STATE_LABELS[row["state"]] for row in rows],
        [row["reached"] for row in rows],
        [row["lost_here"] for row in rows],
        drill={
            "reached": [drill_url(scope, reached=row["state"]) for row in rows],
            "lost": [
                drill_url(scope, lost=1, stage=row["state"])
                if row["lost_here"] and row["lost_here"] == _lost_at(data, row["state"])
                else None
                for row in rows
            ],
        },
        detours=[
            {
                "label": STATE_LABELS[row["state"]],
                "after": STATE_LABELS[row["after"]],
                "reached": row["reached"],
                "share": row["share"],
                "lost": row["lost_here"],
                "median_hours": row["median_dwell_hours"],
                "drill": drill_url(scope, reached=row["state"]) if row["reached"] else None,
            }
            for row in data["detours"]
        ],
    )


def _lost_at(data: dict, state: str) -> int:
    # A milestone's lost include those lost on its detours; the drill-down by stage names
    # one state, so it links only when all were lost at the milestone itself.
    return next(row["lost_here"] for row in data["states"] if row["state"] == state)


def _lost(data: dict, scope: Scope) -> dict:
    reasons = list(data["by_reason"].items())
    return charts.bar(
        "Lost referrals by reason",
        [label(reason) if reason != "not recorded" else "Not recorded" for reason, _ in reasons],
        {"Lost referrals": [n for _, n in reasons]},
        y_name="Referrals",
        x_name="Reason",
        horizontal=True,
        drill={
            "Lost referrals": [
                drill_url(scope, lost=1, lost_reason=reason) if reason != "not recorded" else None
                for reason, _ in reasons
            ]
        },
    )


def _sla_one(row: dict, scope: Scope) -> dict:
    urgency = row["urgency"]
    sla = row["sla_hours"]
    url = drill_url(scope, urgency=urgency, contacted=1)
    return charts.bar(
        f"{URGENCY_LABELS[urgency]}: hours to first contact",
        ["Median", "90th percentile"],
        {
            "Hours": [
                _round(row["median_hours_to_first_contact"]),
                _round(row["p90_hours_to_first_contact"]),
            ]
        },
        y_name="Hours",
        x_name="Figure",
        drill={"Hours": [url, url]},
        mark_line=sla,
        mark_label=f"SLA {sla:g} h",
    )


def _within_sla(data: dict, scope: Scope) -> dict:
    rows = data["by_urgency"]
    categories = [f"{URGENCY_LABELS[r['urgency']]} (SLA {r['sla_hours']:g} h)" for r in rows]
    return charts.bar(
        "First contact within the SLA",
        categories,
        {
            "Within the SLA": [r["within_sla"] for r in rows],
            "Later than the SLA": [r["contacted"] - r["within_sla"] for r in rows],
        },
        y_name="Referrals contacted",
        x_name="Urgency",
        horizontal=True,
        stacked=True,
        drill={
            "Within the SLA": [drill_url(scope, urgency=r["urgency"], over_sla=0) for r in rows],
            "Later than the SLA": [
                drill_url(scope, urgency=r["urgency"], over_sla=1) for r in rows
            ],
        },
    )


def _to_appointment(data: dict, scope: Scope) -> dict:
    rows = data["by_urgency"]
    days = {
        "Median": [_days(r["median_hours_to_appointment"]) for r in rows],
        "90th percentile": [_days(r["p90_hours_to_appointment"]) for r in rows],
    }
    urls = [drill_url(scope, urgency=r["urgency"], booked=1) for r in rows]
    return charts.bar(
        "Days to the appointment by urgency",
        [URGENCY_LABELS[r["urgency"]] for r in rows],
        days,
        y_name="Days",
        x_name="Urgency",
        drill={"Median": urls, "90th percentile": urls},
    )


def _show_rate(data: dict, scope: Scope) -> dict:
    groups = [("referred", "Referred"), ("non_referred", "Non-referred")]
    categories = []
    for key, name in groups:
        rate = data[key]["rate"]
        categories.append(f"{name} ({rate * 100:.0f}% shown)" if rate is not None else name)
    return charts.bar(
        "Appointments kept: referred and non-referred patients",
        categories,
        {
            "Attended": [data[key]["attended"] for key, _ in groups],
            "No-show": [data[key]["no_show"] for key, _ in groups],
        },
        y_name="Appointments",
        x_name="Patients",
        stacked=True,
        drill={
            "Attended": [
                drill_url(scope, appointments=key, outcome="attended") for key, _ in groups
            ],
            "No-show": [drill_url(scope, appointments=key, outcome="no_show") for key, _ in groups],
        },
    )


def _loop_closure(data: dict, scope: Scope) -> dict:
    closed = data["closed_within_7_days"]
    return charts.donut(
        "Loop closed within 7 days of the visit",
        ["Closed within 7 days", "Not closed within 7 days"],
        [closed, data["seen"] - closed],
        value_name="Referrals seen",
        drill=[drill_url(scope, closure="closed"), drill_url(scope, closure="not_closed")],
    )


def _pareto(data: dict, scope: Scope, *, anonymous: bool) -> dict:
    """Referrals per referring provider, ranked. Analysts see "Provider 1, 2…" and drill by
    rank; the others see names looked up by NPI and drill by NPI."""
    if anonymous:
        counts = data["ranked"]
        labels = [f"Provider {i}" for i in range(1, len(counts) + 1)]
        drill = [drill_url(scope, provider_rank=i) for i in range(1, len(counts) + 1)]
    else:
        ranking = metrics.provider_ranking(scope)
        names = {
            p.npi: str(p) for p in Provider.objects.filter(npi__in=[npi for npi, _ in ranking])
        }
        taken: dict[str, int] = {}
        for npi, _ in ranking:
            taken[names.get(npi, npi)] = taken.get(names.get(npi, npi), 0) + 1
        labels = [
            names.get(npi, f"NPI {npi}")
            + (f" (NPI {npi})" if taken[names.get(npi, npi)] > 1 else "")
            for npi, _ in ranking
        ]
        counts = [n for _, n in ranking]
        drill = [drill_url(scope, npi=npi) for npi, _ in ranking]
    share = data["top_share"]
    title = "Referrals per referring provider (80/20)"
    if share is not None:
        title += f": the top {data['top_providers']} of {data['providers']} sent {share * 100:.1f}%"
    return charts.pareto(title, labels, counts, drill=drill, value_name="Referrals")


def _segments(segments: dict, scope: Scope) -> dict:
    keys = list(SEGMENT_LABELS)
    return charts.donut(
        "Referring practices by segment",
        [SEGMENT_LABELS[key] for key in keys],
        [len(segments.get(key, [])) for key in keys],
        value_name="Practices",
        drill=[drill_url(scope, segment=key) for key in keys],
    )


def _leakage(data: dict, scope: Scope) -> dict:
    rows = data["by_receiving_practice"][:LEAKAGE_PRACTICES]
    inside = [0 if row["in_network"] is False else row["sent"] for row in rows]
    outside = [row["sent"] if row["in_network"] is False else 0 for row in rows]

    def urls(values, flag):
        return [
            drill_url(scope, outbound=1, receiving_practice=row["practice_id"], in_network=flag)
            if value and row["practice_id"]
            else None
            for row, value in zip(rows, values, strict=True)
        ]

    title = "Outbound referrals by receiving practice"
    if data["rate"] is not None:
        title += f": {data['rate'] * 100:.0f}% out of network"
    return charts.bar(
        title,
        [row["practice"] for row in rows],
        {"In network": inside, "Out of network": outside},
        y_name="Referrals sent",
        x_name="Receiving practice",
        horizontal=True,
        stacked=True,
        drill={"In network": urls(inside, 1), "Out of network": urls(outside, 0)},
    )


def _lifetime_value(data: dict, scope: Scope) -> dict:
    rows = list(data["by_source"].items())
    return charts.bar(
        "Lifetime value per new patient, by source",
        [SOURCE_LABELS.get(source, source) for source, _ in rows],
        {"Value per patient ($)": [_round(row["value_per_patient"], 0) for _, row in rows]},
        y_name="Dollars per patient",
        x_name="Source",
        drill={
            "Value per patient ($)": [
                drill_url(scope, source_type=source, new_patient=1) for source, _ in rows
            ]
        },
    )


def _flows(data: dict, scope: Scope) -> dict:
    """Practice → department. Two practices of the same name share a node and lose their
    drill link; "Other practices" and "No department" have none either."""
    sources: list[str] = []
    targets: list[str] = []
    totals: dict[tuple[str, str], int] = {}
    drill: dict[tuple[str, str], str | None] = {}
    for link in data["links"]:
        source, target = link["source"], link["target"]
        if source not in sources:
            sources.append(source)
        if target not in targets:
            targets.append(target)
        key = (source, target)
        url = _flow_url(link, scope)
        drill[key] = None if key in totals else url
        totals[key] = totals.get(key, 0) + link["referrals"]
    nodes = sources + [t for t in targets if t not in sources]
    return charts.sankey(
        "Referral flows: referring practice to department",
        nodes,
        [(s, t, n) for (s, t), n in totals.items()],
        drill={key: url for key, url in drill.items() if url},
        value_name="Referrals",
    )


def _flow_url(link: dict, scope: Scope) -> str | None:
    if link["department_id"] is None:
        return None
    if link["source_kind"] == "practice":
        return drill_url(scope, practice=link["source_id"], department=link["department_id"])
    if link["source_kind"] == "source":
        return drill_url(
            scope, source_type=link["source_id"], no_practice=1, department=link["department_id"]
        )
    return None


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _days(hours: float | None) -> float | None:
    return None if hours is None else round(hours / 24, 1)
