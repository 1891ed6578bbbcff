"""Reads of commitments: the promises list, a PM's approvals, an account's promises.

Every list joins what its rows show (account, item, the people) so a page runs the same
number of queries for 3 rows or 300. At-risk promises always come first.
"""

from __future__ import annotations

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.http import Http404

from alignment.models import Account, Membership, Organization, Role
from roadmap.models import Commitment, CommitmentStatus

_RELATED = ("account__csm__user", "item__pm__user", "requested_by__user", "decided_by__user")


def _ordered(commitments: QuerySet[Commitment]) -> QuerySet[Commitment]:
    """At risk first, then awaiting sign-off, then the rest; newest first within each."""
    rank = Case(
        When(at_risk_since__isnull=False, then=Value(0)),
        When(status=CommitmentStatus.REQUESTED, then=Value(1)),
        When(status=CommitmentStatus.APPROVED, then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )
    return commitments.annotate(rank=rank).order_by("rank", "-created_at", "-pk")


def commitment_list(
    *,
    org: Organization,
    holder: int | None = None,
    status: str = "",
    at_risk: bool = False,
) -> QuerySet[Commitment]:
    """The promises list. ``holder`` is the membership id of the CSM who asked."""
    commitments = Commitment.objects.for_org(org).select_related(*_RELATED)
    if holder is not None:
        commitments = commitments.filter(requested_by_id=holder)
    if status:
        commitments = commitments.filter(status=status)
    if at_risk:
        commitments = commitments.filter(at_risk_since__isnull=False)
    return _ordered(commitments)


def commitment_pending_for(*, org: Organization, decider: Membership) -> QuerySet[Commitment]:
    """Requests awaiting this person's sign-off: on items they own; a Head of Product or an
    admin sees every pending request (they may decide any)."""
    pending = (
        Commitment.objects.for_org(org)
        .filter(status=CommitmentStatus.REQUESTED)
        .select_related(*_RELATED)
        .order_by("created_at", "pk")
    )
    if decider.role in (Role.HEAD_OF_PRODUCT, Role.ADMIN):
        return pending
    return pending.filter(item__pm=decider)


def commitment_pending_count(*, org: Organization, decider: Membership) -> int:
    return commitment_pending_for(org=org, decider=decider).count()


def commitments_for_account(*, org: Organization, account: Account) -> list[Commitment]:
    return list(
        _ordered(Commitment.objects.for_org(org).filter(account=account)).select_related(*_RELATED)
    )


def commitments_for_item(*, org: Organization, item_id: int) -> list[Commitment]:
    return list(
        _ordered(Commitment.objects.for_org(org).filter(item_id=item_id)).select_related(*_RELATED)
    )


def commitment_approved_count(*, org: Organization, item_id: int) -> int:
    return (
        Commitment.objects.for_org(org)
        .filter(item_id=item_id, status=CommitmentStatus.APPROVED)
        .count()
    )


def commitment_get(*, org: Organization, pk: int) -> Commitment:
    commitment = Commitment.objects.for_org(org).select_related(*_RELATED).filter(pk=pk).first()
    if commitment is None:
        raise Http404("No such commitment.")
    return commitment


def holder_choices(*, org: Organization) -> QuerySet[Membership]:
    """Everyone who has asked for a commitment, for the promises filter."""
    return (
        Membership.objects.for_org(org)
        .filter(Q(role=Role.CSM, is_active=True) | Q(pk__in=_requesters(org)))
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


def _requesters(org: Organization) -> QuerySet[Commitment]:
    return (
        Commitment.objects.for_org(org)
        .filter(requested_by__isnull=False)
        .values("requested_by_id")
        .distinct()
    )
