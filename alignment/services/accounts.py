"""Account writes: create and update, and the rules they share with the CSV import.

The rules every account obeys, whoever writes it (form, import, API):

* the CRM id (``external_id``) is unique per organization when it is set;
* ARR is a non-negative Decimal below 10^12; the health score is 0 to 100;
* a risk note needs a risk factor;
* the owning CSM is an active member of the same organization with the CSM role.

Object-level permissions live here too, because every interface must apply them: a CSM
(``ACCOUNT_EDIT`` without ``ACCOUNT_EDIT_ANY``) creates accounts for themselves, edits only
the accounts they own and never reassigns one; ``ACCOUNT_EDIT_ANY`` edits anything.
"""

from __future__ import annotations

import datetime
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, TypedDict, Unpack

from django.db import IntegrityError, models, transaction
from django.urls import reverse

from alignment.errors import ApplicationError
from alignment.models import (
    Account,
    LifecycleStage,
    Membership,
    Organization,
    RiskFactor,
    Role,
    Segment,
)
from alignment.permissions import Perm, role_has_perm
from alignment.services.audit import audit_record, diff, snapshot
from alignment.services.notifications import notification_create
from feedback.impact import IMPACT_FIELDS, account_refresh_impact

ACCOUNT_FIELDS = (
    "external_id",
    "name",
    "arr",
    "segment",
    "renewal_date",
    "health_score",
    "lifecycle_stage",
    "csm",
    "primary_risk",
    "primary_risk_note",
)
MAX_ARR = Decimal("999999999999.99")  # what DecimalField(max_digits=14, decimal_places=2) holds
CENT = Decimal("0.01")


class AccountFields(TypedDict, total=False):
    external_id: str
    name: str
    arr: Decimal
    segment: str
    renewal_date: datetime.date | None
    health_score: int | None
    lifecycle_stage: str
    csm: Membership | None
    primary_risk: str
    primary_risk_note: str


# --- Parsing helpers shared by the form and the CSV import ------------------------------------

_MONEY_NOISE = re.compile(r"[\s,$€£¥_]")
_CURRENCY_CODE = re.compile(r"^(USD|EUR|GBP|CAD|AUD|JPY|INR)|(USD|EUR|GBP|CAD|AUD|JPY|INR)$", re.I)
_PLAIN_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)")


def parse_money(text: str) -> Decimal:
    """``$1,200,000.50``, ``1200000``, ``USD 90,000`` or ``(500)`` to a Decimal in cents.

    Raises ValueError for anything else. Two decimal separators (``1.200.000,50``) are
    rejected rather than guessed at: a wrong ARR is worse than a rejected row.
    """
    raw = text.strip()
    negative = raw.startswith("(") and raw.endswith(")")
    if negative:
        raw = raw[1:-1]
    cleaned = _CURRENCY_CODE.sub("", _MONEY_NOISE.sub("", raw))
    if not _PLAIN_NUMBER.fullmatch(cleaned):
        raise ValueError(text)
    try:
        amount = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValueError(text) from exc
    if negative:
        amount = -amount
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _normalize_choice(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def choice_lookup(choices: type[models.TextChoices]) -> dict[str, str]:
    """Accept a choice by value or label, ignoring case, spaces and punctuation."""
    table: dict[str, str] = {}
    for value, label in choices.choices:
        table[_normalize_choice(value)] = value
        table[_normalize_choice(str(label))] = value
    return table


def parse_choice(text: str, lookup: dict[str, str]) -> str:
    value = lookup.get(_normalize_choice(text))
    if value is None:
        raise ValueError(text)
    return value


DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y")


def parse_date(text: str) -> datetime.date:
    """YYYY-MM-DD or M/D/YYYY; a spreadsheet's ``2025-03-01 00:00:00`` works too."""
    raw = text.strip()
    if len(raw) > 10 and raw[10] in " T" and raw[4:5] == "-":
        raw = raw[:10]
    for fmt in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(raw, fmt).date()  # noqa: DTZ007 - a date only
        except ValueError:
            continue
    raise ValueError(text)


# --- Permissions -------------------------------------------------------------------------------


def account_can_edit(*, actor: Membership, account: Account) -> bool:
    """``ACCOUNT_EDIT_ANY`` edits any account; ``ACCOUNT_EDIT`` only the accounts one owns."""
    if account.organization_id != actor.organization_id or not actor.is_active:
        return False
    if role_has_perm(actor.role, Perm.ACCOUNT_EDIT_ANY):
        return True
    return role_has_perm(actor.role, Perm.ACCOUNT_EDIT) and account.csm_id == actor.pk


def account_can_reassign(*, actor: Membership) -> bool:
    return role_has_perm(actor.role, Perm.ACCOUNT_EDIT_ANY)


def _denied(message: str) -> ApplicationError:
    return ApplicationError(message, code="permission_denied")


# --- Validation --------------------------------------------------------------------------------


def account_check_values(account: Account) -> None:
    """The per-row rules, on an account whose fields are already set (no database access).

    Raises ApplicationError with one message per offending field.
    """
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if len(account.external_id) > 128:
        add("external_id", "The CRM id can be at most 128 characters.")
    if not account.name.strip():
        add("name", "Every account needs a name.")
    elif len(account.name) > 200:
        add("name", "The name can be at most 200 characters.")
    if account.arr is None or not isinstance(account.arr, Decimal):
        add("arr", "ARR must be an amount, e.g. 120000 or 120000.50.")
    elif account.arr < 0:
        add("arr", "ARR cannot be negative.")
    elif account.arr > MAX_ARR:
        add("arr", "ARR must be below 1,000,000,000,000.")
    if account.health_score is not None and not 0 <= account.health_score <= 100:
        add("health_score", "The health score must be between 0 and 100.")
    if account.segment not in Segment.values:
        add("segment", "Choose a valid segment.")
    if account.lifecycle_stage not in LifecycleStage.values:
        add("lifecycle_stage", "Choose a valid lifecycle stage.")
    if account.primary_risk and account.primary_risk not in RiskFactor.values:
        add("primary_risk", "Choose a valid risk factor.")
    if len(account.primary_risk_note) > 500:
        add("primary_risk_note", "The risk note can be at most 500 characters.")
    elif account.primary_risk_note.strip() and not account.primary_risk:
        add("primary_risk", "Choose the primary risk factor this note explains.")
    if errors:
        raise ApplicationError("Please correct the highlighted fields.", field_errors=errors)


def _check_csm(*, org: Organization, csm: Membership | None) -> None:
    if csm is None:
        return
    if csm.organization_id != org.pk or not csm.is_active or csm.role != Role.CSM:
        raise ApplicationError(
            "The owning CSM must be an active CSM of this organization.",
            field_errors={"csm": ["Choose an active CSM of this organization."]},
        )


def _duplicate_error(external_id: str, other_name: str) -> ApplicationError:
    message = f"An account with CRM id {external_id} already exists: {other_name}"
    return ApplicationError(message, field_errors={"external_id": [message]}, code="duplicate")


def _check_external_id_free(*, org: Organization, external_id: str, exclude_pk: int | None) -> None:
    if not external_id:
        return
    other = (
        Account.objects.for_org(org)
        .filter(external_id=external_id)
        .exclude(pk=exclude_pk)
        .only("name")
        .first()
    )
    if other is not None:
        raise _duplicate_error(external_id, other.name)


def _clean_fields(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(ACCOUNT_FIELDS)
    if unknown:
        raise TypeError(f"Unknown account fields: {', '.join(sorted(unknown))}")
    cleaned = dict(fields)
    for name in ("external_id", "name", "primary_risk_note", "primary_risk"):
        if name in cleaned:
            cleaned[name] = (cleaned[name] or "").strip()
    if cleaned.get("arr") is not None and isinstance(cleaned["arr"], Decimal):
        cleaned["arr"] = cleaned["arr"].quantize(CENT, rounding=ROUND_HALF_UP)
    return cleaned


def _save(account: Account, **kwargs: Any) -> None:
    """Save on a savepoint; a concurrent writer taking the CRM id first is a clear error."""
    try:
        with transaction.atomic():
            account.save(**kwargs)
    except IntegrityError as exc:
        if account.external_id:
            other = (
                Account.objects.for_org(account.organization_id)
                .filter(external_id=account.external_id)
                .exclude(pk=account.pk)
                .only("name")
                .first()
            )
            if other is not None:
                raise _duplicate_error(account.external_id, other.name) from exc
        raise ApplicationError("The account could not be saved: it breaks a rule.") from exc


def _notify_new_owner(*, org: Organization, actor: Membership, account: Account, key: str) -> None:
    if account.csm is None or account.csm_id == actor.pk:
        return
    notification_create(
        org=org,
        recipient=account.csm,
        kind="account.assigned",
        title=f"You now own {account.name}",
        body=f"{actor.display_name} made you the owning CSM of {account.name}.",
        url=reverse("alignment:account-detail", kwargs={"org_slug": org.slug, "pk": account.pk}),
        dedupe_key=f"account-assigned:{account.pk}:{account.csm_id}:{key}",
    )


# --- Services ----------------------------------------------------------------------------------


def account_create(
    *, org: Organization, actor: Membership, name: str, **fields: Unpack[AccountFields]
) -> Account:
    """Create an account. A CSM's new account is theirs; only CS leaders pick another owner."""
    if actor.organization_id != org.pk or not role_has_perm(actor.role, Perm.ACCOUNT_EDIT):
        raise _denied("Your role cannot create accounts.")
    values = _clean_fields({"name": name, **fields})
    if not account_can_reassign(actor=actor):
        requested = values.get("csm", actor)
        if requested is None or requested.pk != actor.pk:
            raise ApplicationError(
                "You can create accounts only for yourself.",
                field_errors={"csm": ["You can create accounts only for yourself."]},
                code="permission_denied",
            )
        values["csm"] = actor
    account = Account(organization=org, **values)
    account_check_values(account)
    _check_csm(org=org, csm=account.csm)
    with transaction.atomic():
        _check_external_id_free(org=org, external_id=account.external_id, exclude_pk=None)
        _save(account)
        event = audit_record(
            org=org,
            actor=actor.user,
            action="account.created",
            target=account,
            changes=diff({}, snapshot(account, ACCOUNT_FIELDS)),
        )
        _notify_new_owner(org=org, actor=actor, account=account, key=str(event.pk))
    return account


def account_update(
    *, org: Organization, actor: Membership, account: Account, **fields: Unpack[AccountFields]
) -> Account:
    """Change some fields of an account; records the changed fields, and nothing if none did.

    Reads the row again under ``SELECT ... FOR UPDATE`` so the audit diff is taken against
    what is stored, not against a possibly stale copy the caller holds.
    """
    values = _clean_fields(dict(fields))
    with transaction.atomic():
        current = (
            Account.objects.for_org(org)
            .select_for_update(of=("self",))
            .select_related("csm__user")
            .get(pk=account.pk)
        )
        if not account_can_edit(actor=actor, account=current):
            raise _denied("You can edit only the accounts you own.")
        if "csm" in values:
            new_csm = values["csm"]
            if (new_csm.pk if new_csm else None) != current.csm_id:
                if not account_can_reassign(actor=actor):
                    raise ApplicationError(
                        "Only CS Ops, a VP of CS or an admin can reassign an account.",
                        field_errors={"csm": ["You cannot reassign this account."]},
                        code="permission_denied",
                    )
                _check_csm(org=org, csm=new_csm)
        before = snapshot(current, ACCOUNT_FIELDS)
        for name, value in values.items():
            setattr(current, name, value)
        account_check_values(current)
        changes = diff(before, snapshot(current, ACCOUNT_FIELDS))
        if not changes:
            return current
        if "external_id" in changes:
            _check_external_id_free(org=org, external_id=current.external_id, exclude_pk=current.pk)
        _save(current)
        event = audit_record(
            org=org, actor=actor.user, action="account.updated", target=current, changes=changes
        )
        if "csm" in changes:
            _notify_new_owner(org=org, actor=actor, account=current, key=str(event.pk))
        if IMPACT_FIELDS & changes.keys():
            account_refresh_impact(org=org, account_ids=[current.pk])
    return current
