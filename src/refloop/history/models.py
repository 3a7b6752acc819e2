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
    IMPORTING = "importing"  # writing the rows, all in one transaction
    # Imported; building the analytics facts (done_rows of imported_rows so far).
    ANALYZING = "analyzing", "Updating analytics"
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
    unknown_values = models.JSONField(
        default=list,
        blank=True,
        help_text="[{kind, original, count}]: values the file uses that refloop does not "
        "know and no mapping covers",
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


class MappedKind(models.TextChoices):
    """The columns whose values a practice may write in its own words."""

    SOURCE_TYPE = "source_type", "source type"
    CHANNEL = "channel", "channel"
    DEPARTMENT = "department", "department"
    URGENCY = "urgency", "urgency"
    DECLINE_REASON = "decline_reason", "reason for declined"
    UNREACHABLE_REASON = "unreachable_reason", "reason for unreachable"
    CANCEL_REASON = "cancel_reason", "reason for cancelled"


def original_key(original: str) -> str:
    """How a practice's wording is matched: trimmed, case and inner spaces ignored."""
    return " ".join(original.split()).casefold()


class ValueMapping(models.Model):
    """A practice's own wording for a value ('Patient moved away'), mapped once to refloop's
    value ('care_elsewhere') and applied to every later history file."""

    organization = models.ForeignKey(
        "practice.Organization", on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=MappedKind.choices)
    original = models.CharField(max_length=200, help_text="As first written in a file")
    key = models.CharField(max_length=200, help_text="original_key(original)")
    value = models.CharField(max_length=60, help_text="refloop's value (a department's code)")
    mapped_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    mapped_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "key"], name="history_mapping_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.original} -> {self.value}"
