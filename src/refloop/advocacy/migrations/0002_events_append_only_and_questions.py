"""The advocacy timeline is append-only like the referral timeline; the default survey
questions (the practice edits the patient ones; the office ones are fixed)."""

from django.db import migrations

from refloop.core.append_only import make_append_only

PATIENT_QUESTIONS = (
    ("scheduling", "How easy was it to get an appointment?"),
    ("wait", "How reasonable was your wait on the day of your visit?"),
    ("clinician", "How well did your clinician listen and explain things?"),
    ("staff", "How courteous and helpful were our staff?"),
)
OFFICE_QUESTIONS = (
    ("ease", "How easy was it to refer your patient to us?"),
    ("speed", "How satisfied are you with how quickly your patient was seen?"),
    ("informed", "How well did we keep you informed about your patient?"),
)


def add(apps, schema_editor):
    Question = apps.get_model("advocacy", "Question")
    for audience, questions in (("patient", PATIENT_QUESTIONS), ("office", OFFICE_QUESTIONS)):
        for position, (key, text) in enumerate(questions):
            Question.objects.get_or_create(
                audience=audience, key=key, defaults={"text": text, "position": position}
            )


class Migration(migrations.Migration):
    dependencies = [("advocacy", "0001_initial")]
    operations = [
        make_append_only("advocacy_advocacyevent"),
        migrations.RunPython(add, migrations.RunPython.noop),
    ]
