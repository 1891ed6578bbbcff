"""Audit events: every change to tenant data records who, what, when and from where."""

from __future__ import annotations

import contextvars
import datetime
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import models

from alignment.models import AuditEvent, Organization, User


@dataclass(frozen=True)
class AuditSource:
    kind: str = "system"  # web, api, task, command, system
    ip_address: str | None = None
    label: str = ""  # e.g. the API key's name when there is no user


_source: contextvars.ContextVar[AuditSource] = contextvars.ContextVar(
    "seam_audit_source",
    default=AuditSource(),  # noqa: B039 - frozen dataclass, immutable
)


@contextmanager
def audit_source(kind: str, *, ip_address: str | None = None, label: str = "") -> Iterator[None]:
    """Set at the edge (view decorator, API authentication, task) so services need no request."""
    token = _source.set(AuditSource(kind=kind, ip_address=ip_address, label=label))
    try:
        yield
    finally:
        _source.reset(token)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return str(value)
    return value


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The audit-visible values of some fields, for diffing before and after a change."""
    values: dict[str, Any] = {}
    for name in fields:
        field = instance._meta.get_field(name)
        if field.is_relation and field.many_to_one:
            values[name] = _jsonable(getattr(instance, name))
        else:
            values[name] = _jsonable(getattr(instance, field.attname))
    return values


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Changed fields only, as ``{field: [old, new]}``."""
    return {
        name: [before.get(name), after.get(name)]
        for name in after
        if before.get(name) != after.get(name)
    }


def audit_build(
    *,
    org: Organization,
    actor: User | None,
    action: str,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str = "",
    target_repr: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """One audit event, not yet saved: for services that write many with one ``bulk_create``.

    ``target`` must already have its primary key. ``audit_record`` builds its event here too,
    so both kinds of writes store the same shape.
    """
    source = _source.get()
    if target is not None:
        target_type = target_type or target._meta.model_name or ""
        target_id = target_id or str(target.pk)
        target_repr = target_repr or str(target)[:300]
    label = actor.email if actor is not None else (source.label or source.kind)
    return AuditEvent(
        organization=org,
        actor=actor,
        actor_label=label[:200],
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_repr=target_repr[:300],
        changes=_jsonable(changes or {}),
        source=source.kind,
        ip_address=source.ip_address,
    )


def audit_record(
    *,
    org: Organization,
    actor: User | None,
    action: str,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str = "",
    target_repr: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """Write one audit event in the caller's transaction."""
    event = audit_build(
        org=org,
        actor=actor,
        action=action,
        target=target,
        target_type=target_type,
        target_id=target_id,
        target_repr=target_repr,
        changes=changes,
    )
    event.save(force_insert=True)
    return event
