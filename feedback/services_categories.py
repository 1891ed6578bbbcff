"""Writes of the category list: CS Ops and admins shape the kinds of signal feedback is filed as."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from alignment.errors import ApplicationError
from alignment.models import Membership, Organization
from alignment.services.audit import audit_record, diff, snapshot
from feedback.models import Category

FIELDS = ("name", "description", "position")


def _clean_name(org: Organization, name: str, *, exclude_pk: int | None = None) -> str:
    name = " ".join(name.split())
    if not name:
        raise ApplicationError("Give the category a name.", field_errors={"name": ["Required."]})
    if len(name) > 80:
        message = "Keep the name under 80 characters."
        raise ApplicationError(message, field_errors={"name": [message]})
    clash = Category.objects.for_org(org).filter(name__iexact=name)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        message = f"A category called “{name}” already exists."
        raise ApplicationError(message, field_errors={"name": [message]})
    return name


def _duplicate(name: str) -> ApplicationError:
    message = f"A category called “{name}” already exists."
    return ApplicationError(message, field_errors={"name": [message]})


def _check_same_org(org: Organization, category: Category) -> None:
    if category.organization_id != org.pk:
        raise ApplicationError("No such category.", code="not_found")


@transaction.atomic
def category_create(
    *,
    org: Organization,
    actor: Membership,
    name: str,
    description: str = "",
    position: int | None = None,
) -> Category:
    name = _clean_name(org, name)
    if position is None:
        last = Category.objects.for_org(org).order_by("-position").first()
        position = last.position + 1 if last else 0
    try:
        with transaction.atomic():
            category = Category.objects.for_org(org).create(
                organization=org, name=name, description=description.strip(), position=position
            )
    except IntegrityError as exc:  # a concurrent create with the same name
        raise _duplicate(name) from exc
    audit_record(
        org=org,
        actor=actor.user,
        action="category.create",
        target=category,
        changes=snapshot(category, FIELDS),
    )
    return category


@transaction.atomic
def category_update(
    *,
    org: Organization,
    actor: Membership,
    category: Category,
    name: str,
    description: str = "",
    position: int | None = None,
) -> Category:
    _check_same_org(org, category)
    name = _clean_name(org, name, exclude_pk=category.pk)
    before = snapshot(category, FIELDS)
    category.name, category.description = name, description.strip()
    if position is not None:
        category.position = position
    changes = diff(before, snapshot(category, FIELDS))
    if changes:
        try:
            with transaction.atomic():
                category.save(update_fields=list(changes))
        except IntegrityError as exc:
            raise _duplicate(name) from exc
        audit_record(
            org=org, actor=actor.user, action="category.update", target=category, changes=changes
        )
    return category


@transaction.atomic
def category_delete(*, org: Organization, actor: Membership, category: Category) -> int:
    """Delete a category. Feedback and themes filed under it keep everything else (SET_NULL).

    Returns how many feedback items lost their category.
    """
    _check_same_org(org, category)
    affected = category.feedback.count()
    audit_record(
        org=org,
        actor=actor.user,
        action="category.delete",
        target=category,
        changes={**snapshot(category, FIELDS), "feedback_uncategorized": affected},
    )
    category.delete()
    return affected
