import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_network_figures():
    """The outreach home keeps network-wide figures in the cache (outreach.home); each test
    plants its own network."""
    cache.clear()
    yield
    cache.clear()
