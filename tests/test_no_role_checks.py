"""Every permission question is a capability in core/roles.py: no code (or template) outside
it compares a user's role itself."""

import re
from pathlib import Path

import refloop

SRC = Path(refloop.__file__).parent
ROLES = SRC / "core" / "roles.py"
ROLE_CHECK = re.compile(
    r"\.role\s*(==|!=|not\s+in\b|in\b)|[\"']role[\"']\s*(?:,\s*None\s*)?\)\s*(==|!=|in\b)"
)


def role_checks() -> list[str]:
    found = []
    for path in sorted([*SRC.rglob("*.py"), *SRC.rglob("*.html")]):
        if path == ROLES or "migrations" in path.parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if ROLE_CHECK.search(line):
                found.append(f"{path.relative_to(SRC)}:{number}: {line.strip()}")
    return found


def test_no_role_is_compared_outside_core_roles():
    assert role_checks() == [], "ask core.roles (can, referral_scope) instead of comparing roles"


def test_the_check_catches_a_role_comparison():
    for line in (
        "if user.role == Role.CLINICIAN:",
        "if user.role != Role.PORTAL:",
        "if user.role in (Role.ADMIN,):",
        "if user.role not in ASSIGNABLE_ROLES:",
        'return getattr(user, "role", None) == Role.ANALYST',
        "{% if user.role == 'portal' %}",
    ):
        assert ROLE_CHECK.search(line), line
    assert not ROLE_CHECK.search("if role == SubmitterRole.PROVIDER:")
    assert not ROLE_CHECK.search("User.objects.filter(role__in=ASSIGNABLE_ROLES)")
