"""One upload of a history spreadsheet and what became of it (validation, import, errors).

The file is kept under a random name in private storage: its rows are PHI, and the name
the practice gave it is shown to admins only, never used in a path.
"""

import secrets

from django.db import models

from refloop.core.storage import documents_storage


class RunStatus(models.TextChoices):
    VALIDATING = "validating"  # queued or being checked
    INVALID = "invalid"  # the file has errors; nothing was imported
    IMPORTING = "importing"
    DONE = "done"
    FAILED = "failed"  # stopped on an unexpected error; nothing was imported


FINAL_STATUSES = (RunStatus.INVALID, RunStatus.DONE, RunStatus.FAILED)


def run_file_path(instance: "ImportRun", filename: str) -> str:
    return f"history/{secrets.token_hex(16)}"


class ImportRun(models.Model):
    file = models.FileField(upload_to=run_file_path, max_length=200, storage=documents_storage)
    original_name = models.CharField(max_length=255)
    uploaded_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=12, choices=RunStatus.choices, default=RunStatus.VALIDATING
    )
    only_good = models.BooleanField(
        default=False, help_text="Import the rows without errors and list the others"
    )
    total_rows = models.PositiveIntegerField(default=0)
    done_rows = models.PositiveIntegerField(default=0, help_text="Rows checked so far")
    imported_rows = models.PositiveIntegerField(default=0)
    errors = models.JSONField(
        default=list, blank=True, help_text="[{line, message}], line 1 being the header"
    )
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"History import #{self.pk}"

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def bad_rows(self) -> int:
        return len({e["line"] for e in self.errors if e.get("line") and e["line"] > 1})
