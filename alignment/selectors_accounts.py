"""Reads of accounts and account imports. Every selector takes the organization."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404

from alignment.models import Account, AuditEvent, ImportJob, Membership, Organization, Role
from alignment.services.imports import IMPORT_KIND

UNASSIGNED = "unassigned"

# Every sort ends on the primary key so pages are stable when values tie.
ACCOUNT_SORTS: dict[str, tuple[Any, ...]] = {
    "-arr": ("-arr", "-id"),
    "arr": ("arr", "id"),
    "renewal": (F("renewal_date").asc(nulls_last=True), "id"),
    "-renewal": (F("renewal_date").desc(nulls_last=True), "-id"),
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
}
DEFAULT_SORT = "-arr"


def account_list(
    *,
    org: Organization,
    q: str = "",
    segment: str = "",
    lifecycle_stage: str = "",
    csm: str = "",
    sort: str = DEFAULT_SORT,
) -> QuerySet[Account]:
    """The account list: search by name or CRM id, filter, sort (ARR descending by default).

    ``csm`` is a membership id or ``"unassigned"``. Joins the CSM and their user so the
    page runs the same number of queries for 5 rows or 50.
    """
    accounts = Account.objects.for_org(org).select_related("csm__user")
    q = q.strip()
    if q:
        accounts = accounts.filter(Q(name__icontains=q) | Q(external_id__icontains=q))
    if segment:
        accounts = accounts.filter(segment=segment)
    if lifecycle_stage:
        accounts = accounts.filter(lifecycle_stage=lifecycle_stage)
    if csm == UNASSIGNED:
        accounts = accounts.filter(csm__isnull=True)
    elif csm:
        accounts = accounts.filter(csm_id=int(csm))
    return accounts.order_by(*ACCOUNT_SORTS.get(sort, ACCOUNT_SORTS[DEFAULT_SORT]))


def account_list_totals(accounts: QuerySet[Account]) -> dict[str, Any]:
    """Count and total ARR of a filtered list, in one query."""
    totals = accounts.order_by().aggregate(count=Count("id"), arr=Sum("arr"))
    totals["arr"] = totals["arr"] or Decimal("0")
    return totals


def account_exists(*, org: Organization) -> bool:
    return Account.objects.for_org(org).exists()


def account_get(*, org: Organization, pk: int) -> Account:
    """One account of this organization; another organization's is a 404 like a missing one."""
    return get_object_or_404(Account.objects.for_org(org).select_related("csm__user"), pk=pk)


def account_history(*, org: Organization, account: Account, limit: int = 20) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.for_org(org)
        .filter(target_type="account", target_id=str(account.pk))
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )


def csm_choices(*, org: Organization, keep: int | None = None) -> QuerySet[Membership]:
    """Who may own an account: the organization's active CSMs.

    ``keep`` adds the account's current owner even if no longer an active CSM, so editing
    another field of the account does not silently unassign it.
    """
    allowed = Q(is_active=True, role=Role.CSM)
    if keep is not None:
        allowed |= Q(pk=keep)
    return (
        Membership.objects.for_org(org)
        .filter(allowed)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


def account_import_list(*, org: Organization, limit: int = 10) -> list[ImportJob]:
    """The latest imports, without their (possibly large) file content."""
    return list(
        ImportJob.objects.for_org(org)
        .filter(kind=IMPORT_KIND)
        .defer("content", "errors")
        .select_related("created_by__user")
        .order_by("-created_at", "-id")[:limit]
    )


def account_import_get(*, org: Organization, pk: int, with_content: bool = False) -> ImportJob:
    jobs = (
        ImportJob.objects.for_org(org).filter(kind=IMPORT_KIND).select_related("created_by__user")
    )
    if not with_content:
        jobs = jobs.defer("content")
    return get_object_or_404(jobs, pk=pk)


def import_summary(job: ImportJob) -> dict[str, int]:
    """Created, updated, unchanged and rejected rows; unchanged is whatever is left."""
    unchanged = job.processed_rows - job.created_count - job.updated_count - job.error_count
    return {
        "created": job.created_count,
        "updated": job.updated_count,
        "unchanged": max(0, unchanged),
        "rejected": job.error_count,
        "shown_errors": len(job.errors),
    }
