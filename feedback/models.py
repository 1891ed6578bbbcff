"""Feedback, themes and the taxonomy's categories.

A feedback is one signal from one account. Until a PM puts it into a theme it is ``new`` and
its triage clock runs (``due_at``, ``remind_at``); putting it into a theme acknowledges it.
A theme's status is what CSMs may repeat to customers. Impact figures are stored on both and
kept current by the services, so the hot pages sort on indexed columns instead of computing.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from alignment.tenancy import TenantModel

NEW = "new"


class Source(models.TextChoices):
    CALL = "call", "Call"
    QBR = "qbr", "QBR"
    TICKET = "ticket", "Support ticket"
    NPS = "nps", "NPS"
    EMAIL = "email", "Email"
    BETA = "beta", "Beta"
    ADVISORY_BOARD = "advisory_board", "Advisory board"
    API = "api", "API"


class Urgency(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    BLOCKER = "blocker", "Blocking a renewal or rollout"


class ThemeStatus(models.TextChoices):
    UNDER_REVIEW = "under_review", "Under review"
    NOT_PLANNED = "not_planned", "Not planned"
    ON_ROADMAP = "on_roadmap", "On the roadmap"
    SHIPPED = "shipped", "Shipped"
    ARCHIVED = "archived", "Archived"


class Category(TenantModel):
    """The kind of signal (feature request, bug, ...). CS Ops edits the list."""

    name = models.CharField(max_length=80)
    description = models.CharField(max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint("organization", Lower("name"), name="category_org_name_uniq")
        ]
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Theme(TenantModel):
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    product_area = models.ForeignKey(
        "alignment.ProductArea",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="themes",
    )
    category = models.ForeignKey(
        Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="themes"
    )
    status = models.CharField(
        max_length=16, choices=ThemeStatus.choices, default=ThemeStatus.UNDER_REVIEW
    )
    not_planned_reason = models.TextField(blank=True)
    roadmap_item = models.ForeignKey(
        "roadmap.RoadmapItem",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="themes",
    )
    created_by = models.ForeignKey(
        "alignment.Membership", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="merged_from"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    status_changed_at = models.DateTimeField(default=timezone.now)
    archived_at = models.DateTimeField(null=True, blank=True)
    archived_by_purge = models.BooleanField(default=False)
    status_before_archive = models.CharField(max_length=16, blank=True)
    # Stored impact, recomputed by the services when its inputs change.
    impact_score = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    arr_at_risk = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    account_count = models.PositiveIntegerField(default=0)
    feedback_count = models.PositiveIntegerField(default=0)
    impact_breakdown = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["organization", "-impact_score", "id"], name="theme_org_impact_idx"
            ),
            models.Index(
                fields=["organization", "status", "-impact_score", "id"],
                name="theme_org_status_idx",
            ),
            models.Index(
                fields=["organization", "product_area", "-impact_score", "id"],
                name="theme_org_area_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="not_planned") | ~models.Q(not_planned_reason=""),
                name="theme_not_planned_needs_reason",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="on_roadmap") | models.Q(roadmap_item__isnull=False),
                name="theme_on_roadmap_needs_item",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Feedback(TenantModel):
    account = models.ForeignKey(
        "alignment.Account", on_delete=models.PROTECT, related_name="feedback"
    )
    verbatim = models.TextField("customer's words")
    job_to_be_done = models.TextField("job to be done", blank=True)
    workaround = models.TextField("workaround today", blank=True)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.CALL)
    product_area = models.ForeignKey(
        "alignment.ProductArea",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="feedback",
    )
    category = models.ForeignKey(
        Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="feedback"
    )
    urgency = models.CharField(max_length=10, choices=Urgency.choices, default=Urgency.MEDIUM)
    answer_needed_by = models.DateField(null=True, blank=True)
    logged_by = models.ForeignKey(
        "alignment.Membership", on_delete=models.SET_NULL, null=True, related_name="logged_feedback"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    theme = models.ForeignKey(
        Theme, on_delete=models.SET_NULL, null=True, blank=True, related_name="feedback"
    )
    triaged_at = models.DateTimeField(null=True, blank=True)
    triaged_by = models.ForeignKey(
        "alignment.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The triage clock (business days in the organization's calendar; see feedback/sla.py).
    due_at = models.DateTimeField()
    remind_at = models.DateTimeField()
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    breach_notified_at = models.DateTimeField(null=True, blank=True)
    impact_score = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    impact_breakdown = models.JSONField(default=dict, blank=True)
    # The closed loop: the CSM told the customer what the status was at that moment.
    customer_told_at = models.DateField(null=True, blank=True)
    customer_told_status = models.CharField(max_length=16, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    beta = models.ForeignKey(
        "roadmap.BetaProgram",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="feedback",
        help_text="Set when the signal came from a beta program.",
    )

    class Meta:
        indexes = [
            models.Index(
                fields=["organization", "product_area", "-impact_score", "id"],
                condition=models.Q(theme__isnull=True, archived_at__isnull=True),
                name="feedback_queue_area_idx",
            ),
            models.Index(
                fields=["organization", "-impact_score", "id"],
                condition=models.Q(theme__isnull=True, archived_at__isnull=True),
                name="feedback_queue_all_idx",
            ),
            models.Index(
                fields=["remind_at"],
                condition=models.Q(
                    triaged_at__isnull=True, reminder_sent_at__isnull=True, archived_at__isnull=True
                ),
                name="feedback_remind_due_idx",
            ),
            models.Index(
                fields=["due_at"],
                condition=models.Q(
                    triaged_at__isnull=True,
                    breach_notified_at__isnull=True,
                    archived_at__isnull=True,
                ),
                name="feedback_breach_due_idx",
            ),
            models.Index(
                fields=["organization", "logged_by", "-created_at"], name="feedback_org_logger_idx"
            ),
            models.Index(fields=["organization", "theme"], name="feedback_org_theme_idx"),
            models.Index(fields=["organization", "account"], name="feedback_org_account_idx"),
        ]

    def __str__(self) -> str:
        return self.verbatim[:80]

    @property
    def status(self) -> str:
        """What the customer's request stands at: ``new`` until triaged, then its theme's."""
        return self.theme.status if self.theme_id and self.theme else NEW

    @property
    def loop_open(self) -> bool:
        """The CSM has not yet told the customer about the current status."""
        return self.status != NEW and self.customer_told_status != self.status


class ThemeEvent(TenantModel):
    """A theme's history: created, status changes, merges, feedback attached and detached."""

    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=30)
    actor = models.ForeignKey(
        "alignment.Membership", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "theme", "-created_at"], name="theme_event_idx")
        ]

    def __str__(self) -> str:
        return f"{self.kind} on theme {self.theme_id}"
