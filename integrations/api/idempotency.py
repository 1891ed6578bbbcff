"""``Idempotency-Key`` on POST: a retried request replays the first response.

How it holds under concurrency: the first request inserts an in-progress row in its own
short transaction, *before* doing any work. The unique constraint (organization, key) makes
a concurrent duplicate wait for that insert and then fail it, so exactly one request does
the work; the other is told the first is still in progress (409), or, once it has finished,
gets its stored response replayed. The work itself runs in a separate transaction, and its
response (status, body, Location/ETag) is stored on the row when it ends.

* same key, same method, path and body (compared as canonical JSON): the first response,
  replayed with ``Idempotent-Replayed: true``;
* same key, another request: 422, nothing is done;
* a request that failed on our side (5xx) releases its key, so the retry runs for real;
* keys are scoped to the organization and remembered for 24 hours; a key left in progress
  by a crashed worker can be reused after 10 minutes.

Records older than the 24 hours are deleted by an hourly beat task
(``idempotency_records_purge``), organization by organization, in small batches.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from rest_framework import exceptions

from alignment.models import Organization
from alignment.tenancy import cross_tenant_system_context, tenant_context
from integrations.api.errors import Conflict, Unprocessable
from integrations.models import ApiKey, IdempotencyRecord, IdempotencyState

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
RETENTION = datetime.timedelta(hours=24)
ABANDONED_AFTER = datetime.timedelta(minutes=10)
STORED_HEADERS = ("Content-Type", "Location", "ETag")
PURGE_BATCH = 1000


@dataclass
class Claim:
    org_id: int
    record_id: int
    replay: HttpResponseBase | None = None


def fingerprint(method: str, path: str, body: bytes) -> str:
    """The request's identity: JSON bodies compare by content, not by key order or spaces."""
    try:
        canonical = json.dumps(
            json.loads(body or b"null"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = body
    digest = hashlib.sha256()
    digest.update(method.encode() + b"\n" + path.encode() + b"\n")
    digest.update(canonical)
    return digest.hexdigest()


def _check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
        raise exceptions.ValidationError(
            {HEADER: [f"Use 1 to {MAX_KEY_LENGTH} printable ASCII characters, e.g. a UUID."]}
        )


def _replay(record: IdempotencyRecord) -> HttpResponse:
    headers = dict(record.response_headers or {})
    response = HttpResponse(
        record.response_body,
        status=record.response_status or 200,
        content_type=headers.pop("Content-Type", "application/json"),
    )
    for name, value in headers.items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response


def idempotency_begin(
    *, org: Organization, api_key: ApiKey, key: str, method: str, path: str, body: bytes
) -> Claim:
    """Claim ``key`` for this request, or answer with what the first request produced.

    Must run outside any transaction, so the claim commits before the work starts.
    """
    _check_key(key)
    request_hash = fingerprint(method, path, body)
    for _ in range(3):
        now = timezone.now()
        with tenant_context(org):
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.for_org(org).create(
                        organization=org,
                        key=key,
                        api_key=api_key,
                        method=method,
                        path=path[:500],
                        request_hash=request_hash,
                        created_at=now,
                    )
                return Claim(org_id=org.pk, record_id=record.pk)
            except IntegrityError:
                pass
            existing = IdempotencyRecord.objects.for_org(org).filter(key=key).first()
            if existing is None:
                continue  # released by a failed request in the meantime: claim again
            # Expired, or abandoned by a crashed worker: take it over, conditionally, so
            # only one of several concurrent retries wins it.
            reusable = Q(created_at__lt=now - RETENTION) | Q(
                state=IdempotencyState.IN_PROGRESS, created_at__lt=now - ABANDONED_AFTER
            )
            taken = (
                IdempotencyRecord.objects.for_org(org)
                .filter(reusable, pk=existing.pk)
                .update(
                    api_key=api_key,
                    method=method,
                    path=path[:500],
                    request_hash=request_hash,
                    state=IdempotencyState.IN_PROGRESS,
                    response_status=None,
                    response_body="",
                    response_headers={},
                    created_at=now,
                    completed_at=None,
                )
            )
            if taken:
                return Claim(org_id=org.pk, record_id=existing.pk)
        if existing.request_hash != request_hash:
            raise Unprocessable(
                f"This {HEADER} was already used with a different request "
                f"({existing.method} {existing.path}, another body). Use a new key for a new "
                "request.",
                code="idempotency_key_reused",
            )
        if existing.state == IdempotencyState.IN_PROGRESS:
            error = Conflict(
                f"A request with this {HEADER} is still being processed. Retry in a moment "
                "to get its response.",
                code="idempotency_in_progress",
            )
            error.wait = 1  # type: ignore[attr-defined]
            raise error
        return Claim(org_id=org.pk, record_id=existing.pk, replay=_replay(existing))
    raise Conflict(f"The {HEADER} is busy; retry in a moment.", code="idempotency_in_progress")


def idempotency_finish(claim: Claim, response: HttpResponseBase) -> None:
    """Store the response for replays, or release the key if the request failed on our side."""
    if claim.replay is not None:
        return
    with tenant_context(claim.org_id):
        records = IdempotencyRecord.objects.for_org(claim.org_id).filter(pk=claim.record_id)
        if response.status_code >= 500:
            records.delete()
            return
        if hasattr(response, "render") and not getattr(response, "is_rendered", True):
            response.render()
        body = response.content.decode("utf-8") if hasattr(response, "content") else ""
        headers = {name: response[name] for name in STORED_HEADERS if response.has_header(name)}
        records.update(
            state=IdempotencyState.DONE,
            response_status=response.status_code,
            response_body=body,
            response_headers=headers,
            completed_at=timezone.now(),
        )


def idempotency_records_purge(
    *, older_than: datetime.timedelta = RETENTION, now: datetime.datetime | None = None
) -> int:
    """Delete the idempotency records of every organization created before ``now -
    older_than``; returns how many went.

    A system job (Celery beat): the cross-tenant context only lists the organizations that
    have something to delete; each organization's rows are then deleted inside its own
    tenant context, ``PURGE_BATCH`` at a time, each batch its own short transaction. The age
    is checked again by the DELETE itself, so a record a retry has just taken over (its
    ``created_at`` reset to now) is kept. Safe at any frequency and concurrently.
    """
    if older_than < RETENTION:
        raise ValueError(
            f"Idempotency records are replayed for {RETENTION}; purging younger ones would "
            "break the retries the window promises."
        )
    cutoff = (now or timezone.now()) - older_than
    with cross_tenant_system_context():
        org_ids = sorted(
            set(
                IdempotencyRecord.objects.filter(created_at__lt=cutoff)
                .values_list("organization_id", flat=True)
                .distinct()
            )
        )
    total = 0
    for org_id in org_ids:
        while True:
            with tenant_context(org_id):
                old = IdempotencyRecord.objects.for_org(org_id).filter(created_at__lt=cutoff)
                ids = list(old.order_by("pk").values_list("pk", flat=True)[:PURGE_BATCH])
                deleted = old.filter(pk__in=ids).delete()[0] if ids else 0
            total += deleted
            if len(ids) < PURGE_BATCH or not deleted:
                break
    if total:
        logger.info("purged %s idempotency records of %s organizations", total, len(org_ids))
    return total
