"""Keeps every answer a view builds out of browser and proxy caches: pages, fragments,
API responses and downloads may all carry patient data, and a shared or stolen computer's
cache must not keep it. Static files never reach this middleware (WhiteNoise answers them
before it)."""

from django.utils.cache import patch_cache_control


class NoStoreMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # A view that set its own Cache-Control chose on purpose (the practice's logo,
        # which holds no patient data); every other answer is never stored.
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, no_store=True)
        return response
