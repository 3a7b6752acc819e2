"""The REST API under /api/v1/ (django-ninja): token auth, one router per domain."""

from ninja import NinjaAPI

api = NinjaAPI(title="refloop API", version="1", urls_namespace="api")
