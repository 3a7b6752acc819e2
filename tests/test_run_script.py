"""`./run test` on a fresh machine: the Debian packages the suite needs are installed when
missing, or the user is told in one line what to install."""

import shutil
import subprocess
from pathlib import Path

RUN = Path(__file__).resolve().parents[1] / "run"
NEEDED = "chromium fonts-liberation tesseract-ocr tesseract-ocr-eng dovecot-imapd"


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
    # Dovecot lives in /usr/sbin, off PATH: REFLOOP_DOVECOT points where none is.
    env = {
        "PATH": str(bin_dir),
        "HOME": str(bin_dir.parent),
        "REFLOOP_DOVECOT": str(bin_dir / "dovecot"),
    }
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


def test_a_python_without_venv_support_is_named_in_one_line(tmp_path):
    """Debian's python3.13 needs python3.13-venv for `-m venv`; say so, leave nothing behind."""
    bin_dir = _bin_dir(tmp_path, uid=1000)
    python = bin_dir / "python3.13"
    python.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = -m ]; then mkdir -p "$3/bin"; echo "ensurepip is not available" >&2; exit 1; fi\n'
        'case "$2" in *%d.%d*) echo 3.13 ;; esac\n'
        "exit 0\n"
    )
    python.chmod(0o755)
    for tool in ("rm", "mkdir", "cat"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    project = tmp_path / "project"
    project.mkdir()
    (project / "run").write_bytes(RUN.read_bytes())
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path)}

    result = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        ["/bin/bash", str(project / "run"), "refloop", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"Could not create a virtual environment with {python}; on Debian install "
        "python3.13-venv (sudo apt-get install -y python3.13-venv), then run this again."
    ]
    assert not (project / ".venv").exists()
