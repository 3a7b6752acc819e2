"""What every form shares (staff pages, portal, public form): errors beside the field, domain
errors mapped onto fields."""

from django import forms
from django.forms.renderers import TemplatesSetting

from refloop.core.errors import DomainError


class FormRenderer(TemplatesSetting):
    """Fields render with the error right after the input, tied to it by aria-describedby."""

    field_template_name = "web/forms/field.html"


def attach_domain_error(form: forms.Form, error: DomainError) -> None:
    """Show a refused service call on the form: beside the field it names, else at the top."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)
