"""`refloop directory import-nppes`: providers and practices from the NPPES dissemination file,
on small files in its real layout (330 columns, the header CMS publishes, every value quoted),
written here."""

import csv
import io
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from refloop.core.models import AuditEntry
from refloop.demo import factories as f
from refloop.network.models import NppesLocation, Practice, Provider
from refloop.network.npi import check_digit
from refloop.outreach.models import Relationship, Tier

pytestmark = pytest.mark.django_db


def _header() -> list[str]:
    """The header of npidata_pfile_YYYYMMDD-YYYYMMDD.csv, in order (NPPES Data Dissemination
    Readme, version 2 files: 330 columns)."""
    names = [
        "NPI",
        "Entity Type Code",
        "Replacement NPI",
        "Employer Identification Number (EIN)",
        "Provider Organization Name (Legal Business Name)",
        "Provider Last Name (Legal Name)",
        "Provider First Name",
        "Provider Middle Name",
        "Provider Name Prefix Text",
        "Provider Name Suffix Text",
        "Provider Credential Text",
        "Provider Other Organization Name",
        "Provider Other Organization Name Type Code",
        "Provider Other Last Name",
        "Provider Other First Name",
        "Provider Other Middle Name",
        "Provider Other Name Prefix Text",
        "Provider Other Name Suffix Text",
        "Provider Other Credential Text",
        "Provider Other Last Name Type Code",
        "Provider First Line Business Mailing Address",
        "Provider Second Line Business Mailing Address",
        "Provider Business Mailing Address City Name",
        "Provider Business Mailing Address State Name",
        "Provider Business Mailing Address Postal Code",
        "Provider Business Mailing Address Country Code (If outside U.S.)",
        "Provider Business Mailing Address Telephone Number",
        "Provider Business Mailing Address Fax Number",
        "Provider First Line Business Practice Location Address",
        "Provider Second Line Business Practice Location Address",
        "Provider Business Practice Location Address City Name",
        "Provider Business Practice Location Address State Name",
        "Provider Business Practice Location Address Postal Code",
        "Provider Business Practice Location Address Country Code (If outside U.S.)",
        "Provider Business Practice Location Address Telephone Number",
        "Provider Business Practice Location Address Fax Number",
        "Provider Enumeration Date",
        "Last Update Date",
        "NPI Deactivation Reason Code",
        "NPI Deactivation Date",
        "NPI Reactivation Date",
        "Provider Sex Code",
        "Authorized Official Last Name",
        "Authorized Official First Name",
        "Authorized Official Middle Name",
        "Authorized Official Title or Position",
        "Authorized Official Telephone Number",
    ]
    for n in range(1, 16):
        names += [
            f"Healthcare Provider Taxonomy Code_{n}",
            f"Provider License Number_{n}",
            f"Provider License Number State Code_{n}",
            f"Healthcare Provider Primary Taxonomy Switch_{n}",
        ]
    for n in range(1, 51):
        names += [
            f"Other Provider Identifier_{n}",
            f"Other Provider Identifier Type Code_{n}",
            f"Other Provider Identifier State_{n}",
            f"Other Provider Identifier Issuer_{n}",
        ]
    names += [
        "Is Sole Proprietor",
        "Is Organization Subpart",
        "Parent Organization LBN",
        "Parent Organization TIN",
        "Authorized Official Name Prefix Text",
        "Authorized Official Name Suffix Text",
        "Authorized Official Credential Text",
        *(f"Healthcare Provider Taxonomy Group_{n}" for n in range(1, 16)),
        "Certification Date",
    ]
    return names


HEADER = _header()


def npi(first_nine: str) -> str:
    return first_nine + check_digit(first_nine)


MAIN_ST = {
    "Provider First Line Business Practice Location Address": "1200 NORTH MAIN STREET",
    "Provider Second Line Business Practice Location Address": "SUITE 300",
    "Provider Business Practice Location Address City Name": "SPRINGFIELD",
    "Provider Business Practice Location Address State Name": "IL",
    "Provider Business Practice Location Address Postal Code": "627011234",
    "Provider Business Practice Location Address Country Code (If outside U.S.)": "US",
    "Provider Business Practice Location Address Telephone Number": "2175550142",
    "Provider Business Practice Location Address Fax Number": "2175550143",
}


def person(number: str, last: str, first: str, *, credential="M.D.", taxonomy="207Q00000X", **more):
    values = {
        "NPI": number,
        "Entity Type Code": "1",
        "Provider Last Name (Legal Name)": last,
        "Provider First Name": first,
        "Provider Credential Text": credential,
        "Provider Sex Code": "F",
        "Provider Enumeration Date": "05/23/2005",
        "Last Update Date": "07/08/2007",
        "Healthcare Provider Taxonomy Code_1": "390200000X",
        "Provider License Number_1": "036.112233",
        "Provider License Number State Code_1": "IL",
        "Healthcare Provider Primary Taxonomy Switch_1": "N",
        "Healthcare Provider Taxonomy Code_2": taxonomy,
        "Provider License Number_2": "036.112234",
        "Provider License Number State Code_2": "IL",
        "Healthcare Provider Primary Taxonomy Switch_2": "Y",
        "Other Provider Identifier_1": "A12345",
        "Other Provider Identifier Type Code_1": "05",
        "Other Provider Identifier State_1": "IL",
        "Is Sole Proprietor": "N",
        **MAIN_ST,
    }
    values.update(more)
    return values


def organization(number: str, name: str, **more):
    values = {
        "NPI": number,
        "Entity Type Code": "2",
        "Employer Identification Number (EIN)": "<UNAVAIL>",
        "Provider Organization Name (Legal Business Name)": name,
        "Authorized Official Last Name": "WELLS",
        "Authorized Official First Name": "DANA",
        "Authorized Official Title or Position": "PRACTICE MANAGER",
        "Authorized Official Telephone Number": "2175550100",
        "Healthcare Provider Taxonomy Code_1": "193200000X",
        "Healthcare Provider Primary Taxonomy Switch_1": "Y",
        "Is Organization Subpart": "N",
        **MAIN_ST,
    }
    values.update(more)
    return values


def deactivated(number: str):
    # How CMS writes a deactivated NPI: the number and the date, every other column blank.
    return {"NPI": number, "NPI Deactivation Date": "04/12/2019"}


def write(path, rows) -> None:
    """The rows as CMS writes them: every value quoted, CRLF line ends. A row given as a list
    is written as it is (a short row)."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in rows:
        if isinstance(row, list):
            writer.writerow(row)
        else:
            unknown = set(row) - set(HEADER)
            assert not unknown, unknown
            writer.writerow([row.get(name, "") for name in HEADER])
    path.write_text(out.getvalue(), encoding="utf-8")


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("directory", "import-nppes", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


JANE, RAJ, OLD, WISCONSIN, ORG = (
    npi("100000000"),
    npi("100000001"),
    npi("100000002"),
    npi("100000003"),
    npi("100000004"),
)
BAD_CHECK_DIGIT = JANE[:9] + str((int(JANE[9]) + 1) % 10)


@pytest.fixture
def registry(tmp_path):
    path = tmp_path / "npidata_pfile_20260601-20260607.csv"
    write(
        path,
        [
            person(JANE, "DOE", "JANE"),  # line 2
            deactivated(OLD),  # line 3
            # The same office written another way, with the NPPES Plus-4 dropped.
            person(
                RAJ,
                "PATEL",
                "RAJ",
                credential="D.O.",
                **{
                    "Provider First Line Business Practice Location Address": "1200 N. Main St.",
                    "Provider Second Line Business Practice Location Address": "Ste 300",
                    "Provider Business Practice Location Address Postal Code": "62701",
                },
            ),  # line 4
            organization(ORG, "SPRINGFIELD FAMILY MEDICINE, LLC"),  # line 5
            person(
                WISCONSIN,
                "LUND",
                "ERIK",
                **{"Provider Business Practice Location Address State Name": "WI"},
            ),  # line 6
            person(BAD_CHECK_DIGIT, "ROE", "RICH"),  # line 7
            [npi("100000005"), "1", "", "", "", "SHORT", "ROW"],  # line 8: columns missing
        ],
    )
    return path


def snapshot() -> list[tuple]:
    return [
        *Provider.objects.order_by("npi").values_list(
            "npi", "first_name", "last_name", "credentials", "taxonomy_code", "specialty",
            "phone", "fax", "practice_id",
        ),
        *Practice.objects.order_by("pk").values_list(
            "pk", "name", "address", "city", "state", "postal_code", "phone", "fax"
        ),
    ]  # fmt: skip


def test_import_adds_providers_to_the_practice_their_organization_names(registry):
    out, err = run(registry, "--state", "IL")

    jane, raj = Provider.objects.get(npi=JANE), Provider.objects.get(npi=RAJ)
    assert (jane.first_name, jane.last_name, jane.credentials) == ("Jane", "Doe", "MD")
    assert (jane.taxonomy_code, jane.specialty) == ("207Q00000X", "Family Medicine")
    assert raj.credentials == "DO"
    assert jane.practice_id == raj.practice_id  # one location, however it is written
    practice = jane.practice
    assert practice.name == "Springfield Family Medicine, LLC"
    assert (practice.address, practice.city, practice.state, practice.postal_code) == (
        "1200 N Main St Ste 300",
        "Springfield",
        "IL",
        "62701",
    )
    assert (practice.phone, practice.fax) == ("(217) 555-0142", "(217) 555-0143")
    assert Practice.objects.count() == 1
    assert not Provider.objects.filter(npi__in=[OLD, WISCONSIN]).exists()
    assert practice.relationship.computed_tier == Tier.PROSPECT

    assert f"line 7: NPI {BAD_CHECK_DIGIT} has a wrong check digit; skipped." in out
    assert "line 8: has 7 columns, not 330; skipped." in out
    # The deactivated NPI is written with no state, so --state IL does not count it.
    assert (
        "Read 7 rows, 3 matching the filters. Providers: 2 added, 0 updated, 0 unchanged, "
        "2 skipped (0 deactivated, 2 with problems listed above). Practices: 1 added, "
        "1 updated."  # named by the organization after the first provider made it
    ) in out
    assert "1 practice from NPPES is a prospect." in out
    assert "7 rows read, 3 matched" in err  # progress goes to stderr
    entry = AuditEntry.objects.get(action="directory.nppes_imported")
    assert entry.detail["providers_added"] == 2 and entry.channel == "cli"


def test_a_deactivated_npi_is_skipped(registry):
    out, _ = run(registry)
    assert not Provider.objects.filter(npi=OLD).exists()
    assert Provider.objects.filter(npi=WISCONSIN).exists()  # no filter: Wisconsin too
    assert "3 added, 0 updated, 0 unchanged, 3 skipped (1 deactivated, 2 with problems" in out


def test_a_reactivated_npi_is_imported(tmp_path):
    path = tmp_path / "npidata.csv"
    write(
        path,
        [
            person(
                JANE,
                "DOE",
                "JANE",
                **{"NPI Deactivation Date": "04/12/2019", "NPI Reactivation Date": "01/03/2020"},
            )
        ],
    )
    run(path)
    assert Provider.objects.filter(npi=JANE).exists()


def test_an_npi_listed_twice_is_imported_once_and_reported(tmp_path):
    path = tmp_path / "npidata.csv"
    write(path, [person(JANE, "DOE", "JANE"), person(JANE, "DOE", "JANET")])
    out, _ = run(path)
    assert Provider.objects.get(npi=JANE).first_name == "Jane"
    assert f"line 3: NPI {JANE} appears a second time in the file; skipped." in out


def test_the_organization_names_the_practice_whichever_row_comes_first(tmp_path):
    path = tmp_path / "npidata.csv"
    write(path, [organization(ORG, "PRAIRIE ORTHOPAEDICS SC"), person(JANE, "DOE", "JANE")])
    run(path)
    assert Provider.objects.get(npi=JANE).practice.name == "Prairie Orthopaedics SC"


def test_a_second_run_of_the_same_file_changes_nothing(registry):
    run(registry, "--state", "IL")
    before = snapshot()

    out, _ = run(registry, "--state", "IL")

    assert snapshot() == before
    assert "Providers: 0 added, 0 updated, 2 unchanged" in out
    assert "Practices: 0 added, 0 updated." in out


def test_what_staff_edited_survives_a_reimport_and_the_rest_follows_nppes(registry, tmp_path):
    run(registry, "--state", "IL")
    jane = Provider.objects.get(npi=JANE)
    Provider.objects.filter(pk=jane.pk).update(phone="(217) 555-0199")
    Practice.objects.filter(pk=jane.practice_id).update(name="Springfield Family Med")
    changed = tmp_path / "npidata_pfile_20260608-20260614.csv"
    write(
        changed,
        [
            person(
                JANE,
                "DOE",
                "JANE",
                credential="M.D., PH.D.",
                **{
                    "Provider Business Practice Location Address Fax Number": "2175550150",
                    "Provider Business Practice Location Address Telephone Number": ("2175550142"),
                },
            ),
            organization(ORG, "SPRINGFIELD FAMILY MEDICINE GROUP, LLC"),
        ],
    )

    out, _ = run(changed)

    jane.refresh_from_db()
    assert jane.phone == "(217) 555-0199"  # staff's
    assert jane.credentials == "MD, PHD"  # NPPES's, which staff had not touched
    assert jane.fax == "(217) 555-0150"
    assert jane.practice.name == "Springfield Family Med"  # staff's
    assert "Providers: 0 added, 1 updated, 0 unchanged" in out
    assert "Kept 2 values staff had edited." in out

    # NPPES moving the office's phone is a new location; staff's phone still stands.
    out, _ = run(changed)
    jane.refresh_from_db()
    assert jane.phone == "(217) 555-0199"
    assert "0 updated, 1 unchanged" in out


def test_a_practice_staff_entered_is_matched_not_duplicated(tmp_path):
    ours = f.PracticeFactory(
        name="Doe Family Care",
        address="1200 North Main Street, Suite 300",
        city="Springfield",
        state="IL",
        postal_code="62701",
        phone="217-555-0142",
        fax="",
        notes="Ask for Pat at the front desk",
    )
    path = tmp_path / "npidata.csv"
    write(path, [person(JANE, "DOE", "JANE"), organization(ORG, "DOE MEDICAL GROUP LLC")])

    run(path)

    assert Provider.objects.get(npi=JANE).practice_id == ours.pk
    ours.refresh_from_db()
    assert ours.name == "Doe Family Care"  # staff's name is kept
    assert ours.fax == "(217) 555-0143"  # a blank staff left is filled
    assert Practice.objects.count() == 1
    assert NppesLocation.objects.get().practice_id == ours.pk


def test_taxonomy_and_city_filters_pick_the_rows(tmp_path):
    path = tmp_path / "npidata.csv"
    write(
        path,
        [
            person(JANE, "DOE", "JANE", taxonomy="207X00000X"),
            person(RAJ, "PATEL", "RAJ", taxonomy="207R00000X"),
            person(
                WISCONSIN,
                "LUND",
                "ERIK",
                taxonomy="207X00000X",
                **{"Provider Business Practice Location Address City Name": "PEORIA"},
            ),
        ],
    )
    out, _ = run(path, "--taxonomy", "207X00000X", "207XS0117X", "--city", "Springfield")
    assert list(Provider.objects.values_list("npi", flat=True)) == [JANE]
    assert "Read 3 rows, 1 matching the filters." in out


def test_an_interrupted_import_carries_on_when_run_again(registry, tmp_path):
    first_rows = tmp_path / "part.csv"
    write(first_rows, [person(JANE, "DOE", "JANE")])  # as if stopped after the first batch
    run(first_rows)

    out, _ = run(registry, "--state", "IL")

    assert "Providers: 1 added, 0 updated, 1 unchanged" in out
    assert Practice.objects.count() == 1
    assert Provider.objects.get(npi=RAJ).practice.name == "Springfield Family Medicine, LLC"


def test_the_zip_cms_publishes_is_read_without_unpacking_it(registry, tmp_path):
    download = tmp_path / "NPPES_Data_Dissemination_June_2026.zip"
    with zipfile.ZipFile(download, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("npidata_pfile_20050523-20260607_fileheader.csv", ",".join(HEADER))
        archive.write(registry, registry.name)
        archive.writestr("othername_pfile_20050523-20260607.csv", "NPI\r\n")
    out, _ = run(download, "--state", "IL")
    assert set(Provider.objects.values_list("npi", flat=True)) == {JANE, RAJ}
    assert "Read 7 rows" in out


def test_a_zip_without_the_npi_file_is_refused(tmp_path):
    download = tmp_path / "NPPES_Deactivated_NPI_Report.zip"
    with zipfile.ZipFile(download, "w") as archive:
        archive.writestr("report.csv", "NPI,Deactivation Date\r\n")
    with pytest.raises(CommandError, match="without an npidata_pfile"):
        run(download)
    assert not Practice.objects.exists()


@pytest.mark.parametrize(
    "content",
    [
        b"Date received,Patient last name,Referring NPI\r\n2026-01-02,Doe,1234567893\r\n",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
        b"",
    ],
    ids=["another csv", "a pdf", "empty"],
)
def test_a_file_that_is_not_the_nppes_file_is_refused_and_nothing_written(tmp_path, content):
    path = tmp_path / "referrals.csv"
    path.write_bytes(content)
    with pytest.raises(CommandError, match="is not an NPPES dissemination file") as refused:
        run(path)
    assert '"NPI"' in str(refused.value) or '"Entity Type Code"' in str(refused.value)
    assert "Nothing was imported." in str(refused.value)
    assert not Provider.objects.exists() and not Practice.objects.exists()
    assert not NppesLocation.objects.exists()
    assert not Relationship.objects.exists()
