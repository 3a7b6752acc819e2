"""The advocacy pages: each part's routes, composed here.

The survey link's own route (/s/<code>/) comes last: any fixed page under /s/ must be matched
before it.
"""

urlpatterns: list = []
