"""NPPES import throughput: `refloop directory import-nppes` over a generated file in the real
layout of CMS's npidata_pfile (all 330 columns, every value quoted; default 200,000 rows, about
a fortieth of the national file), into a fresh SQLite database.

Measured in the same run on the same file: Python's csv module reading it (the floor any
streamed import stands on), the import with a filter nothing matches (read, check, filter:
no writes), the import of one state (--state IL, about a tenth of the rows: the practice's
usual use), and the same import again (everything unchanged). Reported as rows read per
second and as a ratio to the csv baseline, with the process's peak memory after each step
(the import streams: it should not grow with the file).

    .venv/bin/python bench/nppes.py [--rows N]
"""

import argparse
import csv
import io
import json
import os
import platform
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
sys.path.insert(0, str(REPO_DIR / "src"))

ROWS = 200_000


def say(line: str = "") -> None:
    print(line, flush=True)


def header() -> list[str]:
    """npidata_pfile's header in order (NPPES Data Dissemination Readme, v.2 files)."""
    names = ["NPI", "Entity Type Code", "Replacement NPI", "Employer Identification Number (EIN)"]
    names += ["Provider Organization Name (Legal Business Name)", "Provider Last Name (Legal Name)"]
    names += ["Provider First Name", "Provider Middle Name", "Provider Name Prefix Text"]
    names += ["Provider Name Suffix Text", "Provider Credential Text"]
    names += ["Provider Other Organization Name", "Provider Other Organization Name Type Code"]
    names += [f"Provider Other {part}" for part in ("Last Name", "First Name", "Middle Name")]
    names += ["Provider Other Name Prefix Text", "Provider Other Name Suffix Text"]
    names += ["Provider Other Credential Text", "Provider Other Last Name Type Code"]
    for kind in ("Mailing", "Practice Location"):
        names += [
            f"Provider First Line Business {kind} Address",
            f"Provider Second Line Business {kind} Address",
            f"Provider Business {kind} Address City Name",
            f"Provider Business {kind} Address State Name",
            f"Provider Business {kind} Address Postal Code",
            f"Provider Business {kind} Address Country Code (If outside U.S.)",
            f"Provider Business {kind} Address Telephone Number",
            f"Provider Business {kind} Address Fax Number",
        ]
    names += ["Provider Enumeration Date", "Last Update Date", "NPI Deactivation Reason Code"]
    names += ["NPI Deactivation Date", "NPI Reactivation Date", "Provider Sex Code"]
    names += [
        f"Authorized Official {part}"
        for part in ("Last Name", "First Name", "Middle Name", "Title or Position")
    ]
    names += ["Authorized Official Telephone Number"]
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
    names += ["Is Sole Proprietor", "Is Organization Subpart", "Parent Organization LBN"]
    names += ["Parent Organization TIN", "Authorized Official Name Prefix Text"]
    names += ["Authorized Official Name Suffix Text", "Authorized Official Credential Text"]
    names += [f"Healthcare Provider Taxonomy Group_{n}" for n in range(1, 16)]
    names += ["Certification Date"]
    assert len(names) == 330, len(names)
    return names


STATES = ["IL"] * 10 + ["WI", "IN", "MO", "IA", "MI", "OH", "KY", "MN", "TX", "CA"] * 9
STREETS = ["MAIN ST", "NORTH MAIN STREET", "OAK AVE", "W JEFFERSON BLVD", "LINCOLN HWY"]
TAXONOMIES = ["207Q00000X", "207R00000X", "363LF0000X", "207X00000X", "225100000X", "1223G0001X"]
LAST = ["SMITH", "JOHNSON", "WILLIAMS", "BROWN", "JONES", "GARCIA", "MILLER", "DAVIS", "PATEL"]
FIRST = ["MARY", "JAMES", "ANNA", "ROBERT", "LINDA", "DAVID", "SUSAN", "WEI", "PRIYA"]


def generate(path: Path, rows: int) -> None:
    """Rows as CMS writes them: individuals (about 78%), organizations (about 17%) and
    deactivated NPIs (5%), about four NPIs to a practice location, every value quoted."""
    from refloop.network.npi import check_digit

    names = header()
    at = {name: i for i, name in enumerate(names)}
    rng = random.Random(16)
    locations = max(1, rows // 4)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow(names)
        for n in range(rows):
            first_nine = f"1{n:08d}"
            values = [""] * len(names)
            values[at["NPI"]] = first_nine + check_digit(first_nine)
            kind = rng.random()
            if kind < 0.05:
                values[at["NPI Deactivation Date"]] = "04/12/2019"
                writer.writerow(values)
                continue
            place = rng.randrange(locations)
            state = STATES[place % len(STATES)]
            for field, value in (
                ("Provider First Line Business Practice Location Address", f"{place % 9000 + 100} {STREETS[place % 5]}"),
                ("Provider Second Line Business Practice Location Address", f"SUITE {place % 40 + 1}"),
                ("Provider Business Practice Location Address City Name", f"TOWN {place % 300}"),
                ("Provider Business Practice Location Address State Name", state),
                ("Provider Business Practice Location Address Postal Code", f"6{place % 10000:04d}1234"),
                ("Provider Business Practice Location Address Country Code (If outside U.S.)", "US"),
                ("Provider Business Practice Location Address Telephone Number", f"217{place % 10_000_000:07d}"),
                ("Provider Business Practice Location Address Fax Number", f"309{place % 10_000_000:07d}"),
                ("Provider First Line Business Mailing Address", "PO BOX 19"),
                ("Provider Business Mailing Address City Name", "CHICAGO"),
                ("Provider Business Mailing Address State Name", "IL"),
                ("Provider Enumeration Date", "05/23/2005"),
                ("Last Update Date", "07/08/2021"),
                ("Certification Date", "07/08/2021"),
            ):  # fmt: skip
                values[at[field]] = value
            if kind < 0.22:
                values[at["Entity Type Code"]] = "2"
                values[at["Provider Organization Name (Legal Business Name)"]] = (
                    f"{rng.choice(LAST)} FAMILY MEDICINE {place} LLC"
                )
                values[at["Authorized Official Last Name"]] = rng.choice(LAST)
                values[at["Healthcare Provider Taxonomy Code_1"]] = "193200000X"
                values[at["Healthcare Provider Primary Taxonomy Switch_1"]] = "Y"
            else:
                values[at["Entity Type Code"]] = "1"
                values[at["Provider Last Name (Legal Name)"]] = rng.choice(LAST)
                values[at["Provider First Name"]] = rng.choice(FIRST)
                values[at["Provider Credential Text"]] = rng.choice(["M.D.", "DO", "NP", "PT"])
                values[at["Provider Sex Code"]] = rng.choice("FM")
                for slot in range(1, rng.randrange(2, 4)):
                    values[at[f"Healthcare Provider Taxonomy Code_{slot}"]] = rng.choice(TAXONOMIES)
                    values[at[f"Provider License Number_{slot}"]] = f"036.{n:06d}"
                    values[at[f"Provider License Number State Code_{slot}"]] = state
                    values[at[f"Healthcare Provider Primary Taxonomy Switch_{slot}"]] = (
                        "Y" if slot == 1 else "N"
                    )
                values[at["Other Provider Identifier_1"]] = f"A{n}"
                values[at["Other Provider Identifier Type Code_1"]] = "05"
            writer.writerow(values)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def timed(work) -> dict:
    wall, cpu = time.perf_counter(), time.process_time()
    outcome = work()
    return {
        "wall_s": round(time.perf_counter() - wall, 2),
        "cpu_s": round(time.process_time() - cpu, 2),
        "peak_mb": round(peak_mb()),
        "outcome": outcome,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=ROWS, help=f"rows in the file ({ROWS:,})")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="refloop-bench-nppes-"))
    for name in [name for name in os.environ if name.startswith("REFLOOP_")]:
        del os.environ[name]
    os.environ.update(
        DJANGO_SETTINGS_MODULE="refloop.settings",
        REFLOOP_DATA_DIR=str(work),
        REFLOOP_LOG_LEVEL="WARNING",
    )
    try:
        return measure(work, args.rows)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure(work: Path, rows: int) -> int:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    path = work / "npidata_pfile_20260601-20260607.csv"
    started = time.perf_counter()
    generate(path, rows)
    size_mb = path.stat().st_size / 1e6
    say(
        f"NPPES import: {rows:,} rows, 330 columns ({size_mb:,.0f} MB) generated in "
        f"{time.perf_counter() - started:.0f} s; SQLite; {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.2f}"
    )

    def read_csv():
        with path.open(newline="", encoding="utf-8") as handle:
            return sum(1 for _ in csv.reader(handle)) - 1

    def import_nppes(*options):
        def run():
            out = io.StringIO()
            call_command(
                "directory", "import-nppes", str(path), *options, stdout=out, stderr=io.StringIO()
            )
            return out.getvalue().strip()

        return run

    steps = {
        "csv.reader over the file (baseline)": timed(read_csv),
        "import, filter matches nothing (--state ZZ)": timed(import_nppes("--state", "ZZ")),
        "import one state, first run (--state IL)": timed(import_nppes("--state", "IL")),
        "import one state again (all unchanged)": timed(import_nppes("--state", "IL")),
    }
    baseline = steps["csv.reader over the file (baseline)"]["wall_s"]
    baseline_cpu = steps["csv.reader over the file (baseline)"]["cpu_s"]
    # CPU seconds as well as wall: steadier when other work shares the machine.
    say(
        f"{'step':<46} {'wall':>8} {'rows/s':>9} {'× csv':>6} {'CPU':>7} {'rows/CPU-s':>10} "
        f"{'× csv':>6} {'peak MB':>8}"
    )
    for label, step in steps.items():
        step["rows_per_s"] = round(rows / step["wall_s"])
        step["vs_csv"] = round(baseline / step["wall_s"], 2)
        step["rows_per_cpu_s"] = round(rows / step["cpu_s"])
        step["vs_csv_cpu"] = round(baseline_cpu / step["cpu_s"], 2)
        say(
            f"{label:<46} {step['wall_s']:>7.1f}s {step['rows_per_s']:>9,} "
            f"{step['vs_csv']:>6.2f} {step['cpu_s']:>6.1f}s {step['rows_per_cpu_s']:>10,} "
            f"{step['vs_csv_cpu']:>6.2f} {step['peak_mb']:>8,}"
        )
    for label, step in list(steps.items())[2:]:
        say(f"  {label}: {step['outcome']}")
    RESULTS_DIR.mkdir(exist_ok=True)
    result = {
        "benchmark": "nppes",
        "rows": rows,
        "file_mb": round(size_mb),
        "environment": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "steps": steps,
    }
    (RESULTS_DIR / "nppes.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
