"""The complaint reader's planted cases, written before the reader: what a patient writes
when something went wrong, and what they write when it did not (praise, negated complaints)."""

import pytest

from refloop.advocacy.complaints import guess_category, reads_as_complaint

COMPLAINTS = [
    "The receptionist was rude to my mother.",
    "I waited over an hour past my appointment time.",
    "Nobody ever called me back about my MRI.",
    "They never called back, twice.",
    "There was a billing error on my statement and no one will fix it.",
    "I was charged twice for the same visit.",
    "The doctor was dismissive and did not listen to me.",
    "Very disappointed with how I was treated.",
    "The front desk staff were unprofessional and rude.",
    "Terrible experience, I will not be coming back.",
    "My appointment was cancelled without any notice.",
    "The waiting room was dirty.",
    "Long wait and nobody explained the delay.",
    "I couldn't get an appointment for six weeks.",
    "No one returned my calls for a week.",
    "The bill was wrong and they overcharged me.",
    "Horrible service, the nurse was not helpful at all.",
    "I am unhappy with the care I received.",
]

NOT_COMPLAINTS = [
    "No complaints, great staff!",
    "The staff were not rude at all, very kind.",
    "I barely waited, I was seen right on time.",
    "Dr. Reed was wonderful and explained everything.",
    "Everything was great, thank you.",
    "They called me back the same day.",
    "",
    "Nothing to complain about.",
    "Never had a billing problem here.",
    "Friendly front desk and a clean office.",
    "The physical therapy really helped my back.",
    "I would recommend this practice to anyone.",
    "Not disappointed at all, the best clinic I have been to.",
    "Parking was easy and the wait was short.",
    "Can't think of anything to improve.",
    "No issues whatsoever.",
]


@pytest.mark.parametrize("text", COMPLAINTS)
def test_a_complaint_reads_as_one(text):
    assert reads_as_complaint(text)


@pytest.mark.parametrize("text", NOT_COMPLAINTS)
def test_praise_and_negated_complaints_do_not(text):
    assert not reads_as_complaint(text)


@pytest.mark.parametrize(
    "text, category",
    [
        ("There was a billing error on my statement", "billing"),
        ("I waited over an hour", "wait"),
        ("The receptionist was rude", "staff"),
        ("Nobody ever called me back", "communication"),
        ("I couldn't get an appointment for six weeks", "access"),
        ("The waiting room was dirty", "facility"),
        ("The doctor misdiagnosed my knee", "clinical"),
        ("It was just not good", "other"),
    ],
)
def test_the_category_is_guessed_from_the_words(text, category):
    assert guess_category(text) == category
