"""A watched folder, the shape of a fax server's inbox: each new file becomes a document.

A file is taken once its size has stopped changing (the fax server may still be writing
it); dotfiles and `.tmp`/`.part`/`.partial` files are left alone. After ingesting, the file
moves to `processed/`; a file that could not even be stored moves to `failed/`, except
while the virus scanner is not answering: then it stays where it is for the next look. So
a file is never ingested twice and never lost. Printed lines name the stored document and the
file's position in the run, never the file's name (fax servers often put the patient's
name in it).
"""

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from refloop.core.errors import DomainError
from refloop.core.uploads import ScannerUnavailable
from refloop.intake.models import DocumentSource
from refloop.intake.services import ingest

SKIPPED_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".swp", "~")
PROCESSED, FAILED = "processed", "failed"


@dataclass
class Watcher:
    directory: Path
    report: Callable[[str], None] = print
    # path -> (size, mtime) when last seen: a file is taken when it is unchanged since then.
    seen: dict[Path, tuple[int, float]] = field(default_factory=dict)
    taken: int = 0

    def __post_init__(self):
        self.directory = Path(self.directory)
        if not self.directory.is_dir():
            raise FileNotFoundError(f"{self.directory} is not a directory.")
        for sub in (PROCESSED, FAILED):
            (self.directory / sub).mkdir(exist_ok=True)

    def waiting_files(self) -> list[Path]:
        files = []
        with os.scandir(self.directory) as entries:
            for entry in entries:
                name = entry.name
                if name.startswith(".") or name.lower().endswith(SKIPPED_SUFFIXES):
                    continue
                if entry.is_file(follow_symlinks=False):
                    files.append(Path(entry.path))
        return sorted(files, key=lambda p: (p.stat().st_mtime, p.name))

    def poll(self) -> int:
        """Take every file whose size held still since the last poll; returns how many."""
        current = {}
        for path in self.waiting_files():
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue  # moved away meanwhile
            current[path] = (stat.st_size, stat.st_mtime)
        ready = [p for p, sig in current.items() if self.seen.get(p) == sig]
        self.seen = {p: sig for p, sig in current.items() if p not in ready}
        for path in ready:
            self.take(path)
        return len(ready)

    def take(self, path: Path) -> None:
        self.taken += 1
        number = self.taken
        try:
            content = path.read_bytes()
        except OSError as exc:
            self.report(f"file {number}: could not be read ({exc.strerror}); left in place")
            return
        try:
            document = ingest(
                content=content, filename=path.name, source=DocumentSource.WATCHED_FOLDER
            )
        except ScannerUnavailable as exc:
            # Nothing is stored unscanned; the file waits for the scanner to come back.
            self.seen.pop(path, None)
            self.report(f"file {number}: not stored: {exc.message} Left in place")
            return
        except DomainError as exc:
            target = self._move(path, FAILED)
            self.report(f"file {number}: not stored: {exc.message} Moved to {FAILED}/{target.name}")
            return
        target = self._move(path, PROCESSED)
        detail = f" ({document.status_reason})" if document.status_reason else ""
        self.report(
            f"file {number}: document #{document.pk} {document.status}{detail}; "
            f"moved to {PROCESSED}/{target.name}"
        )

    def _move(self, path: Path, sub: str) -> Path:
        # A neutral, unique name: the received one may carry a patient's name.
        stamp = time.strftime("%Y%m%d-%H%M%S")
        suffix = path.suffix.lower() if len(path.suffix) <= 6 else ""
        target = self.directory / sub / f"{stamp}-{self.taken:05d}-{os.getpid()}{suffix}"
        n = 0
        while target.exists():
            n += 1
            target = target.with_name(f"{target.stem}-{n}{suffix}")
        os.replace(path, target)
        return target


def watch(
    directory: Path,
    *,
    once: bool = False,
    interval: float = 5.0,
    report: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Poll `directory` every `interval` seconds. With `once`, take what is ready now
    (two looks `interval` apart, so a file still being written is left for the next run)
    and return. Returns the number of files taken."""
    watcher = Watcher(Path(directory), report=report)
    watcher.poll()  # the first look only notes sizes
    while True:
        sleep(interval)
        watcher.poll()
        if once:
            return watcher.taken
