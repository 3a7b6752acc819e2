"""What an analyst is shown: the dashboard's figures as the analyst's export has them, with
small cells hidden by `suppression`'s rule over the export's tables (`tables.suppress`), so
the dashboard page, its referrers table and the analytics API hide exactly the cells the
CSV, XLSX and PDF hide.

Only figures the export holds are shown, each as the export writes it (a number, "<11" or
"suppressed"); what the export does not hold (a practice's monthly trend, how many of its
referrals were contacted) is left out. A chart is drawn only when nothing behind it is
hidden; otherwise the analyst gets its table.
"""

from dataclasses import dataclass

from refloop.analytics import suppression, tables
from refloop.analytics.tables import Table
from refloop.core.errors import InvalidInput
from refloop.core.roles import Capability, can

HIDDEN = (suppression.SMALL, suppression.SUPPRESSED)

# The dashboard's charts (panels.build) and the export table each is drawn from.
CHART_TABLES = {
    "by_source_type": "volume_by_source_type",
    "by_channel": "volume_by_channel",
    "funnel": "funnel_milestones",
    "lost": "lost_by_reason",
    "sla": "sla",
    "within_sla": "sla",
    "to_appointment": "sla",
    "show_rate": "show_rate",
    "loop_closure": "loop_closure",
    "concentration": "concentration",
    "leakage": "leakage",
    "lifetime_value": "lifetime_value",
    "flows": "flows",
}

# The referrers table's columns (tables._referrers) by the key of a referrer row.
REFERRER_COLUMNS = {
    "volume": 2,
    "previous_volume": 3,
    "recent_90_days": 6,
    "prior_365_days": 7,
    "expected_90_days": 8,
    "p_value": 9,
    "conversion": 10,
    "median_hours_to_first_contact": 11,
}
REFERRER_NAMES = ("practice_id", "practice", "city", "in_network", "segment", "declining")

# The funnel table's columns (tables._funnel) by the key of a funnel state.
FUNNEL_COLUMNS = {"reached": 1, "lost_here": 2, "now_here": 3, "median_dwell_hours": 4}
# The milestones and detours table's (tables._milestones), by the key of an entry.
MILESTONE_COLUMNS = {"reached": 2, "lost_here": 3, "now_here": 4, "median_dwell_hours": 5}

# The summary table's rows (tables._summary), by (metric, figure), as paths into
# metrics.compute()'s answer.
SUMMARY_PATHS = {
    ("volume", "referrals received"): ("volume", "count"),
    ("conversion", "referrals seen"): ("conversion", "seen"),
    ("conversion", "conversion rate"): ("conversion", "rate"),
    **{
        (clock, label): (clock, key)
        for clock in ("time_to_first_contact", "time_to_schedule", "time_to_appointment")
        for label, key in (
            ("referrals measured", "count"),
            ("median hours", "median_hours"),
            ("90th percentile hours", "p90_hours"),
        )
    },
    **{
        ("show_rate", f"{group}: {label}"): ("show_rate", group, key)
        for group in ("referred", "non_referred")
        for label, key in (("attended", "attended"), ("no-shows", "no_show"), ("show rate", "rate"))
    },
    ("loop_closure", "referrals seen in the period"): ("loop_closure", "seen"),
    ("loop_closure", "closed within 7 days"): ("loop_closure", "closed_within_7_days"),
    ("loop_closure", "loop closure rate"): ("loop_closure", "rate"),
    ("leakage", "outbound referrals sent"): ("leakage", "sent"),
    ("leakage", "sent out of network"): ("leakage", "out_of_network"),
    ("leakage", "leakage rate"): ("leakage", "rate"),
    ("lost", "referrals lost"): ("lost", "count"),
    ("concentration", "referring providers"): ("concentration", "providers"),
    ("concentration", "top 20% of providers"): ("concentration", "top_providers"),
    ("concentration", "referrals naming a provider"): ("concentration", "referrals"),
    ("concentration", "referrals from the top providers"): ("concentration", "top_referrals"),
    ("concentration", "share from the top providers"): ("concentration", "top_share"),
}


# What `?suppress=` may say, for the exports and the management report alike.
SUPPRESS_VALUES = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


def applies_to(user) -> bool:
    """Analysts see de-identified aggregates only: every figure they see is suppressed
    (they lack VIEW_SMALL_COUNTS)."""
    return not can(user, Capability.VIEW_SMALL_COUNTS)


def suppressed_for(user, asked: str | None = "") -> bool:
    """Whether `user`'s copy of a table or report hides small cells: always for those
    `applies_to`, on request (`suppress=1`) for everyone else."""
    raw = (asked or "").strip().lower()
    if raw and raw not in SUPPRESS_VALUES:
        raise InvalidInput("suppress must be 1 (hide small cells) or 0.", field="suppress")
    return applies_to(user) or SUPPRESS_VALUES.get(raw, False)


def is_hidden(value) -> bool:
    return isinstance(value, str) and value in HIDDEN


@dataclass(frozen=True)
class Shown:
    """A dashboard (`dashboard.build(scope)`) as the analyst's export has it."""

    board: dict
    tables: dict[str, Table]

    @classmethod
    def of(cls, board: dict) -> "Shown":
        return cls(board, {t.key: t for t in tables.suppress(tables.tables(board))})

    def hides_any(self, key: str) -> bool:
        return any(is_hidden(value) for row in self.tables[key].rows for value in row)

    def referrers(self) -> list[dict]:
        """The referrer rows, in the board's order, with only the export's figures."""
        rows = self.tables["referrers"].rows
        return [
            {
                **{name: entry[name] for name in REFERRER_NAMES},
                **{key: row[column] for key, column in REFERRER_COLUMNS.items()},
                "trend": [],
            }
            for entry, row in zip(self.board["referrers"], rows, strict=True)
        ]

    def declining(self) -> list[dict]:
        return [row for row in self.referrers() if row["declining"]]

    def funnel(self) -> dict:
        rows = self.tables["funnel"].rows
        staged = self.tables["funnel_milestones"].rows
        found = self.board["funnel"]
        milestones, detours = staged[: len(found["milestones"])], staged[len(found["milestones"]) :]
        return {
            "states": [
                {"state": entry["state"], **{k: row[c] for k, c in FUNNEL_COLUMNS.items()}}
                for entry, row in zip(found["states"], rows, strict=False)
            ],
            "milestones": [
                {"state": entry["state"], **{k: row[c] for k, c in MILESTONE_COLUMNS.items()}}
                for entry, row in zip(found["milestones"], milestones, strict=True)
            ],
            # The share is left out: the export holds the counts it is made of.
            "detours": [
                {
                    "state": entry["state"],
                    "after": entry["after"],
                    **{k: row[c] for k, c in MILESTONE_COLUMNS.items()},
                }
                for entry, row in zip(found["detours"], detours, strict=True)
            ],
        }

    def sentences(self) -> tuple[list[str], int]:
        """The bottleneck finder's sentences the export shows, and how many it hides."""
        shown = [str(row[0]) for row in self.tables["bottlenecks"].rows if not is_hidden(row[0])]
        return shown, len(self.tables["bottlenecks"].rows) - len(shown)

    def metrics(self) -> dict:
        """metrics.compute()'s answer as the export has it: the summary's figures, the
        lost referrals' breakdowns and lifetime value by source. Lists the export holds
        only as ranks (providers, receiving practices) are left out."""
        found = summary_metrics(self.tables["summary"])
        found["conversion"]["referrals"] = found["volume"]["count"]
        for key, name in (
            ("lost_by_outcome", "by_outcome"),
            ("lost_by_reason", "by_reason"),
            ("lost_by_stage", "by_stage"),
        ):
            found["lost"][name] = {row[0]: row[1] for row in self.tables[key].rows[:-1]}
        found["lifetime_value"] = {
            "by_source": {
                row[0]: {"patients": row[1], "value": row[2], "value_per_patient": row[3]}
                for row in self.tables["lifetime_value"].rows[:-1]
            }
        }
        return found

    def monthly_volume(self) -> list:
        """Referrals per month (the volume table's totals) as the export has them."""
        return [row[-2] for row in self.tables["volume_by_source_type"].rows[:-1]]

    def hidden_charts(self) -> dict[str, Table]:
        """The export table of each chart that would show a hidden figure, by chart name."""
        return {
            chart: self.tables[key] for chart, key in CHART_TABLES.items() if self.hides_any(key)
        }


def summary_metrics(summary: Table) -> dict:
    """The headline metrics as a summary table has them, nested as metrics.compute() does."""
    found: dict = {}
    for metric, label, value in summary.rows:
        path = SUMMARY_PATHS[(str(metric), str(label))]
        place = found
        for step in path[:-1]:
            place = place.setdefault(step, {})
        place[path[-1]] = value
    return found


def previous_metrics(figures: dict) -> dict:
    """Another period's headline metrics, suppressed on their own (nothing else of that
    period is shown, so no total can give a hidden one back)."""
    return summary_metrics(tables.suppress([tables.summary(figures)])[0])
