"""What the workspace keeps per user: saved worklist filters."""

from django.conf import settings
from django.db import models


class SavedFilter(models.Model):
    """A named set of worklist filters (tab, filters, sort) for one user.

    `params` holds only the worklist's query parameters, which carry no patient
    data; the free-text search is never saved (it may hold a patient's name).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_filters"
    )
    name = models.CharField(max_length=60)
    params = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="saved_filter_name_per_user")
        ]

    def __str__(self) -> str:
        return self.name
