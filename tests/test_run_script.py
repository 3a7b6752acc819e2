"""`./run test` on a fresh machine: the Debian packages the suite needs are installed when
missing, or the user is told in one line what to install."""

import shutil
import subprocess
from pathlib import Path

RUN = Path(__file__).resolve().parents[1] / "run"
NEEDED = "chromium fonts-liberation tesseract-ocr tesseract-ocr-eng"


def _bin_dir(tmp_path: Path, *, uid: int) -> Path:
    """A PATH with neither Chromium nor Tesseract on it, and `id` answering `uid`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "dirname").symlink_to(shutil.which("dirname"))
    stub = bin_dir / "id"
    stub.write_text(f"#!/bin/sh\necho {uid}\n")
    stub.chmod(0o755)
    return bin_dir


def _run_deps(bin_dir: Path) -> subprocess.CompletedProcess:
    env = {"PATH": str(bin_dir), "HOME": str(bin_dir.parent)}
    return subprocess.run(  # noqa: S603 - our own script, fixed arguments
        ["/bin/bash", str(RUN), "deps"], env=env, capture_output=True, text=True, timeout=60
    )


def test_without_root_the_missing_packages_are_named_in_one_line(tmp_path):
    result = _run_deps(_bin_dir(tmp_path, uid=1000))

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"The tests need Debian packages that are missing; run: sudo apt-get install -y {NEEDED}"
    ]


def test_as_root_the_missing_packages_are_installed_with_apt(tmp_path):
    bin_dir = _bin_dir(tmp_path, uid=0)
    calls = tmp_path / "apt-calls"
    apt = bin_dir / "apt-get"
    apt.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
    apt.chmod(0o755)

    result = _run_deps(bin_dir)

    assert result.returncode == 0, result.stderr
    lines = calls.read_text().splitlines()
    assert lines[0] == "update -qq"
    assert lines[1].startswith("install -y -qq --no-install-recommends ")
    assert lines[1].endswith(NEEDED)
