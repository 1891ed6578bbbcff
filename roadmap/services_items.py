"""Writes of roadmap items: create, edit, sign-off, and linking themes.

Tier rules are enforced here, not advised: an item is ``committed`` only with a development
owner, a target quarter and a recorded sign-off by its owning PM or a Head of Product (the
database refuses anything else too). Every change writes the item's history and an audit
event; a tier or quarter change emits a webhook; a slip (a committed item's quarter moving
later), a tier drop or a cancellation puts every approved commitment on the item at risk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from alignment.errors import ApplicationError
from alignment.models import Membership, Organization, ProductArea, Role
from alignment.permissions import Perm, role_has_perm
from alignment.services.audit import audit_record
from feedback import services as feedback_services
from feedback.models import Theme, ThemeStatus
from integrations.models import WebhookEvent
from integrations.services_webhooks import webhook_event_emit
from roadmap import wording
from roadmap.models import Delivery, RoadmapItem, RoadmapItemEvent, Tier, Visibility
from roadmap.services_commitments import commitments_put_at_risk

SIGN_OFF_ROLES = (Role.HEAD_OF_PRODUCT, Role.ADMIN)
OWNER_ROLES = (Role.PM, Role.HEAD_OF_PRODUCT)
EDITED_FIELDS = ("title", "problem", "product_area", "pm", "dev_owner", "visibility")


@dataclass(frozen=True)
class ItemData:
    title: str
    problem: str = ""
    product_area: ProductArea | None = None
    pm: Membership | None = None
    dev_owner: str = ""
    tier: str = Tier.EXPLORING
    target_quarter: str = ""
    delivery_status: str = Delivery.DISCOVERY
    visibility: str = Visibility.INTERNAL


def _event(
    org: Organization, item: RoadmapItem, kind: str, actor: Membership | None, **data: Any
) -> RoadmapItemEvent:
    return RoadmapItemEvent.objects.for_org(org).create(
        organization=org, item=item, kind=kind, actor=actor, data=data
    )


def _require_editor(actor: Membership) -> None:
    if not role_has_perm(actor.role, Perm.ROADMAP_EDIT):
        raise ApplicationError(
            "Only PMs, the Head of Product and admins edit the roadmap.", code="permission_denied"
        )


def roadmap_item_can_sign_off(*, actor: Membership, item: RoadmapItem) -> bool:
    """The owning PM signs off their item; a Head of Product (or an admin) any item."""
    if not role_has_perm(actor.role, Perm.ROADMAP_EDIT):
        return False
    return actor.role in SIGN_OFF_ROLES or (item.pm_id is not None and item.pm_id == actor.pk)


def _clean(org: Organization, data: ItemData) -> ItemData:
    """Validate the plain fields; returns the data normalised (trimmed, quarter upper-case)."""
    errors: dict[str, list[str]] = {}
    title = " ".join(data.title.split())
    if not title:
        errors["title"] = ["Give the item a title."]
    if data.tier not in Tier.values:
        errors["tier"] = ["Choose a tier."]
    if data.delivery_status not in Delivery.values:
        errors["delivery_status"] = ["Choose a delivery status."]
    if data.visibility not in Visibility.values:
        errors["visibility"] = ["Choose who may see it."]
    quarter = ""
    try:
        quarter = wording.quarter_normalize(data.target_quarter)
    except wording.QuarterError as error:
        errors["target_quarter"] = [str(error)]
    for obj, name in ((data.product_area, "product_area"), (data.pm, "pm")):
        if obj is not None and obj.organization_id != org.pk:
            errors[name] = ["Not found in this organization."]
    if data.pm is not None and "pm" not in errors and data.pm.role not in OWNER_ROLES:
        errors["pm"] = ["The owning PM must be a PM or a Head of Product."]
    if errors:
        raise ApplicationError("Some fields need attention.", field_errors=errors)
    return ItemData(
        title=title,
        problem=data.problem.strip(),
        product_area=data.product_area,
        pm=data.pm,
        dev_owner=" ".join(data.dev_owner.split()),
        tier=data.tier,
        target_quarter=quarter,
        delivery_status=data.delivery_status,
        visibility=data.visibility,
    )


def _check_committed(data: ItemData, *, signed_off: bool) -> None:
    """Committed needs all three; each missing one is an error on its own field."""
    if data.tier != Tier.COMMITTED:
        return
    errors: dict[str, list[str]] = {}
    if not data.dev_owner:
        errors["dev_owner"] = ["A committed item needs a development owner."]
    if not data.target_quarter:
        errors["target_quarter"] = ["A committed item needs a target quarter."]
    if not signed_off:
        errors["tier"] = [
            "A committed item needs a PM's sign-off: save it as planned, then sign it off "
            "from the item page."
        ]
    if errors:
        raise ApplicationError(
            "This item cannot be committed yet: it needs a development owner, a target "
            "quarter and a PM's sign-off.",
            field_errors=errors,
        )


@transaction.atomic
def roadmap_item_create(*, org: Organization, actor: Membership, data: ItemData) -> RoadmapItem:
    """Create an item. It cannot start committed: sign-off is recorded on an existing item."""
    _require_editor(actor)
    data = _clean(org, data)
    _check_committed(data, signed_off=False)
    item = RoadmapItem.objects.for_org(org).create(
        organization=org,
        title=data.title,
        problem=data.problem,
        product_area=data.product_area,
        pm=data.pm,
        dev_owner=data.dev_owner,
        tier=data.tier,
        target_quarter=data.target_quarter,
        delivery_status=data.delivery_status,
        visibility=data.visibility,
    )
    _event(org, item, "created", actor, tier=item.tier, quarter=item.target_quarter)
    audit_record(
        org=org,
        actor=actor.user,
        action="roadmap_item.create",
        target=item,
        changes={
            "title": item.title,
            "tier": item.tier,
            "target_quarter": item.target_quarter,
            "visibility": item.visibility,
        },
    )
    return item


def _plain(value: Any) -> Any:
    return value.pk if hasattr(value, "pk") else value


@transaction.atomic
def roadmap_item_update(
    *, org: Organization, actor: Membership, item: RoadmapItem, data: ItemData
) -> RoadmapItem:
    """Edit an item. A committed item whose quarter moves later (a slip), any tier drop and
    a cancellation flag every approved commitment on it at risk, once for the change."""
    _require_editor(actor)
    if item.organization_id != org.pk:
        raise ApplicationError("That roadmap item does not exist.")
    data = _clean(org, data)
    item = RoadmapItem.objects.for_org(org).select_for_update().get(pk=item.pk)
    old = {
        "tier": item.tier,
        "target_quarter": item.target_quarter,
        "delivery_status": item.delivery_status,
        **{name: _plain(getattr(item, name)) for name in EDITED_FIELDS},
    }
    tier_dropped = data.tier != item.tier and wording.tier_is_drop(item.tier, data.tier)
    # Sign-off stands for a commitment: leaving committed spends it, so committing again
    # needs a fresh one.
    keeps_sign_off = item.signed_off_at is not None and not (
        item.tier == Tier.COMMITTED and data.tier != Tier.COMMITTED
    )
    _check_committed(data, signed_off=keeps_sign_off)
    if (
        data.tier == Tier.COMMITTED
        and item.tier != Tier.COMMITTED
        and data.delivery_status == Delivery.CANCELLED
    ):
        raise ApplicationError(
            "A cancelled item cannot be committed.",
            field_errors={"delivery_status": ["A cancelled item cannot be committed."]},
        )

    for name in ("title", "problem", "product_area", "pm", "dev_owner", "visibility"):
        setattr(item, name, getattr(data, name))
    item.tier = data.tier
    item.target_quarter = data.target_quarter
    item.delivery_status = data.delivery_status
    if not keeps_sign_off:
        item.signed_off_by, item.signed_off_at, item.signoff_note = None, None, ""
    new = {
        "tier": item.tier,
        "target_quarter": item.target_quarter,
        "delivery_status": item.delivery_status,
        **{name: _plain(getattr(item, name)) for name in EDITED_FIELDS},
    }
    changes = {k: [old[k], new[k]] for k in new if old[k] != new[k]}
    if not changes:
        return item
    item.save()

    events: list[RoadmapItemEvent] = []
    slipped = (
        old["tier"] == Tier.COMMITTED
        and item.tier == Tier.COMMITTED
        and wording.quarter_is_later(item.target_quarter, old["target_quarter"])
    )
    if "tier" in changes:
        events.append(_event(org, item, "tier_changed", actor, old=old["tier"], new=item.tier))
    if "target_quarter" in changes:
        events.append(
            _event(
                org,
                item,
                "quarter_changed",
                actor,
                old=old["target_quarter"],
                new=item.target_quarter,
                slip=slipped,
            )
        )
    if "delivery_status" in changes:
        events.append(
            _event(
                org,
                item,
                "delivery_changed",
                actor,
                old=old["delivery_status"],
                new=item.delivery_status,
            )
        )
    edited = {k: v for k, v in changes.items() if k in EDITED_FIELDS}
    if edited:
        events.append(_event(org, item, "edited", actor, fields=sorted(edited)))
    audit_record(
        org=org, actor=actor.user, action="roadmap_item.update", target=item, changes=changes
    )
    if "tier" in changes or "target_quarter" in changes:
        webhook_event_emit(
            org=org,
            event=WebhookEvent.ROADMAP_ITEM_CHANGED,
            data={
                "item_id": item.pk,
                "title": item.title,
                "tier": item.tier,
                "previous_tier": old["tier"],
                "target_quarter": item.target_quarter,
                "previous_target_quarter": old["target_quarter"],
                "delivery_status": item.delivery_status,
            },
        )

    reasons = []
    if slipped:
        reasons.append(
            f"“{item.title}” slipped from {wording.quarter_label(old['target_quarter'])} to "
            f"{wording.quarter_label(item.target_quarter)}."
        )
    if tier_dropped:
        reasons.append(
            f"“{item.title}” moved from {Tier(old['tier']).label.lower()} to "
            f"{item.get_tier_display().lower()}."
        )
    cancelled = (
        item.delivery_status == Delivery.CANCELLED and old["delivery_status"] != Delivery.CANCELLED
    )
    if cancelled:
        reasons.append(f"Work on “{item.title}” was cancelled.")
    if reasons:
        commitments_put_at_risk(
            org=org, actor=actor, item=item, cause=f"item:{events[0].pk}", reason=" ".join(reasons)
        )
    return item


@transaction.atomic
def roadmap_item_sign_off(
    *, org: Organization, actor: Membership, item: RoadmapItem, note: str, commit: bool = True
) -> RoadmapItem:
    """Record a PM's written sign-off (who, when, what), and by default commit the item.

    Only the owning PM or a Head of Product signs off. The item must already have a
    development owner and a target quarter: that is what the sign-off vouches for.
    """
    if item.organization_id != org.pk:
        raise ApplicationError("That roadmap item does not exist.")
    item = RoadmapItem.objects.for_org(org).select_for_update().get(pk=item.pk)
    if not roadmap_item_can_sign_off(actor=actor, item=item):
        raise ApplicationError(
            "Only the item's owning PM or a Head of Product can sign it off.",
            code="permission_denied",
        )
    errors: dict[str, list[str]] = {}
    if not item.dev_owner:
        errors["dev_owner"] = ["Name the development owner before signing off."]
    if not item.target_quarter:
        errors["target_quarter"] = ["Set the target quarter before signing off."]
    if item.delivery_status in (Delivery.CANCELLED, Delivery.SHIPPED):
        errors["__all__"] = [f"The item is {item.get_delivery_status_display().lower()}."]
    note = note.strip()
    if not note:
        errors["note"] = ["Write what you are signing off (scope, quarter, conditions)."]
    if errors:
        raise ApplicationError("This item cannot be signed off yet.", field_errors=errors)
    now = timezone.now()
    old_tier = item.tier
    item.signed_off_by, item.signed_off_at, item.signoff_note = actor, now, note
    if commit:
        item.tier = Tier.COMMITTED
    item.save()
    _event(
        org,
        item,
        "signed_off",
        actor,
        note=note,
        quarter=item.target_quarter,
        dev_owner=item.dev_owner,
    )
    changes: dict[str, Any] = {"signed_off_by": actor.user.email, "note": note}
    if old_tier != item.tier:
        _event(org, item, "tier_changed", actor, old=old_tier, new=item.tier)
        changes["tier"] = [old_tier, item.tier]
        webhook_event_emit(
            org=org,
            event=WebhookEvent.ROADMAP_ITEM_CHANGED,
            data={
                "item_id": item.pk,
                "title": item.title,
                "tier": item.tier,
                "previous_tier": old_tier,
                "target_quarter": item.target_quarter,
                "previous_target_quarter": item.target_quarter,
                "delivery_status": item.delivery_status,
            },
        )
    audit_record(
        org=org, actor=actor.user, action="roadmap_item.sign_off", target=item, changes=changes
    )
    return item


def _lock_theme(org: Organization, theme: Theme) -> Theme:
    if theme.organization_id != org.pk:
        raise ApplicationError("That theme does not exist.", field_errors={"theme": ["Not found."]})
    return Theme.objects.for_org(org).select_for_update().get(pk=theme.pk)


@transaction.atomic
def roadmap_item_link_theme(
    *, org: Organization, actor: Membership, item: RoadmapItem, theme: Theme
) -> Theme:
    """Link a theme to the item so its demand shows on it. A theme under review or not
    planned moves to "on the roadmap" through the theme service, which tells its CSMs."""
    _require_editor(actor)
    if item.organization_id != org.pk:
        raise ApplicationError("That roadmap item does not exist.")
    theme = _lock_theme(org, theme)
    if theme.merged_into_id or theme.status == ThemeStatus.ARCHIVED:
        raise ApplicationError(
            "That theme is archived; link an open theme.", field_errors={"theme": ["Archived."]}
        )
    if item.delivery_status == Delivery.CANCELLED:
        raise ApplicationError("The item is cancelled: link the theme to a live item instead.")
    if theme.roadmap_item_id == item.pk:
        return theme
    previous = theme.roadmap_item_id
    if theme.status == ThemeStatus.SHIPPED:
        Theme.objects.for_org(org).filter(pk=theme.pk).update(
            roadmap_item=item, updated_at=timezone.now()
        )
    else:
        theme = feedback_services.theme_set_status(
            org=org, actor=actor, theme=theme, status=ThemeStatus.ON_ROADMAP, roadmap_item=item
        )
    _event(org, item, "themes_linked", actor, theme_id=theme.pk, title=theme.title)
    audit_record(
        org=org,
        actor=actor.user,
        action="roadmap_item.link_theme",
        target=item,
        changes={"theme": theme.title, "roadmap_item": [previous, item.pk]},
    )
    theme.refresh_from_db()
    return theme


@transaction.atomic
def roadmap_item_unlink_theme(
    *, org: Organization, actor: Membership, item: RoadmapItem, theme: Theme
) -> Theme:
    """Unlink a theme. One that was "on the roadmap" only because of this item goes back
    under review (its CSMs are told), since it is no longer on the roadmap."""
    _require_editor(actor)
    theme = _lock_theme(org, theme)
    if theme.roadmap_item_id != item.pk:
        raise ApplicationError("That theme is not linked to this item.")
    if theme.status == ThemeStatus.ON_ROADMAP:
        feedback_services.theme_set_status(
            org=org, actor=actor, theme=theme, status=ThemeStatus.UNDER_REVIEW
        )
    Theme.objects.for_org(org).filter(pk=theme.pk).update(
        roadmap_item=None, updated_at=timezone.now()
    )
    _event(org, item, "themes_unlinked", actor, theme_id=theme.pk, title=theme.title)
    audit_record(
        org=org,
        actor=actor.user,
        action="roadmap_item.unlink_theme",
        target=item,
        changes={"theme": theme.title, "roadmap_item": [item.pk, None]},
    )
    theme.refresh_from_db()
    return theme
