"""Template helpers shared by every page ({% load web %}): the icon tag and the person filter."""

from django import template
from django.templatetags.static import static
from django.utils.html import format_html

from refloop.web.words import person as person_name

register = template.Library()


@register.simple_tag
def icon(name: str, label: str = ""):
    """An icon from the vendored Tabler sprite; decorative unless it gets a label."""
    href = f"{static('vendor/icons.svg')}#{name}"
    if label:
        return format_html(
            '<svg class="icon" role="img" aria-label="{}"><use href="{}"></use></svg>', label, href
        )
    return format_html('<svg class="icon" aria-hidden="true"><use href="{}"></use></svg>', href)


@register.filter
def person(user) -> str:
    """{{ referral.assignee|person }}: the name every page gives a user (web.words.person)."""
    return person_name(user)
