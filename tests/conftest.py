"""Shared fixtures: two organizations, their members by role, logged-in clients.

On PostgreSQL the suite creates the test database as the owner role (which runs the
migrations and the row-level security sync), then reconnects as the application role, so
every test runs under the same row-level security as production.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client

from alignment.models import Membership, Organization, Role
from tests.factories import MembershipFactory, OrganizationFactory


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker) -> Iterator[None]:  # type: ignore[no-untyped-def]
    connection = connections["default"]
    if connection.vendor != "postgresql":
        yield
        return
    app_role = settings.TEST_APP_DB_USER
    owner = connection.settings_dict["USER"]
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [app_role])
        row = cursor.fetchone()
        if row is None:
            pytest.exit(f"The application role {app_role!r} does not exist; .ci/run creates it.", 2)
        if row[0] or row[1]:
            pytest.exit(f"The application role {app_role!r} must not bypass row-level security.", 2)
        # Tests that commit (browser journeys) are cleaned up with TRUNCATE; grant it on the
        # test database only. Production's application role never has it.
        cursor.execute(f'GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO "{app_role}"')
    for conn in connections.all():
        conn.close()
    connection.settings_dict["USER"] = app_role
    connection.settings_dict["PASSWORD"] = settings.TEST_APP_DB_PASSWORD
    yield
    for conn in connections.all():
        conn.close()
    connection.settings_dict["USER"] = owner


@pytest.fixture
def org_a(db) -> Organization:  # type: ignore[no-untyped-def]
    return OrganizationFactory(name="Acme Analytics", slug="acme")


@pytest.fixture
def org_b(db) -> Organization:  # type: ignore[no-untyped-def]
    return OrganizationFactory(name="Borealis Cloud", slug="borealis")


@pytest.fixture
def make_member(db) -> Callable[..., Membership]:  # type: ignore[no-untyped-def]
    def make(org: Organization, role: str = Role.CSM, **kwargs: object) -> Membership:
        return MembershipFactory(organization=org, role=role, **kwargs)

    return make


@pytest.fixture
def admin_a(org_a, make_member) -> Membership:  # type: ignore[no-untyped-def]
    return make_member(
        org_a, Role.ADMIN, user__email="admin@acme.test", user__full_name="Ada Admin"
    )


@pytest.fixture
def csm_a(org_a, make_member) -> Membership:  # type: ignore[no-untyped-def]
    return make_member(org_a, Role.CSM, user__email="csm@acme.test", user__full_name="Casey CSM")


@pytest.fixture
def pm_a(org_a, make_member) -> Membership:  # type: ignore[no-untyped-def]
    return make_member(org_a, Role.PM, user__email="pm@acme.test", user__full_name="Pat PM")


@pytest.fixture
def cs_ops_a(org_a, make_member) -> Membership:  # type: ignore[no-untyped-def]
    return make_member(org_a, Role.CS_OPS, user__email="ops@acme.test", user__full_name="Olive Ops")


@pytest.fixture
def admin_b(org_b, make_member) -> Membership:  # type: ignore[no-untyped-def]
    return make_member(
        org_b, Role.ADMIN, user__email="admin@borealis.test", user__full_name="Bo Admin"
    )


@pytest.fixture
def csm_b(org_b, make_member) -> Membership:  # type: ignore[no-untyped-def]
    return make_member(org_b, Role.CSM, user__email="csm@borealis.test", user__full_name="Bea CSM")


@pytest.fixture
def client_for() -> Callable[[Membership], Client]:
    def make(membership: Membership) -> Client:
        client = Client()
        client.force_login(membership.user)
        return client

    return make
