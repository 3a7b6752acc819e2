"""The gift and meal ledger: every item of value given to someone at a referring practice,
checked against the Stark law's non-monetary compensation limit for physicians.

The rules, as the law states them:

- **No cash or cash equivalents**, to anyone: the exception for non-monetary compensation
  covers items and services "not including cash or cash equivalents" (42 CFR
  411.357(k)(1)), and anything else offered to induce referrals falls under the
  Anti-Kickback Statute (42 USC 1320a-7b(b)).
- **Physicians** are those of 42 USC 1395nn(h)(1) and 42 CFR 411.351: a doctor of medicine
  or osteopathy, of dental surgery or dental medicine, of podiatric medicine, of optometry,
  or a chiropractor (MD, DO, DDS, DMD, DPM, OD, DC). Their gifts in a calendar year may not
  add up past that year's limit (StarkLimit; $535 in 2026). Everyone else is tracked
  without a limit.
- **The repayment exception** (42 CFR 411.357(k)(3)): a compliance officer may record a
  gift that crosses the limit when the excess is no more than 50% of the limit, the
  physician repays it by the earlier of 180 days after the gift or the end of that calendar
  year, and the exception has not been used for that physician in the 3 years before.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from refloop.core import audit
from refloop.core.errors import Conflict, InvalidInput
from refloop.core.models import User
from refloop.core.roles import Capability, require
from refloop.network.models import Practice, Provider, StaffContact
from refloop.outreach.models import Activity, Event, GiftEntry, GiftKind, Overage, StarkLimit
from refloop.practice.models import Organization

CENT = Decimal("0.01")
WARNING_SHARE = Decimal("0.80")
EXCEPTION_SHARE = Decimal("0.50")
REPAY_WITHIN_DAYS = 180
EXCEPTION_EVERY_YEARS = 3

# 42 USC 1395nn(h)(1) by way of 42 USC 1395x(r), as 42 CFR 411.351 defines "physician".
PHYSICIAN_CREDENTIALS = frozenset({"MD", "DO", "DDS", "DMD", "DPM", "OD", "DC"})

# The form's explicit choice for cash, a gift card, a check...: offered so that it is refused.
CASH = "cash"
CASH_LABEL = "Cash or cash equivalent (gift card, check, prepaid card…)"
KIND_CHOICES = [
    (GiftKind.MEAL.value, GiftKind.MEAL.label),
    (GiftKind.GIFT.value, GiftKind.GIFT.label),
    (GiftKind.OTHER.value, GiftKind.OTHER.label),
    (CASH, CASH_LABEL),
]
CASH_RULE = (
    "Cash and cash equivalents (gift cards, checks, prepaid cards) are never given to anyone "
    "at a referring practice: the Stark exception for non-monetary compensation excludes "
    "them (42 CFR 411.357(k)(1)) and the Anti-Kickback Statute forbids paying for referrals "
    "(42 USC 1320a-7b(b))."
)
_CASH_WORDS = re.compile(
    r"\b(cash|gift[\s-]?cards?|gift[\s-]?certificates?|e-?gift|prepaid|pre-paid|checks?|cheques?"
    r"|money[\s-]?orders?|vouchers?|store[\s-]?credit|debit[\s-]?cards?|visa[\s-]?cards?"
    r"|stored[\s-]?value|venmo|paypal|zelle|bitcoin|crypto(currency)?|savings[\s-]?bonds?"
    r"|lottery|scratch[\s-]?(off|cards?))\b",
    re.IGNORECASE,
)

Person = Provider | StaffContact
State = Literal["ok", "warning", "over"]


def is_physician(credentials: str) -> bool:
    """Whether credentials such as "M.D., PhD" or "DO/MPH" name a physician under Stark.
    A provider whose credentials nobody entered is held to the limit until someone does:
    the safe side of a rule whose breach is the practice's."""
    if not credentials.strip():
        return True
    tokens = re.split(r"[\s,;/()]+", credentials.upper().replace(".", ""))
    return any(token in PHYSICIAN_CREDENTIALS for token in tokens)


def money(value: Decimal) -> str:
    return f"${value:,.2f}"


def cents(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def today() -> date:
    return timezone.localdate(timezone.now(), Organization.current().zone)


# ---- reading ---------------------------------------------------------------------------------


# The limits CMS has published (42 CFR 411.357(k)(2)); the table an admin edits holds these
# from the first migration on and wins over them, and each January's new figure is entered
# there. Kept here too so a year CMS published is never refused for an emptied table.
PUBLISHED_LIMITS = {
    2023: Decimal("489.00"),
    2024: Decimal("507.00"),
    2025: Decimal("519.00"),
    2026: Decimal("535.00"),
}


def entered_limit(year: int) -> Decimal | None:
    """The year's limit as an admin entered it, else as CMS published it; None if neither."""
    found = StarkLimit.objects.filter(year=year).values_list("amount", flat=True).first()
    return found if found is not None else PUBLISHED_LIMITS.get(year)


def limit_for(year: int) -> Decimal:
    """The year's limit; refused when an admin has not entered it yet."""
    found = entered_limit(year)
    if found is None:
        raise Conflict(
            f"The Stark limit for {year} is not entered yet: an admin enters it under Settings › "
            "Stark limits (CMS publishes each year's figure in January). Nothing was recorded."
        )
    return found


def _year(year: int) -> Q:
    return Q(given_on__gte=date(year, 1, 1), given_on__lte=date(year, 12, 31))


def year_total(provider_id: int, year: int, *, leaving_out: GiftEntry | None = None) -> Decimal:
    """What `provider_id` has had in `year`: the values given, less any excess repaid under
    the exception (repaid, it is no longer theirs)."""
    entries = GiftEntry.objects.filter(_year(year), provider_id=provider_id)
    if leaving_out is not None:
        entries = entries.exclude(pk=leaving_out.pk)
    given = entries.aggregate(s=Sum("value"))["s"] or Decimal("0")
    repaid = Overage.objects.filter(provider_id=provider_id, gift__given_on__year=year).aggregate(
        s=Sum("repaid_amount")
    )["s"] or Decimal("0")
    return given - repaid


def state_of(total: Decimal, limit: Decimal | None) -> State:
    if limit is None:
        return "ok"
    if total > limit:
        return "over"
    return "warning" if total >= limit * WARNING_SHARE else "ok"


def repay_by(given_on: date) -> date:
    """The earlier of 180 days after the gift and the last day of its year (411.357(k)(3))."""
    return min(given_on + timedelta(days=REPAY_WITHIN_DAYS), date(given_on.year, 12, 31))


def _shift_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February, in a year without one
        return day.replace(year=day.year + years, day=28)


def person_name(person: Person) -> str:
    return str(person)


# ---- writing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    entry: GiftEntry
    total: Decimal  # the recipient's total for the year, this entry included
    limit: Decimal | None  # None: not a physician, no limit
    warning: str = ""

    @property
    def state(self) -> State:
        return state_of(self.total, self.limit)


class OverLimit(Conflict):
    """The gift would take a physician past the year's limit."""

    def __init__(self, message: str, *, excess: Decimal, exception_possible: bool):
        super().__init__(message, field="value")
        self.excess = excess
        self.exception_possible = exception_possible


def refuse_cash(kind: str, description: str) -> None:
    if kind == CASH:
        raise InvalidInput(CASH_RULE, field="kind")
    if kind not in GiftKind.values:
        raise InvalidInput("Choose what was given: a meal, a gift or another item.", field="kind")
    if kind != GiftKind.EVENT and _CASH_WORDS.search(description):
        raise InvalidInput(
            f"The description names cash or a cash equivalent. {CASH_RULE}", field="description"
        )


def _check_value(value: Decimal) -> Decimal:
    value = Decimal(value)
    if value <= 0:
        raise InvalidInput("Enter the value given, more than $0.00.", field="value")
    if value != cents(value):
        raise InvalidInput("Enter the value in dollars and cents.", field="value")
    return value


def _lock[P: (Provider, StaffContact)](person: P) -> P:
    """Lock the recipient's row so two gifts recorded at once see each other's total."""
    return type(person).objects.select_for_update().get(pk=person.pk)


def _practice_of(person: Person) -> Practice:
    if person.practice_id is None:
        raise InvalidInput(
            f"{person} belongs to no practice in the directory; add their practice first.",
            field="recipient",
        )
    practice = person.practice
    assert practice is not None
    return practice


def _warning(person: Person, total: Decimal, limit: Decimal, year: int) -> str:
    if state_of(total, limit) != "warning":
        return ""
    return (
        f"{person} has now had {money(total)} of the {year} limit of {money(limit)} "
        f"({total / limit:.0%}); {money(limit - total)} is left for the rest of the year."
    )


def _past_limit(
    person: Person, before: Decimal, value: Decimal, limit: Decimal, year: int, who: str = ""
) -> OverLimit:
    after = before + value
    excess = after - limit
    possible = excess <= limit * EXCEPTION_SHARE
    said = (
        f"{who or person} has had {money(before)} in {year}; {money(value)} more would make "
        f"{money(after)}, {money(excess)} past the limit of {money(limit)} for a physician "
        "(Stark non-monetary compensation, 42 CFR 411.357(k)). Not recorded."
    )
    if possible:
        said += (
            " If it was already given, a compliance officer can record it under the repayment "
            "exception (42 CFR 411.357(k)(3)): the physician repays the excess."
        )
    return OverLimit(said, excess=excess, exception_possible=possible)


def write_entry(
    *,
    acting_user: User,
    person: Person,
    given_on: date,
    kind: str,
    description: str,
    value: Decimal,
    activity: Activity | None,
    event: Event | None,
    replacing: GiftEntry | None = None,
    who: str = "",
    now: datetime,
) -> Recorded:
    """Check and write one entry (or change `replacing`'s value); call it inside a transaction
    (record_gift, events.share_cost)."""
    refuse_cash(kind, description)
    value = _check_value(value)
    person = _lock(person) if isinstance(person, Provider) else _lock(person)
    practice = _practice_of(person)
    physician = isinstance(person, Provider) and is_physician(person.credentials)
    limit = limit_for(given_on.year) if physician else None
    total = value
    if physician:
        assert limit is not None
        before = year_total(person.pk, given_on.year, leaving_out=replacing)
        total = before + value
        if total > limit:
            raise _past_limit(person, before, value, limit, given_on.year, who)
    if replacing is None:
        entry = GiftEntry.objects.create(
            given_on=given_on,
            kind=kind,
            description=description.strip(),
            value=value,
            practice=practice,
            provider=person if isinstance(person, Provider) else None,
            staff=person if isinstance(person, StaffContact) else None,
            physician=physician,
            activity=activity,
            event=event,
            recorded_by=acting_user,
        )
    else:
        entry = replacing
        entry.value, entry.description, entry.given_on = value, description.strip(), given_on
        entry.physician = physician
        entry.save(update_fields=["value", "description", "given_on", "physician"])
    audit.record(
        "gift.recorded" if replacing is None else "gift.changed",
        audit.Touch("giftentry", entry.pk),
        actor=acting_user,
        detail={"value": str(value), "kind": kind, "physician": physician, "total": str(total)},
        now=now,
    )
    warning = _warning(person, total, limit, given_on.year) if limit is not None else ""
    return Recorded(entry, total, limit, warning)


def record_gift(
    *,
    acting_user: User,
    recipient: Person,
    given_on: date,
    kind: str,
    description: str,
    value: Decimal,
    activity: Activity | None = None,
    event: Event | None = None,
    now: datetime | None = None,
) -> Recorded:
    """Record an item of value given to one person at a referring practice. Refuses cash and
    cash equivalents, and a physician's gift that would cross the year's limit (OverLimit)."""
    require(acting_user, Capability.WORK_OUTREACH)
    if kind == GiftKind.EVENT and event is None:
        raise InvalidInput("An event's shares are recorded from the event's page.", field="kind")
    with transaction.atomic():
        return write_entry(
            acting_user=acting_user,
            person=recipient,
            given_on=given_on,
            kind=kind,
            description=description,
            value=value,
            activity=activity,
            event=event,
            now=now or timezone.now(),
        )


def record_overage(
    *,
    acting_user: User,
    recipient: Provider,
    given_on: date,
    kind: str,
    description: str,
    value: Decimal,
    note: str = "",
    now: datetime | None = None,
) -> tuple[Recorded, Overage]:
    """A compliance officer records a gift already given that crosses a physician's limit,
    under the repayment exception of 42 CFR 411.357(k)(3); the repayment is then due."""
    require(acting_user, Capability.APPROVE_GIFT_OVERAGES)
    now = now or timezone.now()
    refuse_cash(kind, description)
    value = _check_value(value)
    if not isinstance(recipient, Provider) or not is_physician(recipient.credentials):
        raise InvalidInput(
            "Only a physician's gifts have a limit; record this one as an ordinary gift.",
            field="recipient",
        )
    with transaction.atomic():
        person = _lock(recipient)
        practice = _practice_of(person)
        limit = limit_for(given_on.year)
        before = year_total(person.pk, given_on.year)
        excess = before + value - limit
        if excess <= 0:
            raise Conflict(
                f"{person} stays within the {given_on.year} limit with this gift "
                f"({money(before + value)} of {money(limit)}): record it as an ordinary gift.",
                field="value",
            )
        most = limit * EXCEPTION_SHARE
        if excess > most:
            raise Conflict(
                f"The excess would be {money(excess)}, more than half the {given_on.year} limit "
                f"({money(most)}): the repayment exception does not cover it "
                "(42 CFR 411.357(k)(3)(i)). Not recorded; tell your compliance officer.",
                field="value",
            )
        # Once every 3 years: none in the 3 years before this gift (nor after it, for a gift
        # recorded late).
        since = _shift_years(given_on, -EXCEPTION_EVERY_YEARS)
        until = _shift_years(given_on, EXCEPTION_EVERY_YEARS)
        earlier = (
            Overage.objects.filter(
                provider=person, gift__given_on__gt=since, gift__given_on__lt=until
            )
            .order_by("gift__given_on")
            .values_list("gift__given_on", flat=True)
            .first()
        )
        if earlier is not None:
            raise Conflict(
                f"The repayment exception was used for {person} on {earlier:%b %-d, %Y}; it may "
                "be used once every 3 years per physician (42 CFR 411.357(k)(3)(iii)). "
                "Not recorded.",
                field="recipient",
            )
        entry = GiftEntry.objects.create(
            given_on=given_on,
            kind=kind,
            description=description.strip(),
            value=value,
            practice=practice,
            provider=person,
            physician=True,
            recorded_by=acting_user,
        )
        overage = Overage.objects.create(
            gift=entry,
            provider=person,
            excess=excess,
            repay_by=repay_by(given_on),
            recorded_by=acting_user,
            note=note.strip(),
        )
        audit.record(
            "gift.overage_recorded",
            audit.Touch("overage", overage.pk),
            actor=acting_user,
            detail={
                "gift": entry.pk,
                "value": str(value),
                "excess": str(excess),
                "repay_by": overage.repay_by.isoformat(),
            },
            now=now,
        )
    return Recorded(entry, before + value, limit), overage


def record_repayment(
    *,
    acting_user: User,
    overage: Overage,
    repaid_on: date,
    amount: Decimal,
    now: datetime | None = None,
) -> Overage:
    """Record money (or the item's value) the physician returned; several payments add up,
    to the excess at most."""
    require(acting_user, Capability.APPROVE_GIFT_OVERAGES)
    now = now or timezone.now()
    amount = _check_value(amount)
    with transaction.atomic():
        found = Overage.objects.select_for_update().select_related("gift").get(pk=overage.pk)
        if repaid_on < found.gift.given_on:
            raise InvalidInput("A repayment cannot come before the gift.", field="repaid_on")
        owed = found.excess - found.repaid_amount
        if amount > owed:
            raise InvalidInput(
                f"Only {money(owed)} is left to repay; enter that or less.", field="amount"
            )
        found.repaid_amount += amount
        found.repaid_on = repaid_on
        found.save(update_fields=["repaid_amount", "repaid_on"])
        audit.record(
            "gift.overage_repaid",
            audit.Touch("overage", found.pk),
            actor=acting_user,
            detail={"amount": str(amount), "repaid_on": repaid_on.isoformat()},
            now=now,
        )
    return found


def set_limit(
    *, acting_user: User, year: int, amount: Decimal, now: datetime | None = None
) -> bool:
    """Enter or change a year's limit (CMS publishes it each January); False if unchanged."""
    require(acting_user, Capability.MANAGE_SETTINGS)
    amount = _check_value(amount)
    if not 2000 <= year <= 2100:
        raise InvalidInput("Enter a year between 2000 and 2100.", field="year")
    with transaction.atomic():
        found = StarkLimit.objects.select_for_update().filter(year=year).first()
        if found is not None and found.amount == amount:
            return False
        before = None if found is None else str(found.amount)
        found, _ = StarkLimit.objects.update_or_create(year=year, defaults={"amount": amount})
        audit.record(
            "stark_limit.changed",
            audit.Touch("starklimit", found.pk),
            actor=acting_user,
            detail={"year": year, "amount": [before, str(amount)]},
            now=now,
        )
    return True


# ---- overages and the report -----------------------------------------------------------------


def overage_state(overage: Overage, on: date) -> str:
    """due, overdue, repaid, or repaid late (the exception then does not apply)."""
    if overage.repaid_amount >= overage.excess:
        return (
            "repaid"
            if overage.repaid_on and overage.repaid_on <= overage.repay_by
            else ("repaid late")
        )
    return "overdue" if on > overage.repay_by else "due"


@dataclass(frozen=True)
class PersonTotal:
    """One person's gifts in a year: what the relationship page and the report show."""

    provider: Provider | None
    staff: StaffContact | None
    name: str
    role: str  # credentials, or the staff role
    physician: bool
    items: int
    given: Decimal
    repaid: Decimal
    limit: Decimal | None

    @property
    def total(self) -> Decimal:
        return self.given - self.repaid

    @property
    def share(self) -> Decimal | None:
        return None if not self.limit else self.total / self.limit

    @property
    def left(self) -> Decimal | None:
        return None if self.limit is None else max(Decimal("0"), self.limit - self.total)

    @property
    def state(self) -> State:
        return state_of(self.total, self.limit)


def totals(entries_filter: Q, year: int) -> list[PersonTotal]:
    """Per-person totals of `year`'s entries matching `entries_filter`, physicians first,
    then by name; a few queries whatever the number of people."""
    entries = GiftEntry.objects.filter(_year(year)).filter(entries_filter)
    rows = list(
        entries.values("provider", "staff")
        .annotate(given=Sum("value"), items=Count("pk"))
        .order_by()
    )
    physician_ids = set(
        entries.filter(physician=True, provider__isnull=False).values_list("provider", flat=True)
    )
    provider_ids = [r["provider"] for r in rows if r["provider"]]
    # A physician's total counts every gift of the year, at any practice.
    whole_year = {
        r["provider"]: r
        for r in GiftEntry.objects.filter(_year(year), provider__in=provider_ids)
        .values("provider")
        .annotate(given=Sum("value"), items=Count("pk"))
        .order_by()
    }
    repaid = dict(
        Overage.objects.filter(provider__in=provider_ids, gift__given_on__year=year)
        .values("provider")
        .annotate(s=Sum("repaid_amount"))
        .values_list("provider", "s")
        .order_by()
    )
    providers = Provider.objects.in_bulk(provider_ids)
    staff = StaffContact.objects.in_bulk([r["staff"] for r in rows if r["staff"]])
    found = entered_limit(year)
    out = []
    for row in rows:
        if row["provider"]:
            provider = providers[row["provider"]]
            physician = provider.pk in physician_ids or is_physician(provider.credentials)
            out.append(
                PersonTotal(
                    provider=provider,
                    staff=None,
                    name=f"{provider.first_name} {provider.last_name}",
                    role=provider.credentials,
                    physician=physician,
                    items=whole_year[provider.pk]["items"],
                    given=whole_year[provider.pk]["given"],
                    repaid=repaid.get(provider.pk) or Decimal("0"),
                    limit=found if physician else None,
                )
            )
        else:
            person = staff[row["staff"]]
            out.append(
                PersonTotal(
                    provider=None,
                    staff=person,
                    name=person.name,
                    role=person.get_role_display(),
                    physician=False,
                    items=row["items"],
                    given=row["given"],
                    repaid=Decimal("0"),
                    limit=None,
                )
            )
    out.sort(key=lambda r: (not r.physician, r.name.lower()))
    return out


def practice_gifts(practice: Practice, year: int) -> list[PersonTotal]:
    """This year's gifts and meals per person of `practice`, for its relationship page:
    everyone who had one from this practice, their year's total against the limit."""
    return totals(Q(practice=practice), year)


@dataclass(frozen=True)
class ReportRow:
    person: PersonTotal
    practice: str
    npi: str
    overages: list[tuple[Overage, str]]  # with their state


@dataclass(frozen=True)
class Report:
    year: int
    limit: Decimal | None
    physicians: list[ReportRow]
    others: list[PersonTotal]
    on: date


def compliance_report(year: int, *, on: date | None = None) -> Report:
    """The year's figures per physician (total, limit, any overage and its repayment), then
    the non-physicians, tracked without a limit."""
    on = on or today()
    people = totals(Q(), year)
    overages: dict[int, list[tuple[Overage, str]]] = {}
    for overage in Overage.objects.filter(gift__given_on__year=year).select_related("gift"):
        overages.setdefault(overage.provider_id, []).append((overage, overage_state(overage, on)))
    practice_ids = {p.provider.practice_id for p in people if p.provider and p.provider.practice_id}
    practices = dict(Practice.objects.filter(pk__in=practice_ids).values_list("pk", "name"))
    physicians = [
        ReportRow(
            person=p,
            practice=practices.get(p.provider.practice_id or 0, "") if p.provider else "",
            npi=p.provider.npi if p.provider else "",
            overages=overages.get(p.provider.pk, []) if p.provider else [],
        )
        for p in people
        if p.physician
    ]
    limit = entered_limit(year)
    return Report(year, limit, physicians, [p for p in people if not p.physician], on)
