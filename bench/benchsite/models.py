"""The baseline's table: one small row per bare request (created by migrate --run-syncdb)."""

from django.db import models


class BareRow(models.Model):
    key = models.CharField(max_length=128)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"bare row {self.pk}"
