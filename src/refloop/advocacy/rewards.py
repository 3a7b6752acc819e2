"""Thank-you rewards for advocates, off by default: the practice's switch, its list of
non-cash items, and the ledger that holds every gift within the OIG's nominal value
($15 an item, $75 a patient a calendar year; models.REWARD_*_LIMIT_CENTS).

Which state's law applies: the states of the locations where the advocate was seen (their
attended appointments); for an advocate never seen at a location, every location of the
practice, so a bar in any state the practice works in holds.
"""

import re
from datetime import datetime

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from refloop.advocacy.advocates import advocate_touch
from refloop.advocacy.events import record_event
from refloop.advocacy.models import (
    REWARD_ITEM_LIMIT_CENTS,
    REWARD_YEAR_LIMIT_CENTS,
    AdvocacySettings,
    Advocate,
    FriendReferral,
    Reward,
    RewardItem,
)
from refloop.core import audit
from refloop.core.audit import Touch
from refloop.core.errors import Conflict, InvalidInput
from refloop.practice.models import Location, Organization
from refloop.referrals.models import Appointment, AppointmentOutcome

# Names that read as cash or a cash equivalent, which the OIG never allows whatever the value.
CASH_WORDS = re.compile(
    r"\b(cash|money|gift ?cards?|gift ?certificates?|prepaid|pre-paid|debit|credit|checks?|"
    r"cheques?|vouchers?|coupons?|visa|mastercard|amex|paypal|venmo|zelle|e-?gift|"
    r"store credit|bitcoin|crypto|dollars?|\$)",
    re.IGNORECASE,
)
STATE = re.compile(r"^[A-Z]{2}$")


def dollars(cents: int) -> str:
    return f"${cents // 100}.{cents % 100:02d}"


# ---------------------------------------------------------------- settings and the item list


def update_settings(*, acting_user, enabled: bool, barred_states: list[str], now: datetime) -> None:
    states = sorted({s.strip().upper() for s in barred_states if s.strip()})
    bad = [s for s in states if not STATE.match(s)]
    if bad:
        raise InvalidInput(
            f"Write each state as its two-letter code (for example TX), not {bad[0]}.",
            field="barred_states",
        )
    found = AdvocacySettings.current()
    found.rewards_enabled = enabled
    found.rewards_barred_states = states
    found.save()
    audit.record(
        "advocacy_settings.rewards_changed",
        Touch("advocacy_settings", found.pk),
        actor=acting_user,
        detail={"enabled": enabled, "barred_states": states},
        now=now,
    )


def add_item(
    *, acting_user, name: str, value_cents: int, not_cash: bool, now: datetime
) -> RewardItem:
    name = name.strip()
    if not name:
        raise InvalidInput("Give the item a name.", field="name")
    if CASH_WORDS.search(name):
        raise InvalidInput(
            "This reads as cash or a cash equivalent (a gift card, prepaid card, check or "
            "voucher), which may never be given to a patient. Choose a small item instead.",
            field="name",
        )
    if not not_cash:
        raise InvalidInput(
            "Confirm that the item is not cash or a cash equivalent.", field="not_cash"
        )
    if value_cents <= 0:
        raise InvalidInput("Give the item's value, more than $0.00.", field="value")
    if value_cents > REWARD_ITEM_LIMIT_CENTS:
        raise InvalidInput(
            f"An item may be worth at most {dollars(REWARD_ITEM_LIMIT_CENTS)}; this one is "
            f"{dollars(value_cents)}.",
            field="value",
        )
    item = RewardItem.objects.create(name=name, value_cents=value_cents)
    audit.record(
        "reward_item.added",
        Touch("reward_item", item.pk),
        actor=acting_user,
        detail={"value_cents": value_cents},
        now=now,
    )
    return item


def set_item_active(*, acting_user, item: RewardItem, active: bool, now: datetime) -> None:
    item.active = active
    item.save(update_fields=["active"])
    audit.record(
        "reward_item.changed",
        Touch("reward_item", item.pk),
        actor=acting_user,
        detail={"active": active},
        now=now,
    )


# ---------------------------------------------------------------- the ledger


def states_for(advocate: Advocate) -> set[str]:
    """The states whose law applies to `advocate`'s reward (see the module's docstring)."""
    seen_at = set(
        Appointment.objects.filter(
            referral__patient_id=advocate.patient_id,
            outcome=AppointmentOutcome.ATTENDED,
            location__isnull=False,
        )
        .exclude(location__state="")
        .values_list("location__state", flat=True)
    )
    if seen_at:
        return {s.upper() for s in seen_at}
    return {s.upper() for s in Location.objects.exclude(state="").values_list("state", flat=True)}


def barred_state(advocate: Advocate) -> str | None:
    barred = set(AdvocacySettings.current().rewards_barred_states)
    hits = sorted(states_for(advocate) & barred)
    return hits[0] if hits else None


def given_in(advocate: Advocate, year: int) -> int:
    total = Reward.objects.filter(advocate=advocate, year=year).aggregate(t=Sum("value_cents"))
    return total["t"] or 0


def give_reward(
    *,
    advocate: Advocate,
    item: RewardItem,
    friend_referral: FriendReferral | None = None,
    acting_user,
    now: datetime,
    client_key: str | None = None,
    client_fingerprint: str = "",
) -> Reward:
    """Write one thank-you gift in the ledger, or refuse with a sentence saying why.
    `client_key` is an API client's Idempotency-Key: a retry that waited for the first
    send's lock gets the gift that send wrote, not a second one."""
    if not AdvocacySettings.current().rewards_enabled:
        raise Conflict("Thank-you rewards are switched off for this practice.")
    if not item.active:
        raise InvalidInput("This item is no longer on the practice's list.", field="item")
    if item.value_cents > REWARD_ITEM_LIMIT_CENTS:
        raise InvalidInput(
            f"An item may be worth at most {dollars(REWARD_ITEM_LIMIT_CENTS)}; "
            f"{item.name} is {dollars(item.value_cents)}.",
            field="item",
        )
    if friend_referral is not None and friend_referral.advocate_id != advocate.pk:
        raise InvalidInput(
            "That referral did not come through this advocate.", field="friend_referral"
        )
    today = timezone.localdate(now, timezone=Organization.current().zone)
    with transaction.atomic():
        # One gift at a time per advocate: the yearly total is read under the row lock, so two
        # gifts given at once cannot both pass the limit.
        advocate = Advocate.objects.select_for_update().get(pk=advocate.pk)
        if client_key and (earlier := Reward.objects.filter(client_key=client_key).first()):
            return earlier
        if not advocate.active:
            raise Conflict("This patient has opted out of referring friends.")
        state = barred_state(advocate)
        if state is not None:
            raise Conflict(
                f"Rewards for patient referrals are barred in {state}, where this patient is "
                "seen, so none can be given."
            )
        so_far = given_in(advocate, today.year)
        if so_far + item.value_cents > REWARD_YEAR_LIMIT_CENTS:
            raise Conflict(
                f"This would bring the thank-you gifts to this patient in {today.year} to "
                f"{dollars(so_far + item.value_cents)}, over the limit of "
                f"{dollars(REWARD_YEAR_LIMIT_CENTS)} a year ({dollars(so_far)} given so far)."
            )
        reward = Reward.objects.create(
            advocate=advocate,
            item=item,
            friend_referral=friend_referral,
            value_cents=item.value_cents,
            year=today.year,
            given_on=today,
            given_by=acting_user,
            created_at=now,
            client_key=client_key,
            client_fingerprint=client_fingerprint,
        )
        record_event(
            "advocate.rewarded",
            actor=acting_user,
            at=now,
            data={"reward": reward.pk, "item": item.name, "value_cents": item.value_cents},
            advocate=advocate,
        )
        audit.record(
            "reward.given",
            advocate_touch(advocate),
            actor=acting_user,
            detail={"reward": reward.pk, "value_cents": item.value_cents},
            now=now,
        )
    return reward
