"""Background tasks of advocacy (django.tasks; run by `refloop worker`)."""

from datetime import datetime

from django.tasks import task
from django.utils import timezone

from refloop.advocacy import case_clocks, cases
from refloop.advocacy.models import Case


def sweep_case_clocks(*, now: datetime) -> int:
    """Record `case.acknowledge_overdue` / `case.resolve_overdue` for each case whose clock
    has run out, once per case and clock; the reactions send the notices. Returns how many
    were recorded now (a rerun records none)."""
    recorded = 0
    for clock in (case_clocks.ACKNOWLEDGE, case_clocks.RESOLVE):
        late = (
            Case.objects.filter(case_clocks.overdue_filter(now, clock))
            .exclude(events__kind=f"case.{clock}_overdue")
            .order_by("pk")
        )
        for case in late:
            recorded += cases.record_overdue(case, clock=clock, now=now)
    return recorded


@task()
def case_sweep() -> int:
    return sweep_case_clocks(now=timezone.now())
