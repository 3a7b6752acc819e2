"""Refer a friend's routes: the advocates' pages and the reward settings."""

from refloop.advocacy import advocate_views, reward_views

urlpatterns = [*advocate_views.urlpatterns, *reward_views.urlpatterns]
