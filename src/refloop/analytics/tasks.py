"""Background tasks of the analytics app (django.tasks; run by `refloop worker`)."""

from django.tasks import task

from refloop.analytics import facts


@task()
def catch_up_facts() -> int:
    return facts.catch_up()
