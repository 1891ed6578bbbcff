"""The roadmap side of the seam: items with certainty tiers and their history, customer
commitments with PM sign-off, releases with CS briefs, escalations with computed severity,
and beta programs. Every table carries the organization (see alignment/tenancy.py)."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils import timezone

from alignment.tenancy import TenantModel


class Tier(models.TextChoices):
    COMMITTED = "committed", "Committed"
    PLANNED = "planned", "Planned"
    EXPLORING = "exploring", "Exploring"


class Delivery(models.TextChoices):
    DISCOVERY = "discovery", "Discovery"
    IN_DEVELOPMENT = "in_development", "In development"
    BETA = "beta", "Beta"
    GA = "ga", "GA"
    SHIPPED = "shipped", "Shipped"
    CANCELLED = "cancelled", "Cancelled"


class Visibility(models.TextChoices):
    PUBLIC = "public", "Public"
    NDA = "nda", "Strategic accounts under NDA"
    INTERNAL = "internal", "Internal"


class RoadmapItem(TenantModel):
    title = models.CharField(max_length=200)
    problem = models.TextField("problem it solves", blank=True)
    product_area = models.ForeignKey(
        "alignment.ProductArea", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    pm = models.ForeignKey(
        "alignment.Membership",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="owning PM",
    )
    dev_owner = models.CharField("development owner", max_length=150, blank=True)
    tier = models.CharField(max_length=12, choices=Tier.choices, default=Tier.EXPLORING)
    target_quarter = models.CharField(max_length=7, blank=True, help_text="e.g. 2027-Q1")
    delivery_status = models.CharField(
        max_length=16, choices=Delivery.choices, default=Delivery.DISCOVERY
    )
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.INTERNAL
    )
    signed_off_by = models.ForeignKey(
        "alignment.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    signed_off_at = models.DateTimeField(null=True, blank=True)
    signoff_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["organization", "tier", "target_quarter"], name="roadmap_org_tier_idx"
            )
        ]
        constraints = [
            # Committed means someone builds it, by when, and a PM signed it off in writing.
            models.CheckConstraint(
                condition=~models.Q(tier="committed")
                | (
                    ~models.Q(dev_owner="")
                    & ~models.Q(target_quarter="")
                    & models.Q(signed_off_by__isnull=False)
                    & models.Q(signed_off_at__isnull=False)
                ),
                name="roadmap_committed_requirements",
            )
        ]

    def __str__(self) -> str:
        return self.title


class RoadmapItemEvent(TenantModel):
    """An item's history: tier, quarter and delivery changes, sign-off. The monthly briefing
    and the slip notices read it; nothing about a promise changes without a row here."""

    item = models.ForeignKey(RoadmapItem, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=30)
    actor = models.ForeignKey(
        "alignment.Membership", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "item", "-created_at"], name="roadmap_event_idx"),
            models.Index(fields=["organization", "-created_at"], name="roadmap_event_org_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on item {self.item_id}"


class CommitmentStatus(models.TextChoices):
    REQUESTED = "requested", "Awaiting PM sign-off"
    APPROVED = "approved", "Approved"
    DECLINED = "declined", "Declined"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Commitment(TenantModel):
    """A CSM's request to tell one named account something about one roadmap item.

    Nothing is quotable until the owning PM approves it with the exact wording. When the item
    slips, drops a tier or is cancelled, an approved commitment is flagged at risk until the
    CSM records how the customer was told.
    """

    account = models.ForeignKey(
        "alignment.Account", on_delete=models.PROTECT, related_name="commitments"
    )
    item = models.ForeignKey(RoadmapItem, on_delete=models.PROTECT, related_name="commitments")
    requested_by = models.ForeignKey(
        "alignment.Membership", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    context = models.TextField("conversation context")
    conversation_date = models.DateField()
    proposed_wording = models.TextField("what the CSM would like to say", blank=True)
    include_quarter = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=CommitmentStatus.choices, default=CommitmentStatus.REQUESTED
    )
    approved_wording = models.TextField(blank=True)
    decline_reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        "alignment.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # What the promise rested on when it was approved; a slip is measured against these.
    tier_at_approval = models.CharField(max_length=12, blank=True)
    quarter_at_approval = models.CharField(max_length=7, blank=True)
    at_risk_since = models.DateTimeField(null=True, blank=True)
    at_risk_reason = models.TextField(blank=True)
    customer_informed_at = models.DateField(null=True, blank=True)
    customer_informed_note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "item", "status"], name="commitment_item_idx"),
            models.Index(fields=["organization", "account"], name="commitment_account_idx"),
            models.Index(
                fields=["organization", "requested_by", "-created_at"],
                name="commitment_csm_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="approved") | ~models.Q(approved_wording=""),
                name="commitment_approved_needs_wording",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="declined") | ~models.Q(decline_reason=""),
                name="commitment_declined_needs_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"Commitment on {self.item_id} for account {self.account_id}"

    @property
    def is_at_risk(self) -> bool:
        return self.at_risk_since is not None


class ReleaseStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ANNOUNCED = "announced", "Announced to CS"
    SHIPPED = "shipped", "Shipped"


class Release(TenantModel):
    """What ships and when. A customer-facing release reaches CS at least 14 days ahead with a
    CS brief; announcing later needs a recorded reason. Shipping closes the loop."""

    name = models.CharField(max_length=200)
    release_date = models.DateField()
    customer_facing = models.BooleanField(default=True)
    status = models.CharField(
        max_length=10, choices=ReleaseStatus.choices, default=ReleaseStatus.DRAFT
    )
    # The CS brief.
    messaging = models.TextField("approved messaging", blank=True)
    talking_points = models.TextField(blank=True)
    do_not_say = models.TextField("what not to say", blank=True)
    announced_at = models.DateTimeField(null=True, blank=True)
    announced_by = models.ForeignKey(
        "alignment.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    late_notice_reason = models.TextField(blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    shipped_by = models.ForeignKey(
        "alignment.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        "alignment.Membership", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    items = models.ManyToManyField(RoadmapItem, through="ReleaseItem", related_name="releases")

    class Meta:
        indexes = [
            models.Index(fields=["organization", "release_date"], name="release_date_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class ReleaseItem(TenantModel):
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="release_items")
    item = models.ForeignKey(RoadmapItem, on_delete=models.PROTECT, related_name="release_items")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "release", "item"], name="release_item_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.item_id} in release {self.release_id}"


class Severity(models.TextChoices):
    P1 = "P1", "P1 · revenue at risk"
    P2 = "P2", "P2 · widespread"
    P3 = "P3", "P3 · isolated"


class EscalationStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    IN_DEVELOPMENT = "in_development", "In development"
    RESOLVED = "resolved", "Resolved"


class Escalation(TenantModel):
    """A support issue pushed to Product with ARR context.

    ``computed_severity`` is what the rules say (with ``severity_reasons`` explaining it);
    ``severity`` is what applies, equal to the computed one unless a PM overrode it with a
    recorded reason. The response clock (``due_at``) follows the applied severity.
    """

    title = models.CharField(max_length=200)
    ticket_ref = models.CharField("ticket reference", max_length=100, blank=True)
    description = models.TextField(blank=True)
    customer_cited = models.BooleanField(
        "the customer cited it", default=False, help_text="In a renewal or escalation call."
    )
    product_area = models.ForeignKey(
        "alignment.ProductArea", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    pm = models.ForeignKey(
        "alignment.Membership",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="owning PM",
    )
    raised_by = models.ForeignKey(
        "alignment.Membership", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    accounts = models.ManyToManyField(
        "alignment.Account", through="EscalationAccount", related_name="escalations"
    )
    computed_severity = models.CharField(max_length=2, choices=Severity.choices)
    severity = models.CharField(max_length=2, choices=Severity.choices)
    severity_reasons = models.JSONField(default=list, blank=True)
    override_reason = models.TextField(blank=True)
    overridden_by = models.ForeignKey(
        "alignment.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    affected_arr = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    affected_account_count = models.PositiveIntegerField(default=0)
    status = models.CharField(
        max_length=16, choices=EscalationStatus.choices, default=EscalationStatus.OPEN
    )
    due_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)
    breach_notified_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["organization", "status", "severity", "-affected_arr"],
                name="escalation_review_idx",
            ),
            models.Index(
                fields=["due_at"],
                condition=models.Q(responded_at__isnull=True, breach_notified_at__isnull=True),
                name="escalation_breach_due_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(severity=models.F("computed_severity"))
                | ~models.Q(override_reason=""),
                name="escalation_override_needs_reason",
            )
        ]

    def __str__(self) -> str:
        return self.title


class EscalationAccount(TenantModel):
    escalation = models.ForeignKey(
        Escalation, on_delete=models.CASCADE, related_name="escalation_accounts"
    )
    account = models.ForeignKey(
        "alignment.Account", on_delete=models.PROTECT, related_name="escalation_links"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "escalation", "account"], name="escalation_account_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_id} in escalation {self.escalation_id}"


class BetaStatus(models.TextChoices):
    OPEN = "open", "Running"
    CLOSED = "closed", "Closed"


class BetaProgram(TenantModel):
    """A beta for one roadmap item. Closing it needs a retrospective sent to every
    participant's CSM; at GA the participants' CSMs hear first."""

    item = models.ForeignKey(RoadmapItem, on_delete=models.PROTECT, related_name="betas")
    name = models.CharField(max_length=200)
    cs_owner = models.ForeignKey(
        "alignment.Membership",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="CS owner",
    )
    pm = models.ForeignKey(
        "alignment.Membership",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="PM attending feedback sessions",
    )
    status = models.CharField(max_length=8, choices=BetaStatus.choices, default=BetaStatus.OPEN)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    retro_actioned = models.TextField("what was actioned", blank=True)
    retro_not_actioned = models.TextField("what was not actioned", blank=True)
    retro_why = models.TextField("why", blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        "alignment.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["organization", "item"], name="beta_item_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="closed")
                | (
                    ~models.Q(retro_actioned="")
                    & ~models.Q(retro_not_actioned="")
                    & ~models.Q(retro_why="")
                ),
                name="beta_closed_needs_retro",
            )
        ]

    def __str__(self) -> str:
        return self.name


class SelectionReason(models.TextChoices):
    HEALTH = "health", "Healthy account"
    ARR = "arr", "Strategic ARR"
    ADVOCACY = "advocacy", "Advocate"
    NEED = "need", "Asked for it"


class BetaParticipant(TenantModel):
    beta = models.ForeignKey(BetaProgram, on_delete=models.CASCADE, related_name="participants")
    account = models.ForeignKey(
        "alignment.Account", on_delete=models.PROTECT, related_name="beta_participations"
    )
    reason = models.CharField(max_length=10, choices=SelectionReason.choices)
    note = models.CharField(max_length=300, blank=True)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "beta", "account"], name="beta_participant_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_id} in beta {self.beta_id}"
