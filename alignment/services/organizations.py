"""Writes to the organization itself and to its product taxonomy."""

from __future__ import annotations

import zoneinfo
from functools import cache

import holidays
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.db.models.functions import Lower

from alignment.errors import ApplicationError
from alignment.models import Membership, Organization, ProductArea, Role
from alignment.services.audit import audit_record, diff, snapshot

ORG_SETTING_FIELDS = ("name", "timezone", "holiday_country", "currency", "triage_sla_days")
PM_ROLES = (Role.PM, Role.HEAD_OF_PRODUCT)

# ISO 4217 codes a B2B SaaS is likely to bill in; kept short so the select stays usable.
CURRENCIES = [
    ("USD", "US dollar"),
    ("EUR", "Euro"),
    ("GBP", "Pound sterling"),
    ("CAD", "Canadian dollar"),
    ("AUD", "Australian dollar"),
    ("NZD", "New Zealand dollar"),
    ("CHF", "Swiss franc"),
    ("SEK", "Swedish krona"),
    ("NOK", "Norwegian krone"),
    ("DKK", "Danish krone"),
    ("JPY", "Japanese yen"),
    ("SGD", "Singapore dollar"),
    ("INR", "Indian rupee"),
    ("BRL", "Brazilian real"),
    ("MXN", "Mexican peso"),
    ("ZAR", "South African rand"),
    ("ILS", "Israeli new shekel"),
    ("PLN", "Polish złoty"),
]


@cache
def holiday_countries() -> list[tuple[str, str]]:
    """Countries the ``holidays`` library has calendars for, as (code, name), by name."""
    supported = holidays.list_supported_countries()
    names = {}
    for module, (class_name, code, *_rest) in holidays.registry.COUNTRIES.items():
        if code in supported:
            names[code] = (
                module.replace("_", " ").title() if class_name.isupper() else _spaced(class_name)
            )
    return sorted(names.items(), key=lambda item: item[1])


def _spaced(class_name: str) -> str:
    """ "UnitedStates" -> "United States"."""
    return "".join(f" {c}" if c.isupper() and i else c for i, c in enumerate(class_name))


def organization_update_settings(
    *,
    org: Organization,
    actor: Membership,
    name: str,
    timezone: str,
    holiday_country: str,
    currency: str,
    triage_sla_days: int,
) -> Organization:
    """Change the organization's settings. Every value is checked; the change is audited.

    The timezone and holiday country drive the business-day SLA clocks, so an unknown value
    is refused rather than silently falling back to UTC or no holidays.
    """
    errors: dict[str, list[str]] = {}
    name = name.strip()
    if not name:
        errors["name"] = ["Give the organization a name."]
    if timezone not in zoneinfo.available_timezones():
        errors["timezone"] = [f"{timezone!r} is not a known time zone (e.g. Europe/Berlin)."]
    if holiday_country not in holidays.list_supported_countries():
        errors["holiday_country"] = [
            f"No public holiday calendar is known for {holiday_country!r}."
        ]
    if currency not in {code for code, _ in CURRENCIES}:
        errors["currency"] = [f"{currency!r} is not a supported currency."]
    if not 1 <= triage_sla_days <= 30:
        errors["triage_sla_days"] = ["The triage SLA must be between 1 and 30 business days."]
    if errors:
        raise ApplicationError("Some settings are not valid.", field_errors=errors)
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=org.pk)
        before = snapshot(org, ORG_SETTING_FIELDS)
        org.name = name
        org.timezone = timezone
        org.holiday_country = holiday_country
        org.currency = currency
        org.triage_sla_days = triage_sla_days
        changes = diff(before, snapshot(org, ORG_SETTING_FIELDS))
        if changes:
            org.save(update_fields=list(changes))
            audit_record(
                org=org, actor=actor.user, action="organization.update", target=org, changes=changes
            )
    return org


def _pm_or_error(org: Organization, pm: Membership | None) -> Membership | None:
    if pm is None:
        return None
    if pm.organization_id != org.pk:
        # Treated like a missing member: another organization's id reveals nothing.
        raise ApplicationError(
            "Choose a PM from this organization.",
            field_errors={"pm": ["Choose a PM from this organization."]},
        )
    if not pm.is_active or pm.role not in PM_ROLES:
        raise ApplicationError(
            "The owning PM must be an active PM or Head of Product.",
            field_errors={"pm": ["The owning PM must be an active PM or Head of Product."]},
        )
    return pm


def _check_name(org: Organization, name: str, exclude_pk: int | None = None) -> str:
    name = " ".join(name.split())
    if not name:
        raise ApplicationError(
            "Give the product area a name.",
            field_errors={"name": ["Give the product area a name."]},
        )
    clash = (
        ProductArea.objects.for_org(org)
        .annotate(lname=Lower("name"))
        .filter(lname=name.lower())
        .exclude(pk=exclude_pk)
        .first()
    )
    if clash is not None:
        message = f"A product area called {clash.name!r} already exists."
        raise ApplicationError(message, field_errors={"name": [message]})
    return name


def product_area_create(
    *,
    org: Organization,
    actor: Membership,
    name: str,
    description: str = "",
    pm: Membership | None = None,
) -> ProductArea:
    with transaction.atomic():
        name = _check_name(org, name)
        pm = _pm_or_error(org, pm)
        try:
            with transaction.atomic():
                area = ProductArea.objects.for_org(org).create(
                    organization=org, name=name, description=description.strip(), pm=pm
                )
        except IntegrityError as exc:  # a concurrent create with the same name
            message = f"A product area called {name!r} already exists."
            raise ApplicationError(message, field_errors={"name": [message]}) from exc
        audit_record(
            org=org,
            actor=actor.user,
            action="product_area.create",
            target=area,
            changes=snapshot(area, ("name", "description", "pm")),
        )
    return area


def product_area_update(
    *,
    org: Organization,
    actor: Membership,
    area: ProductArea,
    name: str,
    description: str = "",
    pm: Membership | None = None,
) -> ProductArea:
    if area.organization_id != org.pk:
        raise ApplicationError("No such product area.", code="not_found")
    with transaction.atomic():
        name = _check_name(org, name, exclude_pk=area.pk)
        pm = _pm_or_error(org, pm)
        fields = ("name", "description", "pm")
        before = snapshot(area, fields)
        area.name, area.description, area.pm = name, description.strip(), pm
        changes = diff(before, snapshot(area, fields))
        if changes:
            area.save()
            audit_record(
                org=org,
                actor=actor.user,
                action="product_area.update",
                target=area,
                changes=changes,
            )
    return area


def product_area_delete(*, org: Organization, actor: Membership, area: ProductArea) -> None:
    """Delete an area. Later, areas that feedback points at are protected by the database."""
    if area.organization_id != org.pk:
        raise ApplicationError("No such product area.", code="not_found")
    with transaction.atomic():
        audit_record(
            org=org,
            actor=actor.user,
            action="product_area.delete",
            target=area,
            changes=snapshot(area, ("name", "description", "pm")),
        )
        try:
            with transaction.atomic():
                area.delete()
        except ProtectedError as exc:
            raise ApplicationError(
                f"{area.name!r} still has feedback or roadmap items filed under it; move them "
                "to another area first.",
                code="protected",
            ) from exc
