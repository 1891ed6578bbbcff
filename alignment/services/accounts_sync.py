"""Accounts written by the CRM through the API: the bulk upsert keyed on the CRM id, and
single-account updates guarded by a version (ETag).

The rules are those of every account write (``alignment/services/accounts.py``): checked by
``account_check_values``, the owning CSM an active CSM of this organization (given here by
email), the CRM id unique per organization. An API key with ``accounts:write`` acts for the
organization as a whole (like CS Ops): it may edit any account and assign any CSM; the audit
log names the key.

The bulk upsert is all-or-nothing *per item*: a bad item is reported and the good ones are
kept. It runs in a few queries whatever the batch size: every item is checked in Python
first (the rules need no database), then the new accounts are inserted with one
``bulk_create``, the changed ones written with one ``bulk_update`` and their audit events
with one more ``bulk_create``. It never creates a duplicate:

* rows that exist are locked (``SELECT ... FOR UPDATE``, in CRM-id order so two batches
  sharing ids cannot deadlock) before they are compared and updated;
* the new CRM ids are inserted in CRM-id order on a savepoint; if a concurrent batch
  inserted one of them first, the unique constraint (organization, external_id) makes the
  insert wait and fail. The savepoint is rolled back and that batch's new items take the
  slow path: each on its own savepoint, and the item whose id the other batch took turns
  into an update of that row (ON CONFLICT semantics).

Sending the same batch twice leaves the same rows: the second time every item is
``unchanged`` (nothing saved, nothing audited).
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from alignment.errors import ApplicationError
from alignment.models import Account, AuditEvent, Membership, Organization, Role
from alignment.services.accounts import ACCOUNT_FIELDS, _clean_fields, account_check_values
from alignment.services.audit import audit_build, diff, snapshot
from alignment.services.notifications import notification_create
from feedback.impact import IMPACT_FIELDS, account_refresh_impact

MAX_BATCH = 500
# Input fields besides the CSM, which arrives as csm_email.
SYNC_FIELDS = (
    "external_id",
    "name",
    "arr",
    "segment",
    "renewal_date",
    "health_score",
    "lifecycle_stage",
    "primary_risk",
    "primary_risk_note",
)


def account_version(account: Account) -> str:
    """The account's ETag: changes whenever the row is saved (``updated_at``)."""
    raw = f"{account.pk}:{account.updated_at.isoformat()}"
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:32] + '"'


@dataclass(frozen=True)
class SyncItem:
    """One item of a batch: its parsed values, or the errors found while parsing it."""

    index: int
    external_id: str
    values: dict[str, Any] = field(default_factory=dict)  # may hold "csm_email"
    errors: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class SyncResult:
    index: int
    external_id: str
    status: str  # created | updated | unchanged | error
    id: int | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class SyncReport:
    results: list[SyncResult]

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)


class _ItemError(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def _members_by_email(org: Organization, emails: Collection[str]) -> dict[str, Membership]:
    wanted = {e.strip().lower() for e in emails if e and e.strip()}
    if not wanted:
        return {}
    return {
        m.user.email.lower(): m
        for m in Membership.objects.for_org(org)
        .filter(user__email__in=wanted, is_active=True)
        .select_related("user")
    }


def _resolve_csm(email: str | None, members: dict[str, Membership]) -> Membership | None:
    if not email or not email.strip():
        return None  # an explicit null or "" leaves the account unassigned
    member = members.get(email.strip().lower())
    if member is None:
        raise _ItemError({"csm_email": [f"{email} is not an active member of this organization."]})
    if member.role != Role.CSM:
        raise _ItemError(
            {"csm_email": [f"{email} belongs to a {member.get_role_display()}, not a CSM."]}
        )
    return member


def _fields(values: dict[str, Any], members: dict[str, Membership]) -> dict[str, Any]:
    fields = {name: values[name] for name in SYNC_FIELDS if name in values}
    for name in ("primary_risk", "primary_risk_note"):
        if name in fields and fields[name] is None:
            fields[name] = ""
    if "csm_email" in values:
        fields["csm"] = _resolve_csm(values["csm_email"], members)
    return _clean_fields(fields)


def _errors_of(exc: ApplicationError) -> dict[str, list[str]]:
    errors = {("csm_email" if k == "csm" else k): v for k, v in exc.field_errors.items()}
    return errors or {"non_field_errors": [exc.message]}


@dataclass
class _Batch:
    org: Organization
    batch_id: str
    assigned: Counter[int] = field(default_factory=Counter)
    members: dict[int, Membership] = field(default_factory=dict)
    impact_changed: set[int] = field(default_factory=set)
    events: list[AuditEvent] = field(default_factory=list)

    def audit(self, action: str, account: Account, changes: dict[str, Any]) -> None:
        self.events.append(
            audit_build(org=self.org, actor=None, action=action, target=account, changes=changes)
        )

    def assign(self, account: Account) -> None:
        self.assigned[account.csm_id] += 1  # type: ignore[index]
        self.members[account.csm_id] = account.csm  # type: ignore[index,assignment]

    def write_audit(self) -> None:
        if self.events:
            AuditEvent.objects.for_org(self.org).bulk_create(self.events)
            self.events = []


@dataclass
class _Update:
    """A stored account with the item's fields set (checked, not yet saved)."""

    account: Account
    changes: dict[str, list[Any]]
    old_csm: int | None


def _plan_update(account: Account, fields: dict[str, Any]) -> _Update:
    """Set ``fields`` on a locked, stored account and check it; no database access."""
    before = snapshot(account, ACCOUNT_FIELDS)
    old_csm = account.csm_id
    for name, value in fields.items():
        setattr(account, name, value)
    account_check_values(account)
    return _Update(account, diff(before, snapshot(account, ACCOUNT_FIELDS)), old_csm)


def _updated(batch: _Batch, update: _Update) -> None:
    """What follows a stored change: its audit event, impact refresh, CSM notification."""
    account = update.account
    batch.audit("account.updated", account, update.changes)
    if IMPACT_FIELDS & update.changes.keys():
        batch.impact_changed.add(account.pk)
    if account.csm_id and account.csm_id != update.old_csm:
        batch.assign(account)


def _save_update(batch: _Batch, update: _Update) -> None:
    """Save one planned change on its own savepoint (the one-by-one path)."""
    try:
        with transaction.atomic():
            update.account.save()
    except IntegrityError as exc:
        raise _ItemError(
            {
                "external_id": [
                    f"Another account already has the CRM id {update.account.external_id}."
                ]
            }
        ) from exc
    _updated(batch, update)


def _save_planned(batch: _Batch, update: _Update) -> tuple[str, Account]:
    _save_update(batch, update)
    return "updated", update.account


def _apply(batch: _Batch, account: Account, fields: dict[str, Any]) -> bool:
    """Set ``fields`` on a locked, stored account; save and audit if anything changed."""
    update = _plan_update(account, fields)
    if not update.changes:
        return False
    _save_update(batch, update)
    return True


def _locked(org: Organization, external_ids: Collection[str]) -> dict[str, Account]:
    rows = (
        Account.objects.for_org(org)
        .select_for_update(of=("self",))
        .select_related("csm__user")  # the audit snapshot names the CSM
        .filter(external_id__in=list(external_ids))
        .order_by("external_id")
    )
    return {a.external_id: a for a in rows}


def _new_account(batch: _Batch, fields: dict[str, Any]) -> Account:
    """An unsaved account for a new CRM id, checked; no database access."""
    if not fields.get("name"):
        raise _ItemError({"name": ["A name is required to create an account."]})
    account = Account(organization=batch.org, **fields)
    account_check_values(account)
    return account


def _created(batch: _Batch, account: Account) -> None:
    batch.audit("account.created", account, diff({}, snapshot(account, ACCOUNT_FIELDS)))
    if account.csm_id:
        batch.assign(account)


def _create_or_update(
    batch: _Batch, external_id: str, fields: dict[str, Any]
) -> tuple[str, Account]:
    """Insert one new account on its own savepoint (the one-by-one path)."""
    account = _new_account(batch, fields)
    try:
        with transaction.atomic():
            account.save()
    except IntegrityError:
        # A concurrent batch created this CRM id after we looked: update its row instead.
        existing = _locked(batch.org, [external_id]).get(external_id)
        if existing is None:
            raise _ItemError(
                {"non_field_errors": ["The account could not be saved: it breaks a rule."]}
            ) from None
        changed = _apply(batch, existing, fields)
        return ("updated" if changed else "unchanged"), existing
    _created(batch, account)
    return "created", account


def _notify_assigned(batch: _Batch, *, single: Account | None = None) -> None:
    org = batch.org
    for csm_id, count in batch.assigned.items():
        member = batch.members[csm_id]
        if single is not None:
            title = f"You now own {single.name}"
            body = f"The CRM sync made you the owning CSM of {single.name}."
            url = reverse(
                "alignment:account-detail", kwargs={"org_slug": org.slug, "pk": single.pk}
            )
        else:
            plural = "s" if count != 1 else ""
            title = f"{count} account{plural} assigned to you by the CRM sync"
            body = f"The CRM sync made you the owning CSM of {count} account{plural}."
            url = reverse("alignment:account-list", kwargs={"org_slug": org.slug})
            url += f"?csm={member.pk}"
        notification_create(
            org=org,
            recipient=member,
            kind="account.assigned",
            title=title,
            body=body,
            url=url,
            dedupe_key=f"api-sync:{batch.batch_id}:assigned:{member.pk}",
        )


def account_bulk_upsert(*, org: Organization, items: Sequence[SyncItem]) -> SyncReport:
    """Create or update each item's account by its CRM id; report every item.

    Items arrive parsed (types and choices checked by the API's serializer); items that
    failed parsing are reported as errors unchanged. Impact scores of the accounts whose
    ARR, renewal date or stage changed are refreshed once at the end; each newly assigned
    CSM gets one notification for the batch.
    """
    if len(items) > MAX_BATCH:
        raise ApplicationError(
            f"Send at most {MAX_BATCH} accounts per request; this one has {len(items)}.",
            field_errors={"accounts": [f"At most {MAX_BATCH} items."]},
        )
    results: dict[int, SyncResult] = {}
    first_seen: dict[str, int] = {}
    writable: list[SyncItem] = []
    for item in items:
        if item.errors:
            results[item.index] = SyncResult(
                item.index, item.external_id, "error", errors=item.errors
            )
        elif item.external_id in first_seen:
            message = (
                f"The CRM id {item.external_id} already appears at index "
                f"{first_seen[item.external_id]} of this batch; send each account once."
            )
            results[item.index] = SyncResult(
                item.index, item.external_id, "error", errors={"external_id": [message]}
            )
        else:
            first_seen[item.external_id] = item.index
            writable.append(item)
    batch = _Batch(org=org, batch_id=uuid.uuid4().hex)
    with transaction.atomic():
        members = _members_by_email(
            org, [str(i.values.get("csm_email") or "") for i in writable if "csm_email" in i.values]
        )
        existing = _locked(org, [i.external_id for i in writable])
        new: list[tuple[SyncItem, dict[str, Any], Account]] = []
        changed: list[tuple[SyncItem, _Update]] = []
        for item in sorted(writable, key=lambda i: i.external_id):
            try:
                fields = _fields({**item.values, "external_id": item.external_id}, members)
                account = existing.get(item.external_id)
                if account is None:
                    new.append((item, fields, _new_account(batch, fields)))
                    continue
                update = _plan_update(account, fields)
            except (_ItemError, ApplicationError) as exc:
                results[item.index] = _error(item, exc)
                continue
            if update.changes:
                changed.append((item, update))
            else:
                results[item.index] = SyncResult(
                    item.index, item.external_id, "unchanged", account.pk
                )
        _insert_new(batch, new, results)
        _write_changed(batch, changed, results)
        batch.write_audit()
        account_refresh_impact(org=org, account_ids=batch.impact_changed)
        _notify_assigned(batch)
    return SyncReport(results=[results[i.index] for i in items])


def _error(item: SyncItem, exc: Exception) -> SyncResult:
    if isinstance(exc, _ItemError):
        errors = exc.errors
    elif isinstance(exc, ApplicationError):
        errors = _errors_of(exc)
    else:
        errors = {"non_field_errors": ["The account could not be saved."]}
    return SyncResult(item.index, item.external_id, "error", errors=errors)


def _one_by_one(
    item: SyncItem, write: Callable[[], tuple[str, Account]], results: dict[int, SyncResult]
) -> None:
    """Write one item on its own savepoint: if it fails, only this item is undone."""
    try:
        with transaction.atomic():
            status, account = write()
        results[item.index] = SyncResult(item.index, item.external_id, status, account.pk)
    except (_ItemError, ApplicationError, DatabaseError) as exc:
        results[item.index] = _error(item, exc)


def _insert_new(
    batch: _Batch,
    new: list[tuple[SyncItem, dict[str, Any], Account]],
    results: dict[int, SyncResult],
) -> None:
    """Insert the new accounts at once (in CRM-id order); item by item if that fails."""
    if not new:
        return
    try:
        with transaction.atomic():
            Account.objects.for_org(batch.org).bulk_create([account for _, _, account in new])
    except DatabaseError:
        # Most likely a concurrent batch inserted one of these CRM ids: the one-by-one path
        # turns that item into an update of its row and reports any other failure per item.
        for item, fields, _ in new:
            _one_by_one(
                item,
                lambda item=item, fields=fields: _create_or_update(batch, item.external_id, fields),
                results,
            )
        return
    for item, _, account in new:
        _created(batch, account)
        results[item.index] = SyncResult(item.index, item.external_id, "created", account.pk)


def _write_changed(
    batch: _Batch, changed: list[tuple[SyncItem, _Update]], results: dict[int, SyncResult]
) -> None:
    """Write the changed accounts (locked) at once: only the fields that changed; item by
    item if that fails."""
    if not changed:
        return
    now = timezone.now()
    names = sorted({name for _, update in changed for name in update.changes})
    for _, update in changed:
        update.account.updated_at = now  # bulk_update does not apply auto_now
    try:
        with transaction.atomic():
            Account.objects.for_org(batch.org).bulk_update(
                [update.account for _, update in changed], [*names, "updated_at"]
            )
    except DatabaseError:
        for item, update in changed:
            _one_by_one(item, lambda update=update: _save_planned(batch, update), results)
        return
    for item, update in changed:
        _updated(batch, update)
        results[item.index] = SyncResult(item.index, item.external_id, "updated", update.account.pk)


def account_sync_update(
    *,
    org: Organization,
    account_id: int,
    values: dict[str, Any],
    if_match: Collection[str] | None = None,
) -> Account:
    """Update some fields of one account, refusing a stale write.

    ``if_match`` holds the ETags the client read (``*`` matches any); the comparison runs on
    the locked row, so two clients that read the same version cannot both write.
    """
    with transaction.atomic():
        account = (
            Account.objects.for_org(org)
            .select_for_update(of=("self",))
            .select_related("csm__user")
            .filter(pk=account_id)
            .first()
        )
        if account is None:
            raise ApplicationError("No such account in this organization.", code="not_found")
        stale = (
            if_match is not None
            and "*" not in if_match
            and account_version(account) not in {tag.removeprefix("W/") for tag in if_match}
        )
        if stale:
            raise ApplicationError(
                "This account changed since you read it: GET it again, reapply your "
                "change and send the new ETag in If-Match.",
                code="precondition_failed",
            )
        batch = _Batch(org=org, batch_id=uuid.uuid4().hex)
        members = _members_by_email(org, [str(values.get("csm_email") or "")])
        try:
            fields = _fields(values, members)
            _apply(batch, account, fields)
        except _ItemError as exc:
            raise ApplicationError(
                "Please correct the highlighted fields.", field_errors=exc.errors
            ) from exc
        except ApplicationError as exc:
            raise ApplicationError(
                exc.message, field_errors=_errors_of(exc), code=exc.code
            ) from exc
        batch.write_audit()
        account_refresh_impact(org=org, account_ids=batch.impact_changed)
        _notify_assigned(batch, single=account)
    return account
