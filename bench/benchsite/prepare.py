"""Migrate a fresh database and seed what one intake needs; prints the ids and token as JSON.

Run as `python -m benchsite.prepare` with REFLOOP_DATA_DIR / REFLOOP_DATABASE_URL set.
"""

import json
import os

import django


def seed() -> dict:
    """Migrate, then an organization, a department, a referring provider, a coordinator
    and an API token for them, all from the factories the demo and the tests use."""
    from django.core.management import call_command

    from refloop.core.models import ApiToken
    from refloop.core.roles import Role
    from refloop.demo.factories import (
        DepartmentFactory,
        OrganizationFactory,
        ProviderFactory,
        UserFactory,
    )

    # --run-syncdb creates benchsite's table, which has no migrations on purpose.
    call_command("migrate", run_syncdb=True, verbosity=0)
    OrganizationFactory()
    department = DepartmentFactory(code="spine", name="Spine")
    provider = ProviderFactory()
    user = UserFactory(
        username="bench-coordinator", role=Role.COORDINATOR, departments=[department]
    )
    _, token = ApiToken.issue(user)
    return {"token": token, "department_id": department.pk, "provider_id": provider.pk}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchsite.settings")
    django.setup()
    print(json.dumps(seed()))


if __name__ == "__main__":
    main()
