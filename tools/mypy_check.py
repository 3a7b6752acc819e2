#!/usr/bin/env python3
"""Run mypy over src/ and hold it to a baseline that only shrinks.

Two rules (issue 14, "Types"):
- The modules every feature builds on must be clean: each services.py, selectors.py,
  transitions.py, reactions.py (also *_services.py and the like, and packages of those
  names) and core/roles.py (CLEAN_GLOBS; a new file with such a name counts at once).
- Every other file may have at most as many errors as tools/mypy-baseline.txt lists
  for it; a file the baseline doesn't list may have none.

The baseline counts errors per file rather than listing them, so moving code within
a file or rewording an error never breaks CI; only more errors in a file does.

    tools/mypy_check.py                    check (CI)
    tools/mypy_check.py --update           rewrite the baseline after fixing errors
    tools/mypy_check.py --update --allow-growth
                                           rewrite it even where a file gained errors
                                           (a renamed file, a merge; say why in the commit)
    tools/mypy_check.py --mypy-output F    read mypy's output from F instead of running it

Standard library only: CI runs it with the project's venv, before anything is installed
on top. Exit status 0 when both rules hold, 1 when not, 2 when mypy itself failed.
"""

from __future__ import annotations

import argparse
import fnmatch
import importlib.util
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "tools" / "mypy-baseline.txt"

# fnmatch patterns over the path from the repository root; "*" spans folders too. A module
# split into a package (services/__init__.py, services/links.py) or named for its subject
# (patient_services.py) counts the same.
CLEAN_GLOBS = tuple(
    pattern
    for kind in ("services", "selectors", "transitions", "reactions")
    for pattern in (
        f"src/refloop/*/{kind}.py",
        f"src/refloop/*/*_{kind}.py",
        f"src/refloop/*/{kind}/*.py",
        f"src/refloop/{kind}/*.py",
    )
) + ("src/refloop/core/roles.py",)

BASELINE_HEADER = """\
# mypy errors per file that CI tolerates, for now (tools/mypy_check.py; one
# "<errors> <path>" a line). It may only shrink: fix errors, then run
#   tools/mypy_check.py --update
# Files matching the must-be-clean patterns in tools/mypy_check.py never appear here.
"""

# path:line[:column]: error: message  [code]
ERROR_LINE = re.compile(r"^(?P<path>[^:\n]+\.pyi?):(?P<line>\d+)(?::\d+)?: error: ")


def is_must_be_clean(path: str) -> bool:
    return any(fnmatch.fnmatchcase(path, pattern) for pattern in CLEAN_GLOBS)


def normalize(path: str) -> str:
    """The path from the repository root, with forward slashes, however mypy printed it."""
    candidate = Path(path)
    if not candidate.is_absolute():
        candidate = ROOT / candidate
    try:
        return candidate.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return Path(path).as_posix()


def parse_errors(output: str) -> Counter[str]:
    """Errors per file in mypy's output; notes and the summary line are not errors."""
    counts: Counter[str] = Counter()
    for line in output.splitlines():
        match = ERROR_LINE.match(line)
        if match:
            counts[normalize(match["path"])] += 1
    return counts


def run_mypy() -> tuple[int, str]:
    env = dict(os.environ)
    # The Django plugin imports refloop.settings, so src/ must be importable.
    src = str(ROOT / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH", "")) if p)
    command = [
        sys.executable,
        "-m",
        "mypy",
        "--no-pretty",
        "--no-color-output",
        "--show-error-codes",
    ]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)  # noqa: S603
    return result.returncode, result.stdout + result.stderr


def read_baseline(path: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    if not path.exists():
        return counts
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        count, _, file = line.partition(" ")
        if not count.isdigit() or not file.strip():
            raise SystemExit(f"{path}:{number}: expected '<errors> <path>', got {raw!r}")
        counts[file.strip()] = int(count)
    return counts


def write_baseline(path: Path, counts: Counter[str]) -> None:
    lines = [f"{counts[file]} {file}\n" for file in sorted(counts) if counts[file] > 0]
    path.write_text(BASELINE_HEADER + "".join(lines), encoding="utf-8")


def shown(path: Path) -> str:
    path = path.resolve()
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


def total(counts: Counter[str]) -> int:
    return sum(counts.values())


def plural(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="rewrite the baseline")
    parser.add_argument(
        "--allow-growth",
        action="store_true",
        help="with --update: let a file's count grow, or a new file enter the baseline",
    )
    parser.add_argument("--baseline", type=Path, default=BASELINE, help=argparse.SUPPRESS)
    parser.add_argument(
        "--mypy-output", type=Path, help="parse this saved mypy output instead of running mypy"
    )
    args = parser.parse_args(argv)
    if args.allow_growth and not args.update:
        parser.error("--allow-growth only makes sense with --update")

    if args.mypy_output:
        output = args.mypy_output.read_text(encoding="utf-8")
    else:
        if importlib.util.find_spec("mypy") is None:
            print(
                f"mypy_check: {sys.executable} has no mypy; run this with the project's venv "
                "(.venv/bin/python tools/mypy_check.py)."
            )
            return 2
        returncode, output = run_mypy()
        # 0: clean, 1: type errors; anything else (bad config, a crash, a syntax error
        # that stops the run) is mypy failing, and its counts would mean nothing.
        found = any(ERROR_LINE.match(line) for line in output.splitlines())
        if returncode not in (0, 1) or (returncode == 1 and not found):
            sys.stderr.write(output)
            print(f"mypy_check: mypy failed (exit status {returncode}); see above.")
            return 2

    now = parse_errors(output)
    baseline = read_baseline(args.baseline)

    unclean = {file: n for file, n in sorted(now.items()) if is_must_be_clean(file)}
    tolerated = Counter({file: n for file, n in now.items() if not is_must_be_clean(file)})
    grown = {
        file: (baseline[file], n) for file, n in sorted(tolerated.items()) if n > baseline[file]
    }
    shrunk = sorted(file for file in baseline if tolerated[file] < baseline[file])

    problems: list[str] = []
    if unclean:
        problems.append(
            "These files must be mypy-clean (services, selectors, transitions, reactions, "
            "roles) and are not:"
        )
        problems += [f"  {file}: {plural(n, 'error')}" for file, n in unclean.items()]
    if grown and not (args.update and args.allow_growth):
        problems.append("These files have more mypy errors than the baseline allows:")
        for file, (before, after) in grown.items():
            was = f"baseline {before}" if before else "not in the baseline"
            problems.append(f"  {file}: {after} ({was})")
        problems.append(
            "Fix the new errors (see them with: PYTHONPATH=src mypy <file>). If a file was "
            "only renamed or split, run tools/mypy_check.py --update --allow-growth and say "
            "so in the commit."
        )

    if args.update and not (grown and not args.allow_growth):
        write_baseline(args.baseline, tolerated)
        print(
            f"mypy_check: wrote {shown(args.baseline)} "
            f"({plural(total(tolerated), 'error')} in {plural(len(+tolerated), 'file')}; "
            f"was {total(baseline)} in {len(+baseline)})."
        )
        baseline = tolerated
    elif args.update:
        problems.append(f"Did not write {shown(args.baseline)}: it may only shrink.")

    for line in problems:
        print(line)
    if shrunk and not args.update:
        print(
            f"{plural(len(shrunk), 'file')} now {'has' if len(shrunk) == 1 else 'have'} fewer "
            "errors than the baseline; lock that in with tools/mypy_check.py --update."
        )
    verdict = "FAILED" if problems else "ok"
    print(
        f"mypy_check: {verdict}: {plural(total(now), 'error')} in {plural(len(+now), 'file')} "
        f"(baseline {total(baseline)} in {len(+baseline)}; "
        f"{plural(total(Counter(unclean)), 'error')} in must-be-clean files)."
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
