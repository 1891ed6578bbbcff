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


def _set_db(values: dict[str, str]) -> None:
    # set_config(..., is_local => true) lasts until the end of the current transaction; a
    # rolled-back savepoint restores the previous values by itself. One statement for all.
    if connection.vendor != "postgresql" or not values:
        return
    calls = ", ".join("set_config(%s, %s, true)" for _ in values)
    params = [item for pair in values.items() for item in pair]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {calls}", params)


def _get_db(names: list[str]) -> dict[str, str]:
    calls = ", ".join("current_setting(%s, true)" for _ in names)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {calls}", names)
        row = cursor.fetchone()
    return {name: value or "" for name, value in zip(names, row, strict=True)}


@contextmanager
def _db_settings(values: dict[str, str]) -> Iterator[None]:
    """Set per-transaction database settings for the block, restoring the previous ones.

    When the block is the outermost transaction (a request, a task), its end discards the
    settings, so nothing needs reading or restoring: one query. Nested inside an existing
    transaction, the previous values are read first and put back on the way out.
    """
    postgres = connection.vendor == "postgresql"
    nested = connection.in_atomic_block
    with transaction.atomic():
        previous = _get_db(list(values)) if postgres and nested else {}
        _set_db(values)
        try:
            yield
        except BaseException:
            # The enclosing atomic block rolls back (to its savepoint), which undoes the
            # settings too; running SQL here could fail inside an aborted transaction.
            raise
        else:
            _set_db(previous)


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

    def none(self) -> TenantQuerySet:
        # An empty queryset reads nothing, so it needs no organization (form field defaults).
        return self._unchecked().none()

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
