"""tools/mypy_check.py, CI's mypy step, on saved mypy output: the must-be-clean modules,
a baseline per file that tolerates line shifts but not new errors, and --update that only
lets the baseline shrink."""

import importlib.util
import sys
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[1] / "tools" / "mypy_check.py"


@pytest.fixture(scope="module")
def mypy_check():
    spec = importlib.util.spec_from_file_location("mypy_check", TOOL)
    module = importlib.util.module_from_spec(spec)
    sys.modules["mypy_check"] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules["mypy_check"]


def _output(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "mypy.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def _baseline(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "baseline.txt"
    path.write_text(text)
    return path


def _run(mypy_check, output: Path, baseline: Path, *flags: str) -> int:
    return mypy_check.main(["--mypy-output", str(output), "--baseline", str(baseline), *flags])


VIEWS_ERROR = 'src/refloop/analytics/views.py:{}: error: "HttpRequest" has no attribute "auth"  [attr-defined]'


def test_errors_that_moved_to_other_lines_pass(mypy_check, tmp_path, capsys):
    output = _output(
        tmp_path,
        VIEWS_ERROR.format(120),
        "src/refloop/analytics/views.py:130:5: note: a note is not an error",
        VIEWS_ERROR.format(240),
        "Found 2 errors in 1 file (checked 300 source files)",
    )
    baseline = _baseline(tmp_path, "# comment\n2 src/refloop/analytics/views.py\n")

    assert _run(mypy_check, output, baseline) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "mypy_check: ok: 2 errors in 1 file (baseline 2 in 1; 0 errors in must-be-clean files)."
    )


def test_a_file_with_more_errors_than_its_baseline_fails(mypy_check, tmp_path, capsys):
    output = _output(tmp_path, *(VIEWS_ERROR.format(n) for n in (1, 2, 3)))
    baseline = _baseline(tmp_path, "2 src/refloop/analytics/views.py\n")

    assert _run(mypy_check, output, baseline) == 1
    assert "  src/refloop/analytics/views.py: 3 (baseline 2)" in capsys.readouterr().out


def test_a_file_not_in_the_baseline_must_have_no_errors(mypy_check, tmp_path, capsys):
    output = _output(tmp_path, "src/refloop/core/storage.py:9: error: Oops  [misc]")
    baseline = _baseline(tmp_path, "")

    assert _run(mypy_check, output, baseline) == 1
    assert "  src/refloop/core/storage.py: 1 (not in the baseline)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "path",
    [
        "src/refloop/intake/services.py",
        "src/refloop/outreach/selectors.py",
        "src/refloop/referrals/transitions.py",
        "src/refloop/core/reactions.py",
        "src/refloop/core/roles.py",
        "src/refloop/messaging/patient_services.py",
        "src/refloop/referrals/services/moves.py",
    ],
)
def test_must_be_clean_modules_fail_even_when_the_baseline_lists_them(
    mypy_check, tmp_path, capsys, path
):
    output = _output(tmp_path, f"{path}:3: error: Oops  [misc]")
    baseline = _baseline(tmp_path, f"5 {path}\n")

    assert _run(mypy_check, output, baseline) == 1
    assert f"  {path}: 1 error" in capsys.readouterr().out


def test_update_shrinks_the_baseline_and_drops_clean_files(mypy_check, tmp_path):
    output = _output(tmp_path, VIEWS_ERROR.format(7))
    baseline = _baseline(
        tmp_path, "3 src/refloop/analytics/views.py\n4 src/refloop/core/storage.py\n"
    )

    assert _run(mypy_check, output, baseline, "--update") == 0
    assert mypy_check.read_baseline(baseline) == {"src/refloop/analytics/views.py": 1}


def test_update_refuses_growth_unless_allowed(mypy_check, tmp_path):
    output = _output(tmp_path, VIEWS_ERROR.format(1), VIEWS_ERROR.format(2))
    baseline = _baseline(tmp_path, "1 src/refloop/analytics/views.py\n")

    assert _run(mypy_check, output, baseline, "--update") == 1
    assert mypy_check.read_baseline(baseline) == {"src/refloop/analytics/views.py": 1}

    assert _run(mypy_check, output, baseline, "--update", "--allow-growth") == 0
    assert mypy_check.read_baseline(baseline) == {"src/refloop/analytics/views.py": 2}


def test_other_modules_may_be_in_the_baseline(mypy_check):
    assert not mypy_check.is_must_be_clean("src/refloop/analytics/selection.py")
    assert not mypy_check.is_must_be_clean("src/refloop/workspace/views.py")


def test_the_committed_baseline_lists_no_must_be_clean_module(mypy_check):
    listed = mypy_check.read_baseline(mypy_check.BASELINE)

    assert listed
    assert [path for path in listed if mypy_check.is_must_be_clean(path)] == []
