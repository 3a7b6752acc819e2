"""The words pages use for stored values and for people."""

import pytest
from django.template import Context, Template

from refloop.demo import factories as f
from refloop.web.words import person, words

pytestmark = pytest.mark.django_db


def test_a_person_is_named_by_full_name_or_else_by_username(org):
    named = f.UserFactory(username="cora", first_name="Cora", last_name="Lindqvist")
    unnamed = f.UserFactory(username="night-desk", first_name="", last_name=" ")
    assert person(named) == "Cora Lindqvist"
    assert person(unnamed) == "night-desk"
    assert person(None) == ""


def test_templates_name_people_with_the_same_function(org):
    user = f.UserFactory(username="cliff", first_name="Clifford", last_name="Okafor")
    rendered = Template("{% load web %}{{ user|person }}|{{ nobody|person|default:'Unassigned' }}")
    assert rendered.render(Context({"user": user, "nobody": None})) == "Clifford Okafor|Unassigned"


def test_stored_values_read_as_words():
    assert words("not_clinically_indicated") == "Not clinically indicated"
    assert words("no_show") == "No-show"
