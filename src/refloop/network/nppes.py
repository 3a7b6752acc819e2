"""Providers and practice locations from the national NPI registry: CMS's NPPES dissemination
file (npidata_pfile_YYYYMMDD-YYYYMMDD.csv, about 330 columns and several GB) read as a stream
into the directory. Rows are filtered as they are read and written in batches, one
transaction each, so an interrupted import keeps what it wrote and a rerun carries on.

What NPPES last said about each provider and location is kept beside it (NppesProvider,
NppesLocation): a field whose value differs from that record was edited by staff and is left
alone; a field staff filled in before any import is never replaced.
"""

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TextIO

import usaddress
from django.db import transaction
from scourgify import normalize_address_record
from scourgify.exceptions import AddressNormalizationError

from refloop.core.validation import phone_e164
from refloop.network.models import NppesLocation, NppesProvider, Practice, Provider
from refloop.network.npi import npi_problem
from refloop.network.taxonomy import specialty

NPI = "NPI"
ENTITY = "Entity Type Code"
ORG_NAME = "Provider Organization Name (Legal Business Name)"
LAST_NAME = "Provider Last Name (Legal Name)"
FIRST_NAME = "Provider First Name"
CREDENTIALS = "Provider Credential Text"
ADDRESS_1 = "Provider First Line Business Practice Location Address"
ADDRESS_2 = "Provider Second Line Business Practice Location Address"
CITY = "Provider Business Practice Location Address City Name"
STATE = "Provider Business Practice Location Address State Name"
POSTAL_CODE = "Provider Business Practice Location Address Postal Code"
PHONE = "Provider Business Practice Location Address Telephone Number"
FAX = "Provider Business Practice Location Address Fax Number"
DEACTIVATED = "NPI Deactivation Date"
REACTIVATED = "NPI Reactivation Date"
TAXONOMY_SLOTS = range(1, 16)
# The columns read; a file without every one of them is not an NPPES dissemination file.
REQUIRED = (
    NPI,
    ENTITY,
    ORG_NAME,
    LAST_NAME,
    FIRST_NAME,
    CREDENTIALS,
    ADDRESS_1,
    ADDRESS_2,
    CITY,
    STATE,
    POSTAL_CODE,
    PHONE,
    FAX,
    DEACTIVATED,
    REACTIVATED,
    *(f"Healthcare Provider Taxonomy Code_{n}" for n in TAXONOMY_SLOTS),
    *(f"Healthcare Provider Primary Taxonomy Switch_{n}" for n in TAXONOMY_SLOTS),
)
INDIVIDUAL, ORGANIZATION = "1", "2"
BATCH_ROWS = 500
PROGRESS_EVERY = 50_000
PROBLEMS_LISTED = 200  # beyond this, problems are counted, not listed

PRACTICE_FIELDS = ("name", "address", "city", "state", "postal_code", "phone", "fax")
PROVIDER_FIELDS = (
    "first_name",
    "last_name",
    "credentials",
    "taxonomy_code",
    "specialty",
    "phone",
    "fax",
    "practice_id",
)


class NotAnNppesFile(Exception):
    """The file is not the NPPES dissemination CSV; nothing was written."""


@dataclass(frozen=True)
class Filters:
    states: frozenset[str] = frozenset()
    taxonomies: frozenset[str] = frozenset()
    cities: frozenset[str] = frozenset()

    @classmethod
    def of(cls, states=(), taxonomies=(), cities=()) -> "Filters":
        return cls(
            frozenset(s.strip().upper() for s in states if s.strip()),
            frozenset(t.strip().upper() for t in taxonomies if t.strip()),
            frozenset(_squash(c) for c in cities if c.strip()),
        )


@dataclass(frozen=True)
class Location:
    key: str
    address: str
    city: str
    state: str
    postal_code: str
    phone: str
    fax: str


@dataclass(frozen=True)
class Row:
    line: int
    npi: str
    entity: str
    name: str  # an organization's legal business name
    first_name: str
    last_name: str
    credentials: str
    taxonomy_code: str
    location: Location


@dataclass
class Result:
    rows_read: int = 0
    rows_matched: int = 0
    providers_added: int = 0
    providers_updated: int = 0
    providers_unchanged: int = 0
    deactivated: int = 0
    malformed: int = 0
    practices_added: int = 0
    practices_updated: int = 0
    staff_values_kept: int = 0
    problems: list[str] = field(default_factory=list)
    report: Callable[[str], None] | None = field(default=None, repr=False, compare=False)

    @property
    def providers_skipped(self) -> int:
        return self.deactivated + self.malformed

    def problem(self, line: int, what: str) -> None:
        self.malformed += 1
        if len(self.problems) < PROBLEMS_LISTED:
            said = f"line {line}: {what}; skipped."
            self.problems.append(said)
            if self.report:
                self.report(said)


Progress = Callable[[Result], None]


def import_file(
    path: Path,
    filters: Filters = Filters(),  # noqa: B008 (frozen, so a shared default is safe)
    *,
    progress: Progress | None = None,
    on_problem: Callable[[str], None] | None = None,
) -> Result:
    """Read the NPPES file at `path` into the directory. Raises NotAnNppesFile (before writing
    anything) when its first line is not the NPPES header."""
    result = Result(report=on_problem)
    importer = _Importer(result)
    batch: list[Row] = []
    for row in _rows(path, filters, result, progress):
        batch.append(row)
        if len(batch) >= BATCH_ROWS:
            importer.write(batch)
            batch = []
    if batch:
        importer.write(batch)
    return result


# --- reading ---------------------------------------------------------------------------------


def _rows(path: Path, filters: Filters, result: Result, progress: Progress | None) -> Iterator[Row]:
    """The matching rows of the file, in order; counts the others in `result`."""
    with _text(path) as stream:
        reader = csv.reader(stream)
        try:
            header = next(reader, None)
        except csv.Error:
            header = None
        at = _positions(path, header)
        width = len(header or ())
        npi_at, entity_at, state_at, city_at = at[NPI], at[ENTITY], at[STATE], at[CITY]
        deactivated_at, reactivated_at = at[DEACTIVATED], at[REACTIVATED]
        taxonomy_at = [at[f"Healthcare Provider Taxonomy Code_{n}"] for n in TAXONOMY_SLOTS]
        primary_at = [
            at[f"Healthcare Provider Primary Taxonomy Switch_{n}"] for n in TAXONOMY_SLOTS
        ]
        while True:
            try:
                values = next(reader)
            except StopIteration:
                if progress:
                    progress(result)
                return
            except csv.Error as error:
                result.rows_read += 1
                result.problem(reader.line_num, f"not readable as CSV ({error})")
                continue
            if not values:  # a blank line
                continue
            result.rows_read += 1
            if progress and result.rows_read % PROGRESS_EVERY == 0:
                progress(result)
            if len(values) != width:
                result.problem(reader.line_num, f"has {len(values)} columns, not {width}")
                continue
            if filters.states and values[state_at].strip().upper() not in filters.states:
                continue
            if filters.cities and _squash(values[city_at]) not in filters.cities:
                continue
            if _deactivated(values[deactivated_at], values[reactivated_at]):
                result.deactivated += 1
                continue
            entity = values[entity_at].strip()
            codes = [values[i].strip().upper() for i in taxonomy_at]
            if (
                filters.taxonomies
                and entity != ORGANIZATION
                and not filters.taxonomies.intersection(codes)
            ):
                continue
            npi = values[npi_at].strip()
            problem = _npi_problem(npi)
            if problem:
                result.problem(reader.line_num, problem)
                continue
            row = _row(reader.line_num, npi, entity, values, at, codes, primary_at)
            if isinstance(row, str):
                result.problem(reader.line_num, f"NPI {npi}: {row}")
                continue
            result.rows_matched += 1
            yield row


@contextmanager
def _text(path: Path) -> Iterator[TextIO]:
    """The file as text; from CMS's download (NPPES_Data_Dissemination_….zip) as it is, its
    npidata_pfile read from inside the archive, so nobody has to unpack 10 GB first."""
    if not zipfile.is_zipfile(path):
        with path.open(newline="", encoding="utf-8", errors="replace") as stream:
            yield stream
        return
    with zipfile.ZipFile(path) as archive:
        inside = [
            name
            for name in archive.namelist()
            if Path(name).name.startswith("npidata_pfile_")
            and name.endswith(".csv")
            and not name.endswith("_fileheader.csv")
        ]
        if not inside:
            raise NotAnNppesFile(
                f"{path.name} is a zip archive without an npidata_pfile_…csv in it, so not "
                "CMS's NPPES download. Nothing was imported."
            )
        with archive.open(inside[0]) as raw:
            yield io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")


def _npi_problem(npi: str) -> str | None:
    if not npi_problem(npi):
        return None
    if len(npi) != 10 or not npi.isdigit():
        return f"NPI {npi!r} is not 10 digits"
    return f"NPI {npi} has a wrong check digit"


def _positions(path: Path, header: list[str] | None) -> dict[str, int]:
    names = [name.strip().lstrip("\ufeff") for name in header or ()]
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        shown = ", ".join(f'"{name}"' for name in missing[:3])
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise NotAnNppesFile(
            f"{path.name} is not an NPPES dissemination file (npidata_pfile_…csv from CMS): "
            f"its first line lacks the columns {shown}{more}. Nothing was imported."
        )
    return {name: names.index(name) for name in REQUIRED}


def _deactivated(deactivated: str, reactivated: str) -> bool:
    """Deactivated and not reactivated since (dates are MM/DD/YYYY)."""
    if not deactivated.strip():
        return False
    if not reactivated.strip():
        return True
    return _sortable(reactivated) < _sortable(deactivated)


def _sortable(date: str) -> str:
    month, _, rest = date.strip().partition("/")
    day, _, year = rest.partition("/")
    return f"{year}{month:0>2}{day:0>2}"


def _row(line, npi, entity, values, at, codes, primary_at) -> Row | str:
    """The row's fields, or why it cannot be imported."""
    if entity not in (INDIVIDUAL, ORGANIZATION):
        return f"entity type {entity or '(blank)'} is neither 1 (individual) nor 2 (organization)"
    name = first = last = ""
    if entity == ORGANIZATION:
        name = _display(values[at[ORG_NAME]])
        if not name:
            return "an organization without a legal business name"
    else:
        first, last = _display(values[at[FIRST_NAME]]), _display(values[at[LAST_NAME]])
        if not first or not last:
            return "an individual without a first and last name"
    primary = next(
        (code for code, i in zip(codes, primary_at, strict=True) if code and values[i] == "Y"),
        next((code for code in codes if code), ""),
    )
    location = _location(
        values[at[ADDRESS_1]],
        values[at[ADDRESS_2]],
        values[at[CITY]],
        values[at[STATE]],
        values[at[POSTAL_CODE]],
        values[at[PHONE]],
        values[at[FAX]],
    )
    if location is None:
        return "no practice location address"
    return Row(
        line,
        npi,
        entity,
        name[:200],
        first[:80],
        last[:80],
        _credentials(values[at[CREDENTIALS]])[:40],
        primary[:10],
        location,
    )


def _location(line_1, line_2, city, state, postal, phone, fax) -> Location | None:
    if not line_1.strip():
        return None
    digits = re.sub(r"\D", "", postal)
    zip5 = digits[:5] if len(digits) >= 5 else ""
    address, city = _normalized_address(
        line_1.strip(), line_2.strip(), city.strip(), state.strip().upper(), zip5
    )
    phone, fax = _phone(phone), _phone(fax)
    key = "|".join((address, zip5, phone_e164(phone)))
    return Location(
        key=key[:300],
        address=_display(address)[:200],
        city=_display(city)[:80],
        state=state.strip().upper()[:2],
        postal_code=zip5,
        phone=phone,
        fax=fax,
    )


@lru_cache(maxsize=65_536)
def _normalized_address(
    line_1: str, line_2: str, city: str, state: str, zip5: str
) -> tuple[str, str]:
    """The address lines and city as USPS Publication 28 writes them (scourgify), so
    "1200 North Main Street, Suite 300" and "1200 N. MAIN ST STE 300" are one location. An
    address scourgify cannot parse is kept in capitals without punctuation. Many rows share
    an address, hence the cache."""
    try:
        parts = normalize_address_record(
            {
                "address_line_1": line_1,
                "address_line_2": line_2,
                "city": city,
                "state": state,
                "postal_code": zip5,
            }
        )
    except (AddressNormalizationError, usaddress.RepeatedLabelError):
        lines = " ".join((line_1, line_2))
        return _squash(lines), _squash(city)
    lines = " ".join(p for p in (parts["address_line_1"], parts.get("address_line_2")) if p)
    return lines, parts.get("city") or _squash(city)


def _squash(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s#/-]", " ", text.upper()).split())


def _phone(value: str) -> str:
    """A North American number as (217) 555-0142; any other valid number as given; '' else."""
    e164 = phone_e164(value)
    if e164.startswith("+1") and len(e164) == 12:
        return f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}"
    return value.strip()[:30] if e164 else ""


# Kept in capitals when names and addresses in capitals are put in mixed case.
_UPPER = frozenset(
    "N S E W NE NW SE SW PO LLC PLLC PC PA LLP LP SC LTD MD DO DDS DPM OD PT NP PHD MPH FACS "
    "USA US II III IV VA ENT RR HC".split()
)
_ORDINAL = re.compile(r"^(\d+)(ST|ND|RD|TH)$")


def _display(text: str) -> str:
    """NPPES writes most names and addresses in capitals; people read them in mixed case.
    Text already in mixed case is left as it is."""
    text = " ".join(text.split())
    if text != text.upper():
        return text
    return " ".join(_word(word) for word in text.split(" "))


def _word(word: str) -> str:
    if word.strip(",.") in _UPPER or any(ch.isdigit() for ch in word):
        ordinal = _ORDINAL.match(word)
        return f"{ordinal[1]}{ordinal[2].lower()}" if ordinal else word
    return word.title()


def _credentials(text: str) -> str:
    """ "M.D." as MD, "m.d., ph.d." as "MD, PHD": how credentials are written elsewhere."""
    return ", ".join(
        " ".join(part.replace(".", "").upper().split())
        for part in text.split(",")
        if part.strip(" .")
    )


# --- writing ---------------------------------------------------------------------------------


def _merge(obj, values: dict, imported: dict, result: Result) -> list[str]:
    """Set each field of `obj` to NPPES's value unless staff own it; record NPPES's values in
    `imported`. Staff own a field whose value differs from the one last imported, and a field
    they filled in before the first import. Returns the fields changed."""
    changed = []
    for name, value in values.items():
        current = getattr(obj, name)
        if name in imported:
            staff_edited = current != imported[name]
        else:
            staff_edited = current not in ("", None) and current != value
        if staff_edited:
            if current != value:
                result.staff_values_kept += 1
        elif current != value:
            setattr(obj, name, value)
            changed.append(name)
        imported[name] = value
    return changed


class _Importer:
    def __init__(self, result: Result):
        self.result = result
        self._directory_index: dict[str, int] | None = None
        self._added_values: dict[str, dict] = {}  # what new providers were given, by NPI

    def directory_index(self) -> dict[str, int]:
        """Practices staff entered by hand, by location key, to be matched instead of
        duplicated. Built once, on the first location NPPES has not given us before."""
        if self._directory_index is None:
            index: dict[str, int] = {}
            for practice in Practice.objects.filter(nppes__isnull=True).only(
                "pk", "address", "city", "state", "postal_code", "phone"
            ):
                location = _location(
                    practice.address,
                    "",
                    practice.city,
                    practice.state,
                    practice.postal_code,
                    practice.phone,
                    "",
                )
                if location is not None:
                    index.setdefault(location.key, practice.pk)
            self._directory_index = index
        return self._directory_index

    @transaction.atomic
    def write(self, rows: list[Row]) -> None:
        keys = {row.location.key for row in rows}
        locations = {
            location.key: location
            for location in NppesLocation.objects.select_related("practice").filter(key__in=keys)
        }
        people = [row for row in rows if row.entity == INDIVIDUAL]
        providers = {
            provider.npi: provider
            for provider in Provider.objects.filter(npi__in=[row.npi for row in people])
        }
        records = {
            record.provider_id: record
            for record in NppesProvider.objects.filter(provider__in=list(providers.values()))
        }
        dirty_locations: dict[str, NppesLocation] = {}
        for row in rows:
            location = locations.get(row.location.key)
            if location is None:
                location = self._new_location(row.location)
                locations[row.location.key] = location
                dirty_locations[location.key] = location
            if row.entity == ORGANIZATION:
                if self._name_location(location, row):
                    dirty_locations[location.key] = location
            else:
                if location.practice is None:
                    self._add_practice(location, row.location)
                    dirty_locations[location.key] = location
                self._upsert_provider(row, location, providers, records)
        dirty = list(dirty_locations.values())
        NppesLocation.objects.bulk_create([loc for loc in dirty if loc.pk is None])
        NppesLocation.objects.bulk_update(
            [loc for loc in dirty if loc.pk is not None],
            ["practice", "org_npi", "org_name", "values"],
        )
        # New providers go in with one INSERT per batch: the ORM's save() per row cost
        # about 1.5 ms each, most of an import's time.
        added = [p for p in providers.values() if p.pk is None]
        Provider.objects.bulk_create(added)
        NppesProvider.objects.bulk_create(
            [NppesProvider(provider=p, values=self._added_values.pop(p.npi)) for p in added]
        )

    def _new_location(self, where: Location) -> NppesLocation:
        practice_id = self.directory_index().pop(where.key, None)
        practice = Practice.objects.get(pk=practice_id) if practice_id else None
        return NppesLocation(key=where.key, practice=practice, values={})

    def _name_location(self, location: NppesLocation, row: Row) -> bool:
        """An organization at the location names its practice (the lowest NPI among them, so
        the name does not depend on the order of the rows). True if the location changed."""
        if location.org_npi and location.org_npi < row.npi:
            return False
        before = (location.org_npi, location.org_name, dict(location.values))
        location.org_npi, location.org_name = row.npi, row.name
        practice = location.practice
        if practice is not None:
            changed = _merge(
                practice,
                {"name": row.name, "city": row.location.city, "fax": row.location.fax},
                location.values,
                self.result,
            )
            if changed:
                practice.save(update_fields=changed)
                self.result.practices_updated += 1
        return before != (location.org_npi, location.org_name, location.values)

    def _add_practice(self, location: NppesLocation, where: Location) -> None:
        name = location.org_name or f"Practice at {where.address}, {where.city}".strip(", ")
        values = {
            "name": name[:200],
            "address": where.address,
            "city": where.city,
            "state": where.state,
            "postal_code": where.postal_code,
            "phone": where.phone,
            "fax": where.fax,
        }
        practice = Practice(**values)
        practice.save()
        location.practice = practice
        location.values = values
        self.result.practices_added += 1

    def _upsert_provider(self, row: Row, location: NppesLocation, providers, records) -> None:
        assert location.practice is not None
        values = {
            "first_name": row.first_name,
            "last_name": row.last_name,
            "credentials": row.credentials,
            "taxonomy_code": row.taxonomy_code,
            "specialty": specialty(row.taxonomy_code),
            "phone": row.location.phone,
            "fax": row.location.fax,
            "practice_id": location.practice.pk,
        }
        provider = providers.get(row.npi)
        if provider is None:
            providers[row.npi] = Provider(npi=row.npi, **values)
            self._added_values[row.npi] = values
            self.result.providers_added += 1
            return
        if provider.pk is None:
            self.result.problem(row.line, f"NPI {row.npi} appears a second time in the file")
            return
        record = records.get(provider.pk)
        if record is None:
            record = records[provider.pk] = NppesProvider(provider=provider, values={})
        before = dict(record.values)
        changed = _merge(provider, values, record.values, self.result)
        if changed:
            provider.save(update_fields=[name.removesuffix("_id") for name in changed])
            self.result.providers_updated += 1
        else:
            self.result.providers_unchanged += 1
        if record.values != before:
            record.save()
