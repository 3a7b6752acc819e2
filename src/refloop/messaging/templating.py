"""Message wording: `{{ placeholder }}` substitution over a fixed vocabulary per rule.

Deliberately not the Django template language: an admin edits these, and a template
must not reach attributes or run tags, only fill in the names listed for its rule.
"""

import re
from dataclasses import dataclass

PLACEHOLDER = re.compile(r"\{\{\s*([a-zA-Z0-9_.]+)\s*\}\}")
# Filled in at send time with a freshly minted magic link: no usable token is stored.
LINK_PLACEHOLDERS = {"link.confirm", "link.cancel", "link.instructions"}


@dataclass(frozen=True)
class Placeholder:
    name: str
    meaning: str
    example: str


CATALOG = {
    p.name: p
    for p in [
        Placeholder("practice.name", "our practice's name", "Lakeside Orthopedics"),
        Placeholder("practice.phone", "our practice's phone number", "(555) 010-2000"),
        Placeholder("department.name", "the department the referral is for", "Spine"),
        Placeholder("referral.number", "the referral's number", "R-2611-0042"),
        Placeholder("referrer.name", "the referring provider, e.g. Dr. Reed", "Dr. Reed"),
        Placeholder("referrer.practice", "the referring practice", "Maple Family Medicine"),
        Placeholder("patient.first_name", "the patient's first name", "Maria"),
        Placeholder("patient.initials", "the patient's initials (for referrers)", "M. G."),
        Placeholder("first_contact.by", "when we will first call the patient", "by Tuesday 5 PM"),
        Placeholder(
            "appointment.when", "the appointment's date and time", "Tuesday, November 24 at 9:00 AM"
        ),
        Placeholder(
            "appointment.where", "where the appointment is", "Lakeside Orthopedics, 1 Main St"
        ),
        Placeholder("appointment.with", "who the patient will see", "Dr. Chen"),
        Placeholder("decline.reason", "why we could not accept the referral", "Outside our scope"),
        Placeholder(
            "decline.alternative",
            "where we suggest the patient go instead",
            "Riverside Pain Clinic",
        ),
        Placeholder("info.missing", "what we still need from the referrer", "Recent MRI report"),
        Placeholder("report.findings", "the clinician's findings", "L5 radiculopathy"),
        Placeholder("report.plan", "the treatment plan", "Physical therapy for six weeks"),
        Placeholder(
            "report.medications", "medications started or changed", "Gabapentin 300 mg at night"
        ),
        Placeholder(
            "report.follow_up", "follow-up recommendations for the referrer", "Review in 6 weeks"
        ),
        Placeholder("no_show.count", "how many appointments were missed", "2"),
        Placeholder("stall.days", "days without any action", "5"),
        Placeholder("stall.state", "the state the referral is waiting in", "in review"),
        Placeholder("sla.overdue_hours", "hours past the first-contact target", "6"),
        Placeholder("case.number", "a service-recovery case's number", "C-7K2M-Q9XD"),
        Placeholder("case.category", "what a case is about", "Wait time"),
        Placeholder("case.late", "how long past its clock a case is", "3 h"),
        Placeholder("digest.month", "the month a digest covers", "October 2026"),
        Placeholder(
            "digest.table",
            "one line per referral with its status",
            "R-2610-0001  received Oct 3  seen",
        ),
        Placeholder(
            "failure.reason", "why a message could not be delivered", "The mail server answered 550"
        ),
        Placeholder("link.survey", "the patient's own survey link", "https://refloop.example/s/…"),
        Placeholder(
            "review.links",
            "the practice's public review sites, one link each",
            "Google: https://refloop.example/r/…",
        ),
        Placeholder(
            "feedback.scores",
            "a referring office's low answers (of 5)",
            "How easy was it to refer your patient to us? 2 of 5",
        ),
        Placeholder(
            "link.survey",
            "the referring office's survey (names no one)",
            "https://refloop.example/s/…",
        ),
        Placeholder(
            "link.portal", "the referring-practice portal", "https://refloop.example/portal/"
        ),
        Placeholder(
            "link.advocate",
            "the advocate's personal link to the referral form (names no one)",
            "https://refloop.example/refer/friend/…/",
        ),
        Placeholder(
            "friend.first_name",
            "the first name of the friend who used the advocate's link (only with their yes)",
            "Sam",
        ),
        Placeholder(
            "link.confirm",
            "a one-time link to confirm the appointment",
            "https://refloop.example/p/…",
        ),
        Placeholder(
            "link.cancel",
            "a one-time link to cancel the appointment",
            "https://refloop.example/p/…",
        ),
        Placeholder(
            "link.instructions", "a link to what to bring and expect", "https://refloop.example/p/…"
        ),
    ]
}


def placeholders_in(text: str) -> list[str]:
    return [match.group(1) for match in PLACEHOLDER.finditer(text)]


def unknown_placeholders(text: str, allowed: frozenset[str]) -> list[str]:
    """Names in `text` this rule cannot fill, in order of first appearance."""
    seen: list[str] = []
    for name in placeholders_in(text):
        if name not in allowed and name not in seen:
            seen.append(name)
    return seen


def render(
    text: str, values: dict[str, str], *, keep: frozenset[str] | set[str] = frozenset()
) -> str:
    """Fill each placeholder; names in `keep` stay as they are (filled later, at send time)."""

    def fill(match: re.Match) -> str:
        name = match.group(1)
        if name in keep:
            return "{{ " + name + " }}"
        return str(values.get(name, ""))

    return PLACEHOLDER.sub(fill, text)


def example_values() -> dict[str, str]:
    return {name: p.example for name, p in CATALOG.items()}
