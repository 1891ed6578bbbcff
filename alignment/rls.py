"""PostgreSQL's half of tenant isolation, kept in step with the models after every migrate.

For every concrete ``TenantModel``:

- row-level security is enabled *and forced* (so even the table owner is filtered), with one
  policy: a row is visible and writable only when its ``organization_id`` equals the
  per-transaction setting ``app.current_org`` (set by ``tenant_context``), or inside the
  named system escape hatch (``app.cross_tenant``). No setting means no rows.
- a unique key ``(organization_id, id)`` exists, and every foreign key to another tenant
  model is doubled by a composite key ``(organization_id, <fk>_id)`` referencing it, so a
  row can never point at another organization's row, whatever the application does.

Then the application role (``settings.DATABASE_APP_ROLE``) is granted DML on every table.
It owns nothing and cannot bypass row-level security; migrations run as the owner role.

This runs from ``post_migrate`` rather than hand-written migrations so a new tenant model
cannot be added without its policy: the isolation test checks the result on every table.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connections

from alignment.tenancy import CROSS_TENANT_SETTING, ORG_SETTING, TenantModel

POLICY_NAME = "seam_tenant_isolation"


def tenant_models() -> list[type[TenantModel]]:
    return [
        model
        for model in apps.get_models()
        if issubclass(model, TenantModel) and not model._meta.proxy
    ]


def _org_clause() -> str:
    return (
        f"(organization_id = NULLIF(current_setting('{ORG_SETTING}', true), '')::bigint "
        f"OR current_setting('{CROSS_TENANT_SETTING}', true) = 'on')"
    )


def _short_name(prefix: str, *parts: str) -> str:
    digest = hashlib.sha1("/".join(parts).encode(), usedforsecurity=False).hexdigest()[:12]
    return f"{prefix}_{digest}"


def _constraint_exists(cursor: Any, table: str, name: str) -> bool:
    cursor.execute(
        "SELECT 1 FROM pg_constraint WHERE conname = %s AND conrelid = %s::regclass",
        [name, table],
    )
    return cursor.fetchone() is not None


def sync_database_security(sender: Any = None, using: str = "default", **kwargs: Any) -> None:
    # post_migrate fires once per app after *all* migrations ran; act once, on our own app.
    if sender is not None and getattr(sender, "name", None) != "alignment":
        return
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        # post_migrate also fires after `flush` (tests that commit are cleaned up that way),
        # which runs as the application role: it owns no table and may change no policy.
        cursor.execute(
            "SELECT bool_and(tableowner = current_user) FROM pg_tables "
            "WHERE schemaname = current_schema() AND tablename LIKE 'alignment\\_%%'"
        )
        if not cursor.fetchone()[0]:
            return
        for model in tenant_models():
            table = model._meta.db_table
            qt = quote(table)
            org_pk_key = _short_name("orgpk", table)
            if not _constraint_exists(cursor, table, org_pk_key):
                cursor.execute(
                    f"ALTER TABLE {qt} ADD CONSTRAINT {quote(org_pk_key)} "
                    f"UNIQUE (organization_id, id)"
                )
        # Second pass: composite keys need every parent's (organization_id, id) key first.
        for model in tenant_models():
            table = model._meta.db_table
            qt = quote(table)
            for field in model._meta.concrete_fields:
                related = getattr(field, "related_model", None)
                if not field.many_to_one or related is None or not issubclass(related, TenantModel):
                    continue
                name = _short_name("samorg", table, field.column)
                if _constraint_exists(cursor, table, name):
                    continue
                cursor.execute(
                    f"ALTER TABLE {qt} ADD CONSTRAINT {quote(name)} "
                    f"FOREIGN KEY (organization_id, {quote(field.column)}) "
                    f"REFERENCES {quote(related._meta.db_table)} (organization_id, id) "
                    f"DEFERRABLE INITIALLY DEFERRED"
                )
            read_clause = _org_clause()
            if model.rls_read_extra:
                read_clause = f"({read_clause} OR {model.rls_read_extra})"
            cursor.execute(f"ALTER TABLE {qt} ENABLE ROW LEVEL SECURITY")
            cursor.execute(f"ALTER TABLE {qt} FORCE ROW LEVEL SECURITY")
            cursor.execute(f"DROP POLICY IF EXISTS {POLICY_NAME} ON {qt}")
            cursor.execute(
                f"CREATE POLICY {POLICY_NAME} ON {qt} USING {read_clause} "
                f"WITH CHECK {_org_clause()}"
            )
        _grant_app_role(cursor, quote)


def _grant_app_role(cursor: Any, quote: Any) -> None:
    role = settings.DATABASE_APP_ROLE
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
    if cursor.fetchone() is None:
        return
    cursor.execute("SELECT current_user")
    if cursor.fetchone()[0] == role:
        return
    cursor.execute("SELECT current_schema()")
    schema = quote(cursor.fetchone()[0])
    cursor.execute(f"GRANT USAGE ON SCHEMA {schema} TO {quote(role)}")
    cursor.execute(
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {quote(role)}"
    )
    cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {quote(role)}")
