"""refloop's own settings, plus the bench app and its URLs; nothing else changes.

The star import is deliberate (STYLE.md warns against it for local settings): the
benchmark must measure refloop's real middleware, database options and connection
reuse, so it takes every setting as is and adds only what it serves itself.
"""

from refloop.settings import *  # noqa: F403
from refloop.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "benchsite"]
ROOT_URLCONF = "benchsite.urls"
