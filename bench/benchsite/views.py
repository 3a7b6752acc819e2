"""The baseline: the least a JSON-accepting Django view can do and still write one row."""

import json

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from benchsite.models import BareRow


@csrf_exempt
@require_POST
def bare_insert(request: HttpRequest) -> JsonResponse:
    """Parse the same JSON body the intake gets, then one ORM INSERT into benchsite_barerow."""
    json.loads(request.body)
    row = BareRow.objects.create(
        key=request.headers.get("Idempotency-Key", ""), created_at=timezone.now()
    )
    return JsonResponse({"id": row.pk}, status=201)
