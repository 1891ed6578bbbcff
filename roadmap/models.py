"""Roadmap items with certainty tiers. The roadmap issue adds commitments, releases,
escalations and betas beside it; the item's shape is final so themes can link to it now."""

from __future__ import annotations

from django.db import models

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
