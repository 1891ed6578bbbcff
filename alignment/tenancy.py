"""Tenant scoping: the organization in context, fail-closed managers, and the database side.

Four walls keep one organization's data away from another's:

1. The edge (``alignment.decorators.org_view``, later the API key) resolves the organization
   once and enters ``tenant_context(org)`` for the whole request.
2. Every tenant model's default manager refuses to run a query unless an organization is in
   context or the query says ``for_org(org)``; in context it filters by that organization.
3. Child rows cannot point at another organization's rows: services check it, and on
   PostgreSQL composite foreign keys ``(organization_id, x_id)`` enforce it (see ``rls.py``).
4. PostgreSQL row-level security filters every tenant table on ``app.current_org``, which
   ``tenant_context`` sets for the transaction, so a forgotten filter still cannot leak.

The single cross-tenant escape hatch is ``cross_tenant_system_context``; only system jobs
(sweeps that iterate organizations, the notification reconciler) may use it, and a test keeps
the list of its callers short.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.db import connection, models, transaction

if TYPE_CHECKING:
    from alignment.models import Organization

_current_org_id: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "seam_current_org_id", default=None
)
_current_user_id: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "seam_current_user_id", default=None
)
_cross_tenant: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "seam_cross_tenant", default=False
)

ORG_SETTING = "app.current_org"
USER_SETTING = "app.current_user"
CROSS_TENANT_SETTING = "app.cross_tenant"


class TenantScopeError(RuntimeError):
    """A tenant-owned model was queried without an organization: a bug, never user error."""


def current_org_id() -> int | None:
    return _current_org_id.get()


def _org_pk(org: Organization | int) -> int:
    return org if isinstance(org, int) else org.pk


def _set_db(setting: str, value: str) -> None:
    # set_config(..., is_local => true) lasts until the end of the current transaction; a
    # rolled-back savepoint restores the previous value by itself.
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, true)", [setting, value])


@contextmanager
def _db_settings(values: dict[str, str]) -> Iterator[None]:
    """Set per-transaction database settings; restore the previous ones on the way out."""
    with transaction.atomic():
        previous: dict[str, str] = {}
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for name in values:
                    cursor.execute("SELECT current_setting(%s, true)", [name])
                    previous[name] = cursor.fetchone()[0] or ""
        for name, value in values.items():
            _set_db(name, value)
        try:
            yield
        except BaseException:
            # The enclosing atomic block rolls back (to its savepoint), which undoes the
            # settings too; running SQL here could fail inside an aborted transaction.
            raise
        else:
            for name, value in previous.items():
                _set_db(name, value)


@contextmanager
def tenant_context(org: Organization | int, *, user_id: int | None = None) -> Iterator[None]:
    """Run the block as one organization: the ORM scopes to it and so does PostgreSQL.

    Opens a transaction (or savepoint). ``user_id`` additionally lets the block read that
    user's own memberships in other organizations (the organization switcher).
    """
    org_id = _org_pk(org)
    org_token = _current_org_id.set(org_id)
    user_token = _current_user_id.set(user_id)
    try:
        with _db_settings(
            {ORG_SETTING: str(org_id), USER_SETTING: str(user_id) if user_id else ""}
        ):
            yield
    finally:
        _current_user_id.reset(user_token)
        _current_org_id.reset(org_token)


@contextmanager
def user_context(user_id: int) -> Iterator[None]:
    """Outside any organization: lets the block read only this user's own memberships."""
    user_token = _current_user_id.set(user_id)
    try:
        with _db_settings({USER_SETTING: str(user_id)}):
            yield
    finally:
        _current_user_id.reset(user_token)


@contextmanager
def cross_tenant_system_context() -> Iterator[None]:
    """THE escape hatch: queries in this block see every organization's rows.

    For system jobs only (a sweep that walks all organizations, the notification
    reconciler). Never for anything a request or an API key can reach.
    """
    token = _cross_tenant.set(True)
    try:
        with _db_settings({CROSS_TENANT_SETTING: "on"}):
            yield
    finally:
        _cross_tenant.reset(token)


class TenantQuerySet(models.QuerySet):
    pass


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):  # type: ignore[misc]
    """Fail-closed default manager for tenant-owned models."""

    def _unchecked(self) -> TenantQuerySet:
        return super().get_queryset()

    def get_queryset(self) -> TenantQuerySet:
        queryset = self._unchecked()
        org_id = _current_org_id.get()
        if org_id is not None:
            return queryset.filter(organization_id=org_id)
        if _cross_tenant.get():
            return queryset
        raise TenantScopeError(
            f"{self.model.__name__} was queried with no organization in context: "
            f"use {self.model.__name__}.objects.for_org(org) or enter tenant_context(org)."
        )

    def for_org(self, org: Organization | int) -> TenantQuerySet:
        org_id = _org_pk(org)
        context_org = _current_org_id.get()
        if context_org is not None and context_org != org_id:
            raise TenantScopeError(
                f"{self.model.__name__}.for_org({org_id}) inside the context of "
                f"organization {context_org}."
            )
        return self._unchecked().filter(organization_id=org_id)


class TenantModel(models.Model):
    """Base of every tenant-owned model: carries the organization and the scoped manager.

    ``rls_read_extra`` lets a model widen what may be *read* (never written) beyond the
    organization in context, e.g. a user reading their own memberships elsewhere.
    """

    organization = models.ForeignKey(
        "alignment.Organization", on_delete=models.CASCADE, related_name="+", editable=False
    )

    objects = TenantManager()

    rls_read_extra: str = ""

    class Meta:
        abstract = True

    def assert_same_org(self, *others: Any) -> None:
        """Services call this before linking rows: nothing may cross organizations."""
        for other in others:
            if other is not None and other.organization_id != self.organization_id:
                raise TenantScopeError(
                    f"{type(self).__name__} of organization {self.organization_id} cannot "
                    f"reference {type(other).__name__} of organization {other.organization_id}."
                )
