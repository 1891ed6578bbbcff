"""PostgreSQL's wall: row-level security and same-organization keys on every tenant table.

The suite connects as the application role (see tests/conftest.py), which owns nothing and
cannot bypass row-level security, so what these tests see is what production sees. Every
check is written against ``tenant_models()``, so a new tenant model is covered the day it
lands.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from alignment.models import Organization
from alignment.rls import POLICY_NAME, tenant_models
from alignment.tenancy import TenantModel, cross_tenant_system_context, tenant_context
from tests.factories import OrganizationFactory
from tests.test_isolation import populate_org

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row-level security is PostgreSQL's"
)

TABLES = sorted(model._meta.db_table for model in tenant_models())


def _fetchall(sql: str, params: list[object] | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def _count(table: str) -> int:
    return _fetchall(f'SELECT count(*) FROM "{table}"')[0][0]  # noqa: S608 - our table names


@pytest.fixture
def two_orgs(db) -> tuple[Organization, Organization]:  # type: ignore[no-untyped-def]
    a = OrganizationFactory(name="Acme", slug="acme")
    b = OrganizationFactory(name="Borealis", slug="borealis")
    populate_org(a, admin_email="admin@acme.test")
    populate_org(b, admin_email="admin@borealis.test")
    return a, b


def _populated_tables(org: Organization) -> list[str]:
    """The tenant tables that hold rows of this organization (checked with the escape hatch)."""
    with cross_tenant_system_context():
        return [
            model._meta.db_table
            for model in tenant_models()
            if model.objects.filter(organization_id=org.pk).exists()
        ]


def test_the_suite_runs_as_the_application_role_that_owns_nothing(db):
    ((user, is_super, bypass),) = _fetchall(
        "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
    )
    assert user == settings.TEST_APP_DB_USER
    assert not is_super
    assert not bypass
    owned = _fetchall(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
        "AND tableowner = current_user"
    )
    assert owned == []


@pytest.mark.parametrize("table", TABLES)
def test_every_tenant_table_forces_row_level_security_with_the_isolation_policy(db, table):
    ((enabled, forced),) = _fetchall(
        "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = %s::regclass",
        [table],
    )
    assert enabled, f"{table}: row-level security is not enabled"
    assert forced, f"{table}: row-level security is not forced (the owner would bypass it)"
    policies = _fetchall(
        "SELECT policyname, cmd FROM pg_policies "
        "WHERE schemaname = current_schema() AND tablename = %s",
        [table],
    )
    assert (POLICY_NAME, "ALL") in policies, f"{table}: policy {POLICY_NAME} is missing"


def test_with_no_organization_set_every_tenant_table_looks_empty(two_orgs):
    a, b = two_orgs
    populated = set(_populated_tables(a)) & set(_populated_tables(b))
    # Everything the fixtures create is really there, for both organizations...
    assert {"alignment_account", "alignment_membership", "alignment_notification"} <= populated

    # ...and with no organization in context, raw SQL sees none of it, in any tenant table.
    assert {table: _count(table) for table in TABLES} == dict.fromkeys(TABLES, 0)


def test_in_an_organizations_context_only_its_rows_are_visible(two_orgs):
    a, b = two_orgs
    populated = _populated_tables(b)

    with tenant_context(a):
        for table in TABLES:
            orgs = {
                row[0]
                for row in _fetchall(f'SELECT DISTINCT organization_id FROM "{table}"')  # noqa: S608
            }
            assert orgs <= {a.pk}, f"{table} shows rows of organizations {orgs - {a.pk}}"
            if table in populated:
                assert orgs == {a.pk}, f"{table} hides organization A's own rows"


def _column_names(table: str) -> list[str]:
    return [
        row[0]
        for row in _fetchall(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass "
            "AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            [table],
        )
    ]


def test_writing_a_row_for_another_organization_is_refused_by_the_policy(two_orgs):
    """In A's context, copying one of A's rows as B's (INSERT) or moving it to B (UPDATE)."""
    a, b = two_orgs
    populated = _populated_tables(a)
    assert populated

    with tenant_context(a):
        for table in populated:
            columns = [c for c in _column_names(table) if c != "id"]
            names = ", ".join(f'"{c}"' for c in columns)
            values = ", ".join("%s" if c == "organization_id" else f'"{c}"' for c in columns)
            insert = f'INSERT INTO "{table}" ({names}) SELECT {values} FROM "{table}" LIMIT 1'  # noqa: S608
            update = f'UPDATE "{table}" SET organization_id = %s'  # noqa: S608
            for sql in (insert, update):
                with (
                    pytest.raises(DatabaseError) as refused,
                    transaction.atomic(),
                    connection.cursor() as cursor,
                ):
                    cursor.execute(sql, [b.pk])
                assert "row-level security" in str(refused.value), f"{table}: {refused.value}"


def test_a_raw_insert_for_another_organization_is_refused(two_orgs):
    a, b = two_orgs
    with tenant_context(a):
        with (
            pytest.raises(DatabaseError, match="row-level security"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(
                "INSERT INTO alignment_productarea "
                "(organization_id, name, description, created_at, updated_at) "
                "VALUES (%s, 'Smuggled', '', now(), now())",
                [b.pk],
            )
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO alignment_productarea "
                "(organization_id, name, description, created_at, updated_at) "
                "VALUES (%s, 'Allowed', '', now(), now())",
                [a.pk],
            )
    with cross_tenant_system_context(), connection.cursor() as cursor:
        cursor.execute("SELECT organization_id FROM alignment_productarea WHERE name = 'Smuggled'")
        assert cursor.fetchall() == []


def _same_org_keys(table: str) -> set[tuple[str, str, str]]:
    """(column, referenced table, constraint name) of each composite same-organization key."""
    rows = _fetchall(
        """
        SELECT c.conname, c.confrelid::regclass::text,
               array_agg(a.attname ORDER BY k.ord)
        FROM pg_constraint c
        CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
        WHERE c.contype = 'f' AND c.conrelid = %s::regclass AND c.conname LIKE 'samorg\\_%%'
        GROUP BY c.conname, c.confrelid
        """,
        [table],
    )
    keys = set()
    for name, referenced, columns in rows:
        assert columns[0] == "organization_id" and len(columns) == 2, (name, columns)
        keys.add((columns[1], referenced.strip('"'), name))
    return keys


def _tenant_foreign_keys(model: type[TenantModel]) -> set[tuple[str, str]]:
    return {
        (field.column, field.related_model._meta.db_table)
        for field in model._meta.concrete_fields
        if field.many_to_one
        and field.related_model is not None
        and issubclass(field.related_model, TenantModel)
    }


@pytest.mark.parametrize("model", tenant_models(), ids=lambda m: m._meta.label)
def test_every_foreign_key_between_tenant_tables_has_a_same_org_key(db, model):
    table = model._meta.db_table
    actual = {(column, referenced) for column, referenced, _ in _same_org_keys(table)}
    expected = _tenant_foreign_keys(model)
    assert expected - actual == set(), f"{table}: no (organization_id, fk) key for these"


def test_the_same_org_keys_exist_at_all():
    models_with_tenant_fks = [m for m in tenant_models() if _tenant_foreign_keys(m)]
    assert len(models_with_tenant_fks) >= 5  # accounts, product areas, invitations, ...
