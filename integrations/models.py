"""What integrations need: organization API keys, idempotent POST records, and outgoing
webhooks with every delivery and attempt recorded.

Every table is tenant-owned. An API key is looked up by its public prefix before the
organization is known (the one place the API uses the cross-tenant escape hatch); from then
on every query runs inside the key's organization.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from alignment.tenancy import TenantModel


class ApiKey(TenantModel):
    """An organization API key. The secret is shown once and stored only as a SHA-256 hash;
    ``prefix`` is public (shown in lists, sent as the first part of the key)."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list, help_text='e.g. ["accounts:read", "feedback:write"]')
    rate_limit_per_minute = models.PositiveIntegerField(default=600)
    created_by = models.ForeignKey(
        "alignment.Membership", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        "alignment.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["organization", "-created_at"], name="apikey_org_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyState(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"


class IdempotencyRecord(TenantModel):
    """One ``Idempotency-Key`` of one organization: the request it was first used with and the
    response it produced. The unique constraint is what makes concurrent duplicates safe: the
    second insert waits for the first transaction and then fails, so only one request runs."""

    key = models.CharField(max_length=255)
    api_key = models.ForeignKey(ApiKey, on_delete=models.SET_NULL, null=True, related_name="+")
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_hash = models.CharField(max_length=64)
    state = models.CharField(
        max_length=12, choices=IdempotencyState.choices, default=IdempotencyState.IN_PROGRESS
    )
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="idempotency_org_key_uniq")
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_idx")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"


class WebhookEvent(models.TextChoices):
    FEEDBACK_STATUS_CHANGED = "feedback.status_changed", "Feedback status changed"
    THEME_STATUS_CHANGED = "theme.status_changed", "Theme status changed"
    ROADMAP_ITEM_CHANGED = "roadmap_item.changed", "Roadmap item tier or quarter changed"
    RELEASE_SHIPPED = "release.shipped", "Release shipped"
    COMMITMENT_AT_RISK = "commitment.at_risk", "Commitment at risk"


class WebhookEndpoint(TenantModel):
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list)
    secret = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        "alignment.Membership", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Health, so a failing endpoint is visible and never silent.
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["organization", "is_active"], name="webhook_ep_org_idx")]

    def __str__(self) -> str:
        return self.url


class WebhookDeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERING = "delivering", "Delivering"
    SUCCEEDED = "succeeded", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(TenantModel):
    """One event for one endpoint. Written in the same transaction as the change; a worker
    claims it with a conditional UPDATE, so a delivery is attempted by one worker at a time
    and a succeeded delivery is never sent again (redeliver makes a new attempt on purpose)."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.UUIDField()
    event_type = models.CharField(max_length=40, choices=WebhookEvent.choices)
    payload = models.JSONField()
    status = models.CharField(
        max_length=12, choices=WebhookDeliveryStatus.choices, default=WebhookDeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "endpoint", "event_id"], name="webhook_delivery_uniq"
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "endpoint", "-created_at"], name="webhook_delivery_log_idx"
            ),
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status__in=["pending", "delivering"]),
                name="webhook_delivery_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} to {self.endpoint_id}"


class WebhookAttempt(TenantModel):
    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    attempted_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["organization", "delivery", "-attempted_at"], name="webhook_att_idx"
            )
        ]

    def __str__(self) -> str:
        return f"attempt on delivery {self.delivery_id}"
