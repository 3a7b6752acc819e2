"""The referring provider named on a packet, found in the directory or proposed for it.

NPI first: a number with a valid check digit that the directory holds is the provider.
Without a usable NPI, a provider whose name is close to the one read and who shares the
packet's fax number or city is taken; the reason says which. Otherwise the details read
are proposed as a new directory entry. A valid NPI the directory lacks is a new provider:
the name is not used then, since a near-namesake elsewhere is a different person.
"""

import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from django.db.models import Q

from refloop.network.models import Provider
from refloop.network.npi import is_valid_npi

NAME_SIMILARITY = 0.85


@dataclass
class Match:
    provider: Provider | None
    reason: str
    proposed: dict = field(default_factory=dict)


def _digits(value: str) -> str:
    digits = re.sub(r"\D", "", value or "")
    return digits[1:] if len(digits) == 11 and digits.startswith("1") else digits


def _norm_name(value: str) -> str:
    return re.sub(r"[^a-z ]", "", value.lower()).strip()


def match_provider(fields: dict[str, dict], *, cities: AbstractSet[str] = frozenset()) -> Match:
    """`fields` in the IntakeCandidate.fields shape; `cities` read near the provider."""

    def value(name: str) -> str:
        return (fields.get(name) or {}).get("value", "")

    npi, name, fax = value("provider_npi"), value("provider_name"), _digits(value("provider_fax"))
    if npi and is_valid_npi(npi):
        provider = Provider.objects.select_related("practice").filter(npi=npi).first()
        if provider is not None:
            return Match(provider, f"NPI {npi} is in the directory.")
        return Match(None, f"NPI {npi} is not in the directory yet.", _proposal(fields))
    if name:
        found = _by_name(name, fax, {c.lower() for c in cities})
        if found is not None:
            return found
    if not any(value(f) for f in ("provider_name", "provider_npi", "provider_phone")) and not fax:
        return Match(None, "No referring provider could be read.")
    return Match(None, "No directory entry matches the provider read.", _proposal(fields))


def _by_name(name: str, fax: str, cities: set[str]) -> Match | None:
    wanted = _norm_name(name)
    parts = wanted.split()
    if not parts:
        return None
    last = parts[-1]
    # Candidates share the first letters of the last name (OCR errors are rarely there)
    # or the fax number; both are small sets even in a large directory.
    query = Q(last_name__istartswith=last[:3])
    if len(fax) == 10:
        query |= Q(fax__endswith=fax[-4:]) | Q(practice__fax__endswith=fax[-4:])
    best: tuple[float, Provider, str] | None = None
    for provider in Provider.objects.select_related("practice").filter(query)[:500]:
        similarity = SequenceMatcher(
            None, wanted, _norm_name(f"{provider.first_name} {provider.last_name}")
        ).ratio()
        if similarity < NAME_SIMILARITY:
            continue
        practice = provider.practice
        if fax and fax in {_digits(provider.fax), _digits(practice.fax if practice else "")}:
            reason = "Name and fax number match the directory."
        elif practice is not None and practice.city and practice.city.lower() in cities:
            reason = f"Name matches and the practice is in {practice.city}."
        else:
            continue
        if best is None or similarity > best[0]:
            best = (similarity, provider, reason)
    if best is None:
        return None
    return Match(best[1], best[2])


def _proposal(fields: dict[str, dict]) -> dict:
    return {
        key: (fields.get(source) or {}).get("value", "")
        for key, source in (
            ("name", "provider_name"),
            ("npi", "provider_npi"),
            ("phone", "provider_phone"),
            ("fax", "provider_fax"),
        )
    }
