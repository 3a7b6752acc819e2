"""The messages API: what the outbox holds (GET /api/v1/messages)."""

from ninja import Router

router = Router(tags=["messages"])
